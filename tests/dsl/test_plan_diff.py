"""`styleclip diff` and plan_diff: a change reads as what changed, not as a removal plus an addition,
and a step that only reruns because of its input says so."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.cli import app
from styleclip_dsl.plan_diff import diff_plans

runner = CliRunner()

BASE = """\
use toon
seed 7
invert photos/a.png as me  # a comment
apply 'beard' via global alpha=2
then mapper 'smile' strength=3
save out/{name}.png
global 'bald' alpha=1
save grid out/bald.png
"""


def plan_of(text: str, **sets: str) -> dict:
    plan, diagnostics = compile_recipe(text, "r.sc", sets)
    assert plan is not None, diagnostics
    return plan.to_dict()


def by_line(diff) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Line in the second recipe -> (status, details); removed steps are left out."""
    return {c.new["span"]["line"]: (c.status, c.details) for c in diff.steps if c.new is not None}


def test_formatting_comments_and_spelled_out_defaults_change_nothing() -> None:
    other = BASE.replace("  # a comment", "").replace("alpha=2", "alpha=2.0 beta=0.15 neutral='a face'")
    result = diff_plans(plan_of(BASE), plan_of(other))
    assert result.identical and result.count("same") == 6


def test_a_parameter_change_is_one_changed_step_and_its_dependents_rerun() -> None:
    result = diff_plans(plan_of(BASE), plan_of(BASE.replace("alpha=2", "alpha=3")))
    lines = by_line(result)
    assert lines[4] == ("changed", ("alpha 2 -> 3",))
    assert lines[5][0] == "upstream" and "line 4" in lines[5][1][0]   # the mapper follows the changed edit
    assert lines[6][0] == "upstream"                                  # so does the save after it
    assert lines[3][0] == lines[7][0] == lines[8][0] == "same"       # the source and the other branch do not
    assert not result.identical


def test_steps_are_paired_by_what_they_are_not_by_position() -> None:
    # a new edit inserted before the others, a renamed output, a removed branch
    new = BASE.replace("global 'bald' alpha=1\nsave grid out/bald.png\n", "") \
              .replace("apply 'beard' via global alpha=2", "apply 'glasses' via mapper\nthen global 'beard' alpha=2") \
              .replace("save out/{name}.png", "save out/{name}_v2.png")
    result = diff_plans(plan_of(BASE), plan_of(new))
    removed = sorted(c.old["span"]["line"] for c in result.steps if c.status == "removed")
    lines = by_line(result)
    assert lines[4] == ("added", ())                     # the 'glasses' mapper is new
    assert lines[5] == ("changed", ("its input is now line 4 (mapper 'glasses') (was line 3 (invert me))",))
    assert lines[6] == ("upstream", ("line 5 (global 'beard') changed",))
    assert lines[7] == ("changed", ("path 'out/{name}.png' -> 'out/{name}_v2.png'",))
    assert removed == [7, 8]                              # the 'bald' branch


def test_a_text_added_to_a_fused_global_edit_reads_as_such() -> None:
    new = BASE.replace("apply 'beard' via global alpha=2", "apply 'beard' via global alpha=2\nthen global 'glasses'")
    plan = plan_of(new)
    assert [e["text"] for e in plan["steps"][1]["edits"]] == ["beard", "glasses"]  # the compiler fused them
    assert by_line(diff_plans(plan_of(BASE), plan))[4] == ("changed", ("adds 'glasses'",))


def test_a_new_seed_reruns_every_source_and_says_why() -> None:
    result = diff_plans(plan_of(BASE), plan_of(BASE, seed="8"))
    assert result.settings == ("seed 7 -> 8",)
    assert by_line(result)[3] == ("upstream", ("seed 7 -> 8",))
    assert result.count("upstream") == 6


def test_sweeps_and_texts_are_described() -> None:
    new = BASE.replace("global 'bald' alpha=1", "global 'bald hair' alpha=0..4 count 3")
    line = by_line(diff_plans(plan_of(BASE), plan_of(new)))[7]
    # toon's own beta for 'bald' (engine_defaults.global.prompts) does not follow the text to 'bald hair'
    assert line == ("changed", ("text 'bald' -> 'bald hair'", "alpha 1 -> 0", "beta 0.25 -> 0.15",
                                "now sweeps alpha over [0, 2, 4]"))


def test_cli_reads_recipes_plans_and_run_json_with_diff_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "a.sc").write_text(BASE)
    (tmp_path / "b.sc").write_text(BASE.replace("strength=3", "strength=2"))
    (tmp_path / "a.plan.json").write_text(json.dumps(plan_of(BASE)))
    run_json = {"plan": plan_of(BASE.replace("strength=3", "strength=2")), "models": {"generator": "aa" * 32},
                "versions": {"torch": "2.14.1"}}
    (tmp_path / "run.json").write_text(json.dumps(run_json))
    run2 = dict(run_json, models={"generator": "bb" * 32}, versions={"torch": "2.15.0"})
    (tmp_path / "run2.json").write_text(json.dumps(run2))

    same = runner.invoke(app, ["diff", str(tmp_path / "a.sc"), str(tmp_path / "a.plan.json")])
    assert same.exit_code == 0, same.output
    changed = runner.invoke(app, ["diff", str(tmp_path / "a.sc"), str(tmp_path / "b.sc"), "--json"])
    assert changed.exit_code == 1
    data = json.loads(changed.stdout)
    assert data["counts"]["changed"] == 1 and data["counts"]["upstream"] == 1
    assert [s["details"] for s in data["steps"] if s["status"] == "changed"] == [["strength 3 -> 2"]]
    # the same plan run with other model files and versions is not the same run
    env = runner.invoke(app, ["diff", str(tmp_path / "run.json"), str(tmp_path / "run2.json")])
    assert env.exit_code == 1
    assert "model file generator: aaaaaaaaaaaa -> bbbbbbbbbbbb" in env.stdout and "torch: 2.14.1 -> 2.15.0" in env.stdout
    (tmp_path / "bad.sc").write_text("invert a.png\nglobal 'x' bta=1\n")
    bad = runner.invoke(app, ["diff", str(tmp_path / "a.sc"), str(tmp_path / "bad.sc")])
    assert bad.exit_code == 2 and "bta" in bad.output


def test_diff_without_results_does_not_import_torch(tmp_path: Path) -> None:
    (tmp_path / "a.sc").write_text(BASE)
    (tmp_path / "b.sc").write_text(BASE.replace("alpha=1", "alpha=2"))
    code = ("import sys\nfrom styleclip_dsl.cli import main\nsys.argv = ['styleclip', 'diff', 'a.sc', 'b.sc']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert 'torch' not in sys.modules; print('rc', e.code)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "rc 1" in out.stdout, out.stderr
