"""A model set's engine_defaults fill what a recipe leaves out, before the engine's own defaults;
a set without them compiles as before, and a YAML that has them wrong stops the recipe (exit 2)."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.cli import app
from styleclip_dsl.exit_codes import ExitCode


def _set(tmp_path: Path, monkeypatch, name: str, engine_defaults: str) -> Path:
    """A model set with only a name and engine_defaults, found by name in $STYLECLIP_CACHE/modelsets."""
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "modelsets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(f"schema: 1\nname: {name}\nengine_defaults: {engine_defaults}\n")
    return path


def test_model_set_defaults_come_before_the_engines(tmp_path, monkeypatch) -> None:
    _set(tmp_path, monkeypatch, "mine", "{global: {alpha: 3, keep: 'a,b'}, optimize: {steps: 50}}")
    plan, diagnostics = compile_recipe(
        "use mine; generate seed=1; global 'smile'; global 'smile' alpha=5; optimize 'smile'")
    assert plan is not None, diagnostics
    edits = [s for s in plan.steps if s.kind == "edit"]
    assert edits[0].edits[0].params["alpha"] == 3.0 and edits[0].edits[0].params["keep"] == "a, b"
    assert edits[0].edits[0].params["beta"] == 0.15  # not in the YAML: the engine's default
    assert edits[1].edits[0].params["alpha"] == 5.0  # the recipe wins
    assert edits[2].edits[0].params["steps"] == 50
    # the same recipe on a set without overrides: the engines' defaults, as before
    _set(tmp_path, monkeypatch, "plain", "{}")
    plain, _ = compile_recipe("use plain; generate seed=1; global 'smile'")
    assert plain is not None and plain.steps[-1].edits[0].params["alpha"] == 4.1  # type: ignore[attr-defined]


def test_an_override_changes_only_the_parameter_it_names(tmp_path, monkeypatch) -> None:
    _set(tmp_path, monkeypatch, "plain", "{}")
    _set(tmp_path, monkeypatch, "tuned", "{mapper: {strength: 2}}")
    plain, _ = compile_recipe("use plain; generate seed=1; global 'smile'; mapper 'smile'", overrides={})
    tuned, _ = compile_recipe("use tuned; generate seed=1; global 'smile'; mapper 'smile'")
    assert plain is not None and tuned is not None
    assert tuned.steps[-1].edits[0].params["strength"] == 2.0  # type: ignore[attr-defined]
    assert plain.steps[-1].edits[0].params["strength"] == 1.0  # type: ignore[attr-defined]
    # the model set name enters every hash, so compare the parameters the plans carry instead
    assert plain.steps[1].edits[0].params == tuned.steps[1].edits[0].params  # type: ignore[attr-defined]


def test_a_yaml_with_wrong_engine_defaults_is_a_recipe_error_naming_it(tmp_path, monkeypatch) -> None:
    path = _set(tmp_path, monkeypatch, "broken", "{global: {beta: -1}}")
    plan, diagnostics = compile_recipe("use broken; generate seed=1; global 'smile'")
    assert plan is None
    (problem,) = [d for d in diagnostics if d.is_error]
    assert problem.code == "E-modelset-defaults" and str(path) in problem.message
    assert "engine_defaults.global.beta" in problem.message and problem.span.line == 1
    recipe = tmp_path / "r.sc"
    recipe.write_text("use broken\ngenerate seed=1\nglobal 'smile'\n")
    result = CliRunner().invoke(app, ["plan", str(recipe)])
    assert result.exit_code == ExitCode.INVALID, result.output
    assert "engine_defaults.global.beta" in result.output


def test_a_recipe_value_that_breaks_a_rule_with_a_set_default_is_an_error(tmp_path, monkeypatch) -> None:
    _set(tmp_path, monkeypatch, "masked", "{optimize: {space: s, beta: 0.2}}")
    _set(tmp_path, monkeypatch, "plain", "{}")
    plan, _ = compile_recipe("use masked; generate seed=1; optimize 'smile'")
    assert plan is not None and plan.steps[-1].edits[0].params["beta"] == 0.2  # type: ignore[attr-defined]
    plan, _ = compile_recipe("use masked; generate seed=1; optimize 'smile' beta=0.3")  # space=s from the set
    assert plan is not None and plan.steps[-1].edits[0].params["space"] == "s"  # type: ignore[attr-defined]
    plan, diagnostics = compile_recipe("use masked; generate seed=1; optimize 'smile' space=wplus")
    assert plan is None
    (problem,) = [d for d in diagnostics if d.is_error]
    assert problem.code == "E-beta-needs-s" and "the model set's default beta is 0.2" in problem.message
    assert problem.span.column == len("use masked; generate seed=1; optimize 'smile' ") + 1  # at space=
    plan, _ = compile_recipe("use masked; generate seed=1; optimize 'smile' space=wplus beta=0")
    assert plan is not None
    plan, diagnostics = compile_recipe("use plain; generate seed=1; optimize 'smile' beta=0.3")
    assert plan is None and [d.code for d in diagnostics if d.is_error] == ["E-beta-needs-s"]


def test_a_prompts_own_defaults_win_over_the_engine_wide_ones(tmp_path, monkeypatch) -> None:
    """``engine_defaults.<engine>.prompts``: the settings that work for one text on a set; matched
    whatever the case and spacing, below a recipe's own values, above the engine-wide defaults."""
    _set(tmp_path, monkeypatch, "tuned",
         "{mapper: {strength: 4, prompts: {purple hair: {strength: 1.25}}},"
         " global: {alpha: 3, prompts: {'Smile': {alpha: 2, keep: 'a beard,glasses'}}}}")
    plan, diagnostics = compile_recipe(
        "use tuned; generate seed=1; mapper 'purple hair'; mapper 'Purple  Hair'; mapper 'bald';"
        " mapper 'purple hair' strength=3; global 'smile'; global 'beard'")
    assert plan is not None, diagnostics
    entries = [s.edits[0] for s in plan.steps if s.kind == "edit"]  # type: ignore[attr-defined]
    assert [e.params["strength"] for e in entries[:4]] == [1.25, 1.25, 4.0, 3.0]
    assert entries[4].params["alpha"] == 2.0 and entries[4].params["keep"] == "a beard, glasses"
    assert entries[4].params["beta"] == 0.15  # neither the prompt nor the engine-wide entry names it
    assert entries[5].params["alpha"] == 3.0 and entries[5].params["keep"] == ""
    assert entries[0].origins["strength"] == "prompt" and entries[2].origins["strength"] == "modelset"
    assert "strength" not in entries[3].origins
    from styleclip_dsl.default_origins import default_origin_lines

    lines = default_origin_lines(plan)
    assert "mapper 'purple hair': strength=1.25 from model set tuned for this prompt" in lines
    assert any(line.startswith("mapper: strength=4.0 from model set tuned") for line in lines)


