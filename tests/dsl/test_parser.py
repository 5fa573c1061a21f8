"""Parsing: the AST of each construct, spans, values, separators, syntax errors."""
from __future__ import annotations

import pytest

from styleclip_dsl import ast
from styleclip_dsl.api import parse
from styleclip_dsl.spans import Span


def parse_ok(text: str) -> ast.Recipe:
    recipe, diagnostics = parse(text)
    assert diagnostics == [], [str(d) for d in diagnostics]
    assert recipe is not None
    return recipe


def only(text: str) -> ast.Statement:
    (statement,) = parse_ok(text).statements
    return statement


def test_seed_line_parses_as_written():
    recipe = parse_ok("invert photo.jpg; apply 'curly hair' via global alpha=4 beta=0.15; then mapper 'smile'")
    assert recipe.statements == (
        ast.Invert((ast.Path("photo.jpg"),)),
        ast.Edit(ast.Text("curly hair"), ast.Ident("global"),
                 (ast.Param(ast.Ident("alpha"), ast.Number(4)), ast.Param(ast.Ident("beta"), ast.Number(0.15))),
                 chained=False, form="apply"),
        ast.Edit(ast.Text("smile"), ast.Ident("mapper"), (), chained=True, form="short"),
    )


def test_spans_are_one_based_with_exclusive_end():
    recipe = parse_ok("invert photo.jpg; apply 'curly hair' via global alpha=4\n  then mapper 'smile'")
    invert, apply, then = recipe.statements
    assert invert.span == Span(1, 1, 1, 17)
    assert apply.span == Span(1, 19, 1, 56)
    assert apply.text.span == Span(1, 25, 1, 37)
    assert apply.engine.span == Span(1, 42, 1, 48)
    assert apply.params[0].key.span == Span(1, 49, 1, 54)
    assert apply.params[0].value.span == Span(1, 55, 1, 56)
    assert then.span == Span(2, 3, 2, 22)


def test_newlines_semicolons_blank_lines_and_comments_separate_statements():
    recipe = parse_ok("# header\n\nuse toon ; seed 7;;\n\n  device cuda:1  # trailing\n")
    assert recipe.statements == (ast.Use(ast.Ident("toon")), ast.Seed(ast.Number(7)), ast.Device(ast.Ident("cuda:1")))
    assert [c.text for c in recipe.comments] == ["# header", "# trailing"]
    assert recipe.comments[1].span == Span(5, 18, 5, 28)


def test_empty_and_comment_only_recipes():
    assert parse_ok("").statements == ()
    assert parse_ok("# nothing\n\n;\n").statements == ()


@pytest.mark.parametrize("source, value", [
    ("'curly hair'", "curly hair"),
    ('"curly hair"', "curly hair"),
    (r"'it\'s'", "it's"),
    ('"it\'s"', "it's"),
    (r"'a \"q\" \\ b\nc\td'", 'a "q" \\ b\nc\td'),
    (r"'C:\photos'", "C:\\photos"),          # unknown escapes stay as written
    ("'semi; colon # not a comment'", "semi; colon # not a comment"),
])
def test_string_escapes(source, value):
    edit = only(f"global {source}")
    assert edit.text == ast.Text(value)


@pytest.mark.parametrize("source, value", [
    ("4", ast.Number(4)),
    ("-2", ast.Number(-2)),
    ("0.15", ast.Number(0.15)),
    ("1e-3", ast.Number(0.001)),
    ("-2.5E2", ast.Number(-250.0)),
    ("true", ast.Bool(True)),
    ("false", ast.Bool(False)),
    ("wplus", ast.Word("wplus")),
    ("'a face'", ast.Text("a face")),
    ("-2..6 step 2", ast.Range(ast.Number(-2), ast.Number(6), step=ast.Number(2))),
    ("0..4 count 5", ast.Range(ast.Number(0), ast.Number(4), count=ast.Number(5))),
    ("1..4", ast.Range(ast.Number(1), ast.Number(4))),
    ("[0.1, 0.15]", ast.ListValue((ast.Number(0.1), ast.Number(0.15)))),
    ("[]", ast.ListValue(())),
])
def test_parameter_values(source, value):
    edit = only(f"global 'x' v={source}")
    assert edit.params == (ast.Param(ast.Ident("v"), value),)


def test_integer_and_float_literals_keep_their_type():
    edit = only("global 'x' a=4 b=4.0")
    assert [type(p.value.value) for p in edit.params] == [int, float]


