"""Where a plan's defaults come from: the model set's engine_defaults or the engine's spec
(``styleclip_dsl/default_origins.py``), shown by `plan`, and never part of a step's hash."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.cli import app
from styleclip_dsl.default_origins import default_origin_lines
from styleclip_dsl.engines.registry import ENGINES
from styleclip_dsl.model_names import ModelNames
from styleclip_dsl.plan import EditStep

# 'sad': a text toon has no setting of its own for (engine_defaults.global.prompts), so the set-wide
# value applies; the mapper's strength for 'bald' is written out
RECIPE = "generate seed=3\napply 'sad' via global\nmapper 'bald' strength=2\n"


def _plan(text: str):
    plan, diagnostics = compile_recipe(text, "t.sc", names=ModelNames.discover())
    assert plan is not None, diagnostics
    return plan


def test_each_left_out_parameter_names_its_source():
    toon = ModelNames.discover().engine_defaults("toon")
    plan = _plan(RECIPE)
    edits = {s.engine: s.edits[0] for s in plan.steps if isinstance(s, EditStep)}
    for engine, entry in edits.items():
        written = {"mapper": {"strength"}}.get(engine, set())
        assert set(entry.origins) == set(entry.params) - written
        for name, origin in entry.origins.items():
            expected = "modelset" if name in toon.get(engine, {}) else "engine"
            assert origin == expected, (engine, name)
            source = toon[engine] if origin == "modelset" else ENGINES[engine].defaults()
            assert entry.params[name] == source[name]
    # toon sets the global alpha and the mapper strength; the recipe wrote the strength itself
    assert edits["global"].origins["alpha"] == "modelset"
    assert "strength" not in edits["mapper"].origins
    lines = default_origin_lines(plan)
    assert lines[0].startswith(f"global: alpha={toon['global']['alpha']} from model set toon; ")
    assert "beta=0.15" in lines[0] and lines[0].endswith("from the engine")
    assert lines[1] == "mapper: layers='all' from the engine"


def test_a_default_and_the_same_value_written_out_are_the_same_step():
    alpha = ModelNames.discover().engine_defaults("toon")["global"]["alpha"]
    implicit = _plan("generate seed=3\napply 'sad' via global\n")
    explicit = _plan(f"generate seed=3\napply 'sad' via global alpha={alpha} beta=0.15\n")
    assert [s.hash for s in implicit.steps] == [s.hash for s in explicit.steps]
    assert default_origin_lines(explicit) == ["global: keep='' layers='all' neutral='a face' from the engine"]


def test_plan_prints_where_the_defaults_come_from(tmp_path: Path):
    path = tmp_path / "r.sc"
    path.write_text(RECIPE + "save out/{name}.png\n")
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    assert "parameters the recipe leaves out:" in result.stdout
    assert "from model set toon" in result.stdout


def test_toons_own_settings_for_a_prompt_are_named_as_such():
    """toon.yaml's per-prompt entries (the purple-hair mapper works at 1.5, not the engine-wide 4)."""
    toon = ModelNames.discover().engine_defaults("toon")
    own = toon.prompts["mapper"]["purple hair"]["strength"]
    plan = _plan("generate seed=3\nmapper 'Purple hair'\nmapper 'curly hair'\n")
    first, second = (s.edits[0] for s in plan.steps if isinstance(s, EditStep))
    assert first.params["strength"] == own != toon["mapper"]["strength"] == second.params["strength"]
    assert first.origins["strength"] == "prompt" and second.origins["strength"] == "modelset"
    assert f"mapper 'Purple hair': strength={own} from model set toon for this prompt" in default_origin_lines(plan)