def test_a_prompts_defaults_are_checked_against_the_engine_and_its_rules(tmp_path, monkeypatch) -> None:
    path = _set(tmp_path, monkeypatch, "broken", "{global: {prompts: {smile: {alphaa: 2}}}}")
    plan, diagnostics = compile_recipe("use broken; generate seed=1; global 'beard'")
    assert plan is None
    (problem,) = [d for d in diagnostics if d.is_error]
    assert problem.code == "E-modelset-defaults" and str(path) in problem.message
    assert "engine_defaults.global.prompts.smile: unknown parameter 'alphaa'" in problem.message
    # a prompt's beta on a set whose optimize is in W+ breaks the mask rule, named at the prompt
    _set(tmp_path, monkeypatch, "rule", "{optimize: {space: wplus, prompts: {beard: {beta: 0.2}}}}")
    plan, diagnostics = compile_recipe("use rule; generate seed=1; optimize 'beard'")
    assert plan is None
    (problem,) = [d for d in diagnostics if d.is_error]
    assert "engine_defaults.optimize.prompts.beard" in problem.message


def test_the_rules_read_the_prompts_own_default(tmp_path, monkeypatch) -> None:
    """The checker holds a recipe's value against the prompt's default, not only the engine-wide one."""
    _set(tmp_path, monkeypatch, "masked", "{optimize: {space: s, beta: 0, prompts: {smile: {beta: 0.3}}}}")
    plan, _ = compile_recipe("use masked; generate seed=1; optimize 'beard' space=wplus")
    assert plan is not None  # beard: beta 0 from the engine-wide entry, W+ is fine
    plan, diagnostics = compile_recipe("use masked; generate seed=1; optimize 'smile' space=wplus")
    assert plan is None
    (problem,) = [d for d in diagnostics if d.is_error]
    assert problem.code == "E-beta-needs-s" and "default beta is 0.3" in problem.message
