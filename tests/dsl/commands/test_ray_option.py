"""`--ray` without Ray installed: a clear error and the install command, before anything runs."""
from __future__ import annotations

import importlib.util

from typer.testing import CliRunner

from styleclip_dsl.cli import app


def test_ray_missing_is_an_install_hint_and_nothing_runs(tmp_path, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.sc").write_text("use toon\ngenerate seed=1\nsave out/a.png\n")
    for command in (["run", "r.sc"], ["test", "r.sc"]):
        result = CliRunner().invoke(app, [*command, "--ray", "local"])
        assert result.exit_code == 2, result.output
        assert "--ray needs Ray" in result.output and "styleclip-dsl[cluster]" in result.output
    assert not (tmp_path / "out").exists()


def test_a_bare_ray_means_a_local_ray_and_an_address_is_kept(tmp_path, monkeypatch) -> None:
    """`--ray` alone is `--ray local` (last, before another option, or before the recipe); `--ray auto`,
    `--ray ray://...`, `--ray HOST:PORT` and `--ray=...` keep their address. Ray is never started: the
    commands' entry points to it are replaced by recorders."""
    from styleclip_dsl.commands import run as run_command
    from styleclip_dsl.commands import test as test_command

    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.sc").write_text("generate seed=1\nsave out/a.png\n")
    got: list[str | None] = []
    monkeypatch.setattr(run_command, "execute", lambda *a, **k: got.append(k["ray"]) or (0, None))
    monkeypatch.setattr(run_command, "_ray_installed", lambda err: True)
    monkeypatch.setattr(test_command, "run_on_ray", lambda recipes, address, *a, **k: got.append(address) or [])
    cases = [(["r.sc", "--ray"], "local"), (["--ray", "r.sc"], "local"), (["r.sc", "--ray", "-q"], "local"),
             (["r.sc", "--ray", "auto"], "auto"), (["--ray", "ray://head:10001", "r.sc"], "ray://head:10001"),
             (["r.sc", "--ray", "10.0.0.5:6379"], "10.0.0.5:6379"), (["r.sc", "--ray=local"], "local"),
             (["r.sc"], None)]
    for args, address in cases:
        got.clear()
        result = CliRunner().invoke(app, ["run", *args])
        assert result.exit_code == 0 and got == [address], (args, result.output)
    for args, address in cases[:2] + cases[3:5]:
        got.clear()
        result = CliRunner().invoke(app, ["test", *args])
        assert got == [address], (args, result.output)  # no results: exit 2 (nothing found), after the call
    assert "[ADDRESS]" in CliRunner().invoke(app, ["run", "--help"]).output
