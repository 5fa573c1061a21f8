"""The formatter: canonical text, comments kept, idempotent, meaning unchanged."""
from __future__ import annotations

from styleclip_dsl.api import compile_recipe, format_recipe, parse


def fmt(text: str) -> str:
    recipe, diagnostics = parse(text)
    assert recipe is not None and not diagnostics
    return format_recipe(recipe)


def test_canonical_layout():
    messy = (
        "# header comment\n"
        "use   toon;seed 7\n"
        "\n\n\n"
        "invert photo.jpg   as  me ; apply \"curly hair\" via global alpha = 4 beta=0.15;then mapper 'smile'\n"
        "global 'x' alpha=-2 .. 6 step 2 beta=[ 0.1 ,0.2 ] neutral=\"it's\"   # trailing\n"
        "save   grid   'out/sheet.png'\n"
        "expect golden( 'g.png' , tol=0.05 )<0.1\n"
        "# footer\n"
    )
    assert fmt(messy) == (
        "# header comment\n"
        "use toon\n"
        "seed 7\n"
        "\n"
        "invert photo.jpg as me\n"
        "apply 'curly hair' via global alpha=4 beta=0.15\n"
        "then mapper 'smile'\n"
        "global 'x' alpha=-2..6 step 2 beta=[0.1, 0.2] neutral=\"it's\"  # trailing\n"
        "save grid out/sheet.png\n"
        "expect golden('g.png', tol=0.05) < 0.1\n"
        "# footer\n"
    )


def test_paths_are_quoted_only_when_they_must_be():
    assert fmt("invert 'a b.png' 'plain.png' \"x'y.png\"\nsave 'grid'") == (
        "invert 'a b.png' plain.png \"x'y.png\"\nsave 'grid'\n"
    )


def test_formatting_is_idempotent_and_keeps_the_plan():
    text = "invert a.png;global 'x' alpha=0..4 count 3 # c\n\n\nsave grid g.png; then mapper 's'\n"
    once = fmt(text)
    assert fmt(once) == once
    before, _ = compile_recipe(text)
    after, _ = compile_recipe(once)
    assert [s.hash for s in before.steps] == [s.hash for s in after.steps]


def test_trailing_comment_stays_with_the_last_statement_of_its_line():
    assert fmt("seed 1; device cpu  # both\n") == "seed 1\ndevice cpu  # both\n"


def test_empty_recipe():
    assert fmt("") == ""
    assert fmt("# only a comment") == "# only a comment\n"