@pytest.mark.parametrize("source, paths", [
    ("invert photo.jpg", ["photo.jpg"]),
    ("invert photos/*.png", ["photos/*.png"]),
    ("invert ../in/[ab]?.jpg ~/x.png", ["../in/[ab]?.jpg", "~/x.png"]),
    ("invert 'my photos/a b.png'", ["my photos/a b.png"]),
    ("invert a.png 'b c.png' d.png", ["a.png", "b c.png", "d.png"]),
])
def test_bare_and_quoted_paths_and_globs(source, paths):
    assert [p.value for p in only(source).paths] == paths


def test_subjects_and_aliases():
    recipe = parse_ok(
        "invert photos/*.png as people\ngenerate seeds=1..8 truncation=0.7 as samples\n"
        "load codes.pt as mine\non people"
    )
    invert, generate, load, on = recipe.statements
    assert invert.alias == ast.Ident("people")
    assert generate == ast.Generate(
        (ast.Param(ast.Ident("seeds"), ast.Range(ast.Number(1), ast.Number(8))),
         ast.Param(ast.Ident("truncation"), ast.Number(0.7))),
        ast.Ident("samples"),
    )
    assert load == ast.Load(ast.Path("codes.pt"), ast.Ident("mine"))
    assert on == ast.On(ast.Ident("people"))


def test_edit_forms():
    recipe = parse_ok(
        "apply 'a' via optimize steps=10\nglobal 'b'\nmapper 'c'\noptimize 'd'\n"
        "then apply 'e' via mapper\nthen global 'f' alpha=1"
    )
    assert [(s.engine.name, s.form, s.chained) for s in recipe.statements] == [
        ("optimize", "apply", False), ("global", "short", False), ("mapper", "short", False),
        ("optimize", "short", False), ("mapper", "apply", True), ("global", "short", True),
    ]


def test_outputs():
    recipe = parse_ok(
        "save out/{name}_{step}.png\nsave grid out/sheet.png\nsave animation 'out/{name}.gif'\n"
        "export latent out/{name}.pt\nsave grid.png"
    )
    assert recipe.statements == (
        ast.Save("image", ast.Path("out/{name}_{step}.png")),
        ast.Save("grid", ast.Path("out/sheet.png")),
        ast.Save("animation", ast.Path("out/{name}.gif")),
        ast.Export(ast.Path("out/{name}.pt")),
        ast.Save("image", ast.Path("grid.png")),   # a file called grid.png, not a grid
    )


def test_expectations():
    recipe = parse_ok(
        "expect clip('curly hair') > 0.2\nexpect id_sim() >= 0.6\n"
        "expect golden('g.png', tol=0.05) < 0.1\nexpect attribute(hair_style) == 'curly'\n"
        "expect distance()<=1;expect psnr() != 3"
    )
    clip, id_sim, golden, attribute, distance, psnr = recipe.statements
    assert clip == ast.Expect(ast.Ident("clip"), (ast.Text("curly hair"),), (), ">", ast.Number(0.2))
    assert id_sim.args == () and id_sim.op == ">="
    assert golden.args == (ast.Text("g.png"),)
    assert golden.kwargs == (ast.Param(ast.Ident("tol"), ast.Number(0.05)),)
    assert attribute.args == (ast.Word("hair_style"),) and attribute.value == ast.Text("curly")
    assert (distance.op, psnr.op) == ("<=", "!=")


def test_unknown_statement_is_kept_for_the_checker():
    recipe = parse_ok("invrt photo.jpg 'a;b'\nseed 1")
    assert recipe.statements[0] == ast.Unknown(ast.Ident("invrt"), "photo.jpg 'a;b'")
    assert recipe.statements[1] == ast.Seed(ast.Number(1))


def test_keyword_prefixes_are_not_keywords():
    # "seed7" is one word (an unknown statement), not `seed 7`
    assert only("seed7") == ast.Unknown(ast.Ident("seed7"))


