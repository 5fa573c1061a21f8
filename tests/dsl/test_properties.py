"""Property tests: check never raises on any text; parse(format(ast)) == ast."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from styleclip_dsl.api import check, compile_recipe, format_recipe, parse
from styleclip_dsl.diagnostics import Diagnostic

from .ast_strategies import recipes

# Text made of the language's own pieces finds more interesting inputs than random characters.
PIECES = [
    "invert ", "generate ", "load ", "apply ", " via ", "global ", "mapper ", "optimize ", "then ",
    "save ", "grid ", "animation ", "export latent ", "expect ", "on ", "use ", "seed ", "device ",
    " as ", "'curly hair'", '"smile"', "'", '"', "alpha=", "beta=", "steps=", "seeds=", "x=", "=",
    "..", " step ", " count ", "[", "]", ",", "(", ")", "clip", "attribute(hair_style)", ">", "==",
    "0", "1", "-2", "0.15", "1e9", "99999999999999999999", "photo.jpg", "out/{name}.png", "{alpha}",
    "*.png", ";", "\n", " ", "#c\n", "\\", "\t", "\r\n", "true", "é", "\x00",
]
recipe_like = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), recipe_like))
def test_check_and_compile_return_values_for_any_text(text):
    recipe, diagnostics = check(text, "fuzz.sc")
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    assert recipe is not None or diagnostics
    for d in diagnostics:
        assert d.span.line >= 1 and d.span.column >= 1, str(d)
    plan, diagnostics = compile_recipe(text, "fuzz.sc")
    if plan is not None:
        plan.to_json()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes)
def test_parse_of_format_is_the_same_ast(recipe):
    text = format_recipe(recipe)
    parsed, diagnostics = parse(text)
    assert diagnostics == [], (text, [str(d) for d in diagnostics])
    assert parsed == recipe, text
