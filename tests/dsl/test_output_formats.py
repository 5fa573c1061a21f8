"""Output files are written in the format their extension names, so an extension no writer has is an
error at check time; `save animation` takes duration=, size=, labels=, pingpong= (in the plan, all)."""
from __future__ import annotations

import json

import pytest

from styleclip_dsl.api import check, compile_recipe, format_recipe, parse

SWEEP = "generate seed=1\nglobal 'smile' alpha=0..4 count 3\n"


@pytest.mark.parametrize("line", [
    "save out/{alpha}.png", "save out/{alpha}.JPG", "save out/{alpha}.jpeg", "save grid g.jpg",
    "save animation a.mp4", "save animation a.gif", "save animation a.webp",
])
def test_writable_extensions_pass(line: str) -> None:
    _, diagnostics = check(SWEEP + line + "\n")
    assert diagnostics == []


@pytest.mark.parametrize("line, column, hint", [
    ("save out/{alpha}.tiff", 6, "an image path ends in .png, .jpg, .jpeg"),
    ("save out/{alpha}", 6, "an image path ends in .png, .jpg, .jpeg"),
    ("save out/{alpha}.gif", 6, "for an animation of a sweep, use `save animation PATH`"),
    ("save grid g.mp4", 11, "for an animation of a sweep, use `save animation PATH`"),
    ("save animation a.mp5", 16, "did you mean '.mp4'?"),
    ("save animation a.png", 16, "for one picture of every frame, use `save grid PATH`"),
])
def test_unwritable_extensions_are_errors(line: str, column: int, hint: str) -> None:
    _, diagnostics = check(SWEEP + line + "\n")
    [d] = diagnostics
    assert (d.code, d.span.line, d.span.column, d.hint) == ("E-output-format", 3, column, hint)
    assert "the format follows the extension" in d.message


def test_animation_parameters_are_checked_and_reach_the_plan() -> None:
    plan, diagnostics = compile_recipe(SWEEP + "save animation a.mp4 duration=0.1 size=128 pingpong=true\n")
    assert diagnostics == [] and plan is not None
    save = json.loads(plan.to_json())["steps"][-1]
    assert save["params"] == {"duration": 0.1, "size": 128, "labels": True, "pingpong": True}
    # image saves carry no params (their hashes are unchanged)
    image, _ = compile_recipe(SWEEP + "save o/{alpha}.png\n")
    assert "params" not in json.loads(image.to_json())["steps"][-1]
    bad = {
        "save animation a.gif fps=10": ("E-unknown-param", "did you mean"),
        "save animation a.gif size=8": ("E-range", None),
        "save animation a.gif duration=0": ("E-range", None),
        "save animation a.gif pingpong=1": ("E-type", None),
        "save animation a.gif size=64..128": ("E-sweep-not-allowed", None),
    }
    for line, (code, hint) in bad.items():
        _, found = check(SWEEP + line + "\n")
        assert [d.code for d in found] == [code], line


def test_animation_parameters_format_and_parse_back() -> None:
    text = SWEEP + "save animation 'my dir/a.gif' duration=0.2 labels=false\n"
    recipe, _ = parse(text)
    formatted = format_recipe(recipe)
    assert "save animation 'my dir/a.gif' duration=0.2 labels=false" in formatted
    assert parse(formatted)[0] == recipe
    # a name after an ordinary path is still the next path, not a parameter
    recipe, diagnostics = parse("invert ada.png bo.png as pair\n")
    assert diagnostics == [] and [p.value for p in recipe.statements[0].paths] == ["ada.png", "bo.png"]


def test_the_checker_counts_fused_edits_in_step_as_the_runtime_does() -> None:
    # two fused branches both reach {step} 2: the second save would overwrite the first
    fused_twice = "generate seed=1\nglobal 'a'\nthen global 'b'\nsave o/{name}_{step}.png\n" \
                  "global 'c'\nthen global 'd'\nsave o/{name}_{step}.png\n"
    _, [d] = check(fused_twice)
    assert d.code == "E-output-collision" and "'o/seed1_2.png'" in d.message
    # a fused branch (step 2) and a one-edit branch (step 1) write different files
    assert check("generate seed=1\nglobal 'a'\nthen global 'b'\nsave o/{name}_{step}.png\n"
                 "mapper 'smile'\nsave o/{name}_{step}.png\n")[1] == []
