"""The engine registry: specs are the one table of engines, keep= is normalised at compile time,
and a model set's engine_defaults are checked against the specs."""
from __future__ import annotations

import pytest

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.defaults import ENGINE_PARAMS
from styleclip_dsl.engines.keep import kept, normalise_keep
from styleclip_dsl.engines.registry import ENGINES, validate_engine_defaults


def _edit_params(text: str) -> dict:
    plan, diagnostics = compile_recipe(text)
    assert plan is not None, diagnostics
    return plan.steps[-1].edits[0].params  # type: ignore[attr-defined]


def test_defaults_tables_are_a_view_of_the_registry() -> None:
    assert list(ENGINE_PARAMS) == list(ENGINES)
    for name, spec in ENGINES.items():
        assert ENGINE_PARAMS[name] == dict(spec.params)
        assert set(spec.cache_key_params) <= set(spec.params)


@pytest.mark.parametrize("raw", ["a,b", " a , b ,,", "a, b, a", "a,   b"])
def test_keep_is_normalised_in_the_plan(raw: str) -> None:
    assert _edit_params(f"generate seed=1; global 'smile' keep='{raw}'")["keep"] == "a, b"
    assert _edit_params(f"generate seed=1; optimize 'smile' keep='{raw}'")["keep"] == "a, b"
    spelled, _ = compile_recipe(f"generate seed=1; global 'smile' keep='{raw}'")
    canonical, _ = compile_recipe("generate seed=1; global 'smile' keep='a, b'")
    assert spelled is not None and canonical is not None
    assert spelled.steps[-1].hash == canonical.steps[-1].hash  # one list, one plan, one cache key


@pytest.mark.parametrize("written", ["", "a bald head", "beard, Smile",
                                     "a bald head, short hair, long hair, curly hair, a mohawk, a bob haircut"])
def test_canonical_keep_is_left_as_written(written: str) -> None:
    """What recipes and goldens write today is already canonical: their plans and hashes stay."""
    assert normalise_keep(written) == written
    assert kept(written) == tuple(t for t in written.split(", ") if t)


def test_kept_refuses_a_keep_the_compiler_did_not_write() -> None:
    assert kept("a, b") == ("a", "b") and kept("") == ()
    with pytest.raises(ValueError, match="compile the recipe again"):
        kept("a,b")


def test_optimize_key_params_drop_an_empty_keep_only() -> None:
    spec = ENGINES["optimize"]
    params = spec.defaults()
    assert "keep" not in spec.key_params(params)
    assert set(spec.key_params(params)) == set(params) - {"keep"}
    assert spec.key_params({**params, "keep": "a"})["keep"] == "a"
    assert ENGINES["mapper"].key_params(ENGINES["mapper"].defaults()) == {}


def test_engine_defaults_are_typed_and_normalised() -> None:
    out = validate_engine_defaults({"global": {"alpha": 3, "keep": "x,y"}, "optimize": {"views": 4}}, "m.yaml")
    assert out == {"global": {"alpha": 3.0, "keep": "x, y"}, "optimize": {"views": 4}}
    assert isinstance(out["global"]["alpha"], float)
    assert validate_engine_defaults(None, "m.yaml") == {}


@pytest.mark.parametrize(("raw", "message"), [
    ({"globl": {"alpha": 3}}, "unknown engine 'globl'"),
    ({"global": {"alfa": 3}}, "unknown parameter 'alfa'"),
    ({"global": {"beta": -1}}, r"engine_defaults.global.beta: -1 is not allowed"),
    ({"optimize": {"steps": 2.5}}, "engine_defaults.optimize.steps"),
    ({"global": {"alpha": True}}, "engine_defaults.global.alpha"),
    ({"optimize": {"beta": 0.2}}, "needs space=s"),
    ({"global": [1]}, "must be a mapping"),
])
def test_engine_defaults_that_break_a_spec_are_refused_naming_the_yaml(raw, message) -> None:
    with pytest.raises(ValueError, match=message) as info:
        validate_engine_defaults(raw, "/sets/mine.yaml")
    assert str(info.value).startswith("/sets/mine.yaml: ")
