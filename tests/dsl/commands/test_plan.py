"""`styleclip plan` shows the diagnostics `check` shows, once, on standard error; the plan stays alone on stdout."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from styleclip_dsl.cli import app


def test_plan_warns_as_check_does_on_stderr_only(tmp_path) -> None:
    recipe = tmp_path / "w.sc"
    recipe.write_text("generate seed=1\nmapper 'smiel'\n")  # saves nothing; no mapper 'smiel' in toon
    planned = CliRunner().invoke(app, ["plan", str(recipe), "--json"])
    checked = CliRunner().invoke(app, ["check", str(recipe), "-q"])
    assert planned.exit_code == 0 and checked.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)  # nothing but the plan on stdout
    assert [s["kind"] for s in plan["steps"]] == ["source", "edit"]
    for stderr in (planned.stderr, checked.stderr):
        assert stderr.count("warning: the recipe saves nothing") == 1, stderr
        assert stderr.count("warning: no mapper for 'smiel'") == 1 and "did you mean 'smile'?" in stderr
    assert planned.stderr == checked.stderr


def test_plan_of_a_golden_path_out_of_the_folder_is_invalid(tmp_path) -> None:
    (tmp_path / "g").symlink_to(tmp_path.parent, target_is_directory=True)
    recipe = tmp_path / "r.sc"
    recipe.write_text("generate seed=1\nexpect golden('g/{name}.png') < 0.1\n")
    planned = CliRunner().invoke(app, ["plan", str(recipe)])
    assert planned.exit_code == 2 and "E-golden-path" not in planned.stdout
    assert "r.sc:2:15: error: golden image 'g/{name}.png' resolves to" in planned.stderr