@pytest.mark.parametrize("text, line, column, message, hint", [
    ("apply curly via global", 1, 7, "unexpected 'curly'", "put the text in quotes, e.g. 'curly hair'"),
    ("invert a.png\napply 'x' vai global", 2, 11, "unexpected 'vai'", "expected 'via'"),
    ("apply 'x' via\nseed 1", 1, 14, "the statement ends too early", "expected a name"),
    ("global 'x' alpha=", 1, 18, "unexpected end of recipe",
     "expected one of: '[', 'false', 'true', a name, a number, a quoted string"),
    ("invert 'photo.jpg", 1, 8, "unterminated string", "close the string with a matching quote on the same line"),
    ("7 x", 1, 1, "unexpected '7'", "a statement starts with one of: apply, device, expect, export, generate, "
     "global, invert, load, mapper, on, optimize, save, seed, then, use"),
    ("global 'x' alpha=1..3 stp 2", 1, 23, "unexpected 'stp' after a range",
     "did you mean 'step'? (a range is A..B, A..B step S or A..B count N)"),
    ("global 'x' alpha=0..4 steps 2", 1, 23, "unexpected 'steps' after a range",
     "did you mean 'step'? (a range is A..B, A..B step S or A..B count N)"),
    ("global 'x' alpha=0..4 cnt 2", 1, 23, "unexpected 'cnt' after a range",
     "did you mean 'count'? (a range is A..B, A..B step S or A..B count N)"),
    ("expect clip(,) > 1", 1, 13, "unexpected ','", None),
])
def test_syntax_errors(text, line, column, message, hint):
    recipe, diagnostics = parse(text, "r.sc")
    assert len(diagnostics) == 1, [str(d) for d in diagnostics]
    d = diagnostics[0]
    assert (d.span.line, d.span.column, d.message) == (line, column, message)
    assert d.code.startswith("E-syntax")
    if hint is not None:
        assert d.hint == hint


def test_every_syntax_error_is_reported_and_the_rest_still_parses():
    text = "seed 1\napply curly via global\nsave out/x.png\nglobal 'x' alpha=\ninvert 'a\nload x.pt"
    recipe, diagnostics = parse(text)
    assert [d.span.line for d in diagnostics] == [2, 4, 5]
    assert recipe is not None
    assert [type(s).__name__ for s in recipe.statements] == ["Seed", "Save", "Load"]


def test_syntax_error_in_one_statement_of_a_line_keeps_the_others():
    recipe, diagnostics = parse("seed 1; global x; device cpu")
    assert [(d.span.line, d.span.column) for d in diagnostics] == [(1, 16)]
    assert [type(s).__name__ for s in recipe.statements] == ["Seed", "Device"]


class _CountingParser:
    """The AST parser, counting its calls and the characters each one read: all of its text (a whole
    text or a TextSlice of it) when it parsed, up to the error when it failed."""

    def __init__(self, real) -> None:
        self.real = real
        self.calls = 0
        self.chars = 0

    def parse(self, text):
        from lark.exceptions import UnexpectedInput

        self.calls += 1
        start, end = (text.start, text.end) if hasattr(text, "end") else (0, len(text))
        try:
            result = self.real.parse(text)
        except UnexpectedInput as exc:
            stop = exc.pos_in_stream if exc.pos_in_stream is not None else end
            self.chars += stop - start
            raise
        self.chars += end - start
        return result

    def __getattr__(self, name):
        return getattr(self.real, name)


def _error_laden(lines: int, every: int) -> str:
    good = ["invert photos/ada.png as a{i}", "global 'smile' alpha=2; save out/{{name}}.png", "then mapper 'x'"]
    out = []
    for n in range(lines):
        out.append("apply 'broken' via" if n % every == every - 1 else good[n % 3].format(i=n))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("lines, every", [(300, 30), (1500, 300), (1500, 100)])
def test_error_recovery_reads_each_character_at_most_twice(monkeypatch, lines, every):
    """Issue #20 item 7: after a syntax error only the statements before it are parsed again (as
    their own slice), never the whole text, so checking stays linear in the text's size."""
    from styleclip_dsl import parser as parser_module

    text = _error_laden(lines, every)
    counting = _CountingParser(parser_module.ast_parser())
    monkeypatch.setattr(parser_module, "ast_parser", lambda: counting)
    recipe, diagnostics = parser_module.parse_recipe(text, "e.sc")
    errors = lines // every
    assert len(diagnostics) == errors and recipe is not None
    assert counting.calls <= 2 * errors + 1
    assert counting.chars <= 2 * len(text)
    # the same result as blanking each broken statement and parsing the whole text again
    monkeypatch.undo()
    blanked = parser_module._parse_by_blanking(text, "e.sc")
    assert (recipe, diagnostics) == blanked
    assert [s.span for s in recipe.statements] == [s.span for s in blanked[0].statements]
