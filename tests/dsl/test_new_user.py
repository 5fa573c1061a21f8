"""Rough edges a new user meets (#24 item 5): `.1` is a number, `layers=mid` gets a did-you-mean, a
recipe that saves nothing is warned about, and `styleclip run photo.png` says it wanted a recipe."""
from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from styleclip_dsl.api import check, compile_recipe
from styleclip_dsl.cli import app


def invoke(args: list[str], cwd: Path):
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    finally:
        os.chdir(old)


def test_numbers_may_start_with_a_point_and_ranges_still_parse() -> None:
    plan, diagnostics = compile_recipe("generate seed=1\nglobal 'x' alpha=.5 beta=.1..0.3 count 3\n"
                                       "then global 'y' alpha=-.25\nsave o/{beta}.png\n")
    assert diagnostics == [] and plan is not None
    first, second = (s for s in plan.steps if s.kind == "edit")
    assert first.edits[0].params["alpha"] == 0.5 and first.sweep.values == (0.1, 0.2, 0.3)
    assert second.edits[0].params["alpha"] == -0.25


def test_layers_mid_suggests_medium() -> None:
    _, [d] = check("generate seed=1\nglobal 'x' layers=mid\n")
    assert d.code == "E-range" and d.hint == "did you mean 'medium'?"


def test_a_recipe_that_saves_nothing_warns(tmp_path) -> None:
    (tmp_path / "r.sc").write_text("generate seed=1\nglobal 'smile'\n")
    result = invoke(["check", "r.sc"], tmp_path)
    assert result.exit_code == 0
    assert "r.sc:2:1: warning: the recipe saves nothing" in result.output and "ok, 1 warning" in result.output
    (tmp_path / "s.sc").write_text("generate seed=1\nglobal 'smile'\nsave o.png\n")
    assert "warning" not in invoke(["check", "s.sc"], tmp_path).output
    # the REPL and the notebook show results, so the API itself does not warn
    assert check("generate seed=1\nglobal 'smile'\n")[1] == []


def test_run_of_an_image_says_it_expected_a_recipe(tmp_path) -> None:
    result = invoke(["run", "photo.png"], tmp_path)
    assert result.exit_code == 2
    assert "photo.png: error: this is an image; `styleclip run` expects a recipe" in result.output
    assert "invert photo.png;" in result.output
