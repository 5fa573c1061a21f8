"""Compilation: golden plans, defaults, sweeps, fusion, hashes, overrides."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.defaults import ENGINE_PARAMS
from styleclip_dsl.plan import Plan

GOLDEN = Path(__file__).parent / "golden" / "plans"
RECIPES = sorted(GOLDEN.glob("*.sc"))


def compile_ok(text: str, overrides: dict[str, str] | None = None) -> Plan:
    plan, diagnostics = compile_recipe(text, "r.sc", overrides)
    assert plan is not None, [str(d) for d in diagnostics]
    assert not diagnostics, [str(d) for d in diagnostics]
    return plan


def steps(plan: Plan) -> list[dict]:
    return plan.to_dict()["steps"]


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_golden_plan(recipe: Path):
    """The plan JSON of each golden recipe, as reviewed (UPDATE_GOLDEN=1 rewrites the files)."""
    plan, diagnostics = compile_recipe(recipe.read_text(), recipe.name)
    assert plan is not None and not diagnostics, [str(d) for d in diagnostics]
    actual = plan.to_json(indent=2) + "\n"
    expected_file = recipe.with_suffix(".json")
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(actual)
    assert actual == expected_file.read_text()


def test_defaults_are_filled_from_the_engine_tables():
    # ffhq sets no engine_defaults: the engines' own tables fill everything
    plan = compile_ok("use ffhq\ninvert a.png\nglobal 'x'\nmapper 'y'\noptimize 'z'")
    edits = [s for s in steps(plan) if s["kind"] == "edit"]
    for step in edits:
        table = ENGINE_PARAMS[step["engine"]]
        assert step["edits"][0]["params"] == {name: spec.default for name, spec in table.items()}


def test_toon_fills_its_engine_defaults_before_the_tables():
    from styleclip_runtime.modelsets.registry import find_spec

    own = find_spec("toon").engine_defaults
    assert set(own) == {"global", "mapper", "optimize"}
    plan = compile_ok("invert a.png\nglobal 'x'\nmapper 'y'\noptimize 'z'")
    for step in [s for s in steps(plan) if s["kind"] == "edit"]:
        table = ENGINE_PARAMS[step["engine"]]
        expected = {name: spec.default for name, spec in table.items()} | own[step["engine"]]
        assert step["edits"][0]["params"] == expected


def test_numbers_are_typed_by_the_parameter():
    plan = compile_ok("invert a.png\noptimize 'z' steps=50 lr=1 id=0")
    params = steps(plan)[1]["edits"][0]["params"]
    assert params["steps"] == 50 and isinstance(params["steps"], int)
    assert params["lr"] == 1.0 and isinstance(params["lr"], float)
    assert isinstance(params["id"], float)


def test_apply_branches_from_the_source_and_then_from_the_latest_edit():
    plan = compile_ok("invert a.png\nglobal 'x'\nthen mapper 'y'\nmapper 'z'\nthen optimize 'w'\nsave o/{name}.png")
    inputs = {s["id"]: s.get("input") for s in steps(plan)}
    assert inputs == {"s1": None, "s2": "s1", "s3": "s2", "s4": "s1", "s5": "s4", "s6": "s5"}


def test_sweeps_expand_with_inclusive_ends_and_first_value_in_params():
    plan = compile_ok(
        "invert a.png\nglobal 'x' alpha=0..1 step 0.3\nsave grid g.png\n"
        "global 'y' alpha=1..0 count 3\nsave grid h.png\n"
        "optimize 'z' steps=10..30 step 10\nsave grid i.png"
    )
    edits = [s for s in steps(plan) if s["kind"] == "edit"]
    assert edits[0]["sweep"] == {"param": "alpha", "values": [0.0, 0.3, 0.6, 0.9]}
    assert edits[0]["edits"][0]["params"]["alpha"] == 0.0
    assert edits[1]["sweep"] == {"param": "alpha", "values": [1.0, 0.5, 0.0]}
    assert edits[2]["sweep"] == {"param": "steps", "values": [10, 20, 30]}
    assert all(isinstance(v, int) for v in edits[2]["sweep"]["values"])


def test_generate_seeds():
    plan = compile_ok("generate seeds=2..4\ngenerate seeds=[7, 1] truncation=1 as b\ngenerate seed=5 as c")
    params = [s["params"] for s in steps(plan)]
    assert params == [
        {"seeds": [2, 3, 4], "truncation": 0.7},
        {"seeds": [7, 1], "truncation": 1.0},
        {"seeds": [5], "truncation": 0.7},
    ]
    assert [s["subject"] for s in steps(plan)] == ["samples", "b", "c"]


@pytest.mark.parametrize("pattern, name", [
    ("photo.jpg", "photo"), ("photos/*.png", "photos"), ("*.png", "images"),
    ("in/ada.png", "ada"), ("in/*/x*.png", "in"), ("'my photo.jpg'", "my photo"),
])
def test_subject_names_default_to_the_pattern_stem(pattern, name):
    plan = compile_ok(f"invert {pattern}")
    assert steps(plan)[0]["subject"] == name


def test_fusion_merges_only_unread_sweep_free_global_chains():
    plan = compile_ok(
        "invert a.png\nglobal 'p'\nthen global 'q' alpha=1\nthen global 'r'\n"   # fused into one
        "global 's'\nsave o/{name}.png\nthen global 't'\n"                       # s is saved: no fusion
        "global 'u'\nthen global 'v' alpha=0..1 count 2\nsave grid g.png"        # v sweeps: no fusion
    )
    edits = [(s["id"], s["input"], [e["text"] for e in s["edits"]]) for s in steps(plan) if s["kind"] == "edit"]
    assert edits == [
        ("s2", "s1", ["p", "q", "r"]),
        ("s3", "s1", ["s"]),
        ("s5", "s3", ["t"]),
        ("s6", "s1", ["u"]),
        ("s7", "s6", ["v"]),
    ]
    fused = steps(plan)[1]
    assert fused["edits"][1]["params"]["alpha"] == 1.0
    assert (fused["span"]["line"], fused["span"]["end_line"]) == (2, 4)


def test_hashes_are_stable_and_follow_inputs():
    base = "invert a.png\nglobal 'x' alpha=3\nthen mapper 'y'\nsave o/{name}.png\n"
    first, again = compile_ok(base), compile_ok("# same, other layout\ninvert a.png; global 'x' alpha=3.0\n"
                                                 "then mapper 'y'; save o/{name}.png")
    assert [s.hash for s in first.steps] == [s.hash for s in again.steps]
    changed = compile_ok(base.replace("alpha=3", "alpha=4"))
    same, diff = zip(*[(a.hash == b.hash, a.id) for a, b in zip(first.steps, changed.steps)])
    assert same == (True, False, False, False)      # the source is untouched; all after it change
    reseeded = compile_ok(base, {"seed": "9"})
    assert all(a.hash != b.hash for a, b in zip(first.steps, reseeded.steps))
    assert all(len(s.hash) == 64 for s in first.steps)


def test_overrides_replace_the_recipe_settings():
    plan = compile_ok("use toon\nseed 3\ninvert a.png", {"seed": "12", "modelset": "ffhq", "device": "cuda:1"})
    assert (plan.modelset, plan.seed, plan.device) == ("ffhq", 12, "cuda:1")
    plan = compile_ok("invert a.png", {"use": "ffhq"})
    assert (plan.modelset, plan.seed, plan.device) == ("ffhq", 0, None)


def test_unknown_or_bad_overrides_are_diagnostics():
    plan, diagnostics = compile_recipe("invert a.png", "r.sc", {"sed": "1", "seed": "x"})
    assert plan is None
    assert [(d.code, d.source_name, d.message, d.hint) for d in diagnostics] == [
        ("E-unknown-setting", "--set", "unknown setting 'sed'", "did you mean 'seed'?"),
        ("E-type", "--set", "seed must be an integer from 0 to 4294967295", None),
    ]
    assert diagnostics[0].context == "sed=1"


def test_a_recipe_with_errors_gives_no_plan_and_warnings_do_not_block():
    plan, diagnostics = compile_recipe("invert a.png\nglobal 'x' bta=1")
    assert plan is None and [d.code for d in diagnostics] == ["E-unknown-param"]
    plan, diagnostics = compile_recipe("invert p/*.png\nglobal 'x'\nsave out.png")
    assert plan is not None and [d.severity for d in diagnostics] == ["warning"]
