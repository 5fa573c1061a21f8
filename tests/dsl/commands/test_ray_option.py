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
