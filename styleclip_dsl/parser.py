"""Recipe text -> AST.

The LALR parser (grammar/styleclip.lark) runs with an inline ``AstBuilder``
transformer, which builds the AST and nothing else. Spans come from the
tokens (the parser keeps all tokens, keywords included), which is about
twice as fast as lark's ``propagate_positions`` on large recipes.

Syntax errors do not stop the parse: the statement that holds the error is
skipped and parsing resumes after it, so one call reports every syntax error
(up to ``MAX_SYNTAX_ERRORS``). Resuming never re-reads the text before the
error: the parser reads slices of the one text (lark's ``TextSlice``, so
lines and columns stay those of the whole text), and after an error only the
statements before the broken one are parsed again, as their own slice. Every
character is read at most twice, so checking stays linear in the input.

Numbers keep Python's types (int, float); a number too large for a float
(``1e999``, or an integer of more than ``MAX_INT_DIGITS`` digits, which
Python would refuse to convert) becomes ``inf``, which the checker reports
as out of range.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from lark import Lark, TextSlice, Token, Transformer
from lark.exceptions import UnexpectedInput

from . import ast
from .diagnostics import Diagnostic
from .grammar_loader import make_parser
from .lexical import scan_comments, statement_extent, unquote
from .spans import Span
from .syntax_errors import syntax_diagnostic

MAX_SYNTAX_ERRORS = 25
# Integers longer than this are beyond any float (1.8e308) anyway; Python refuses to
# convert strings of more than 4300 digits at all.
MAX_INT_DIGITS = 308


def token_span(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column)


def _covering(children: list[Any]) -> Span:
    """From the start of the first child to the end of the last (children come in source order)."""
    first, last = children[0], children[-1]
    if isinstance(first, Token):
        line, column = first.line, first.column
    else:
        line, column = first.span.line, first.span.column
    if isinstance(last, Token):
        return Span(line, column, last.end_line, last.end_column)
    return Span(line, column, last.span.end_line, last.span.end_column)


def number_value(text: str) -> int | float:
    """The value of a NUMBER token; ``inf`` (or ``-inf``) when no float can hold it."""
    if any(c in text for c in ".eE"):
        return float(text)
    digits = text.lstrip("-").lstrip("0")
    if len(digits) > MAX_INT_DIGITS:
        return float("-inf") if text.startswith("-") else float("inf")
    return int(("-" if text.startswith("-") else "") + (digits or "0"))


def _number(token: Token) -> ast.Number:
    return ast.Number(number_value(str(token)), span=token_span(token))


def _path(token: Token) -> ast.Path:
    value = unquote(token) if token.type == "STRING" else str(token)
    return ast.Path(value, span=token_span(token))


def _ident(token: Token) -> ast.Ident:
    value = unquote(token) if token.type == "STRING" else str(token)
    return ast.Ident(value, span=token_span(token))


def _nodes(children: list[Any], kind: type) -> tuple[Any, ...]:
    return tuple(c for c in children if isinstance(c, kind))


@dataclass(frozen=True)
class _Args:
    """The argument list of a metric call (internal to the builder)."""

    args: tuple[ast.Scalar, ...]
    kwargs: tuple[ast.Param, ...]


class AstBuilder(Transformer):
    """Builds AST nodes from the children of each grammar rule (tokens kept)."""

    # ---- values
    def number(self, c: list[Any]) -> ast.Number:
        return _number(c[0])

    def string(self, c: list[Any]) -> ast.Text:
        return ast.Text(unquote(c[0]), span=token_span(c[0]))

    def word(self, c: list[Any]) -> ast.Word:
        return ast.Word(str(c[0]), span=token_span(c[0]))

    def true(self, c: list[Any]) -> ast.Bool:
        return ast.Bool(True, span=token_span(c[0]))

    def false(self, c: list[Any]) -> ast.Bool:
        return ast.Bool(False, span=token_span(c[0]))

    def range(self, c: list[Any]) -> ast.Range:
        start, stop = _number(c[0]), _number(c[2])
        step = count = None
        if len(c) == 5:
            by = _number(c[4])
            if c[3].type == "STEP":
                step = by
            else:
                count = by
        return ast.Range(start, stop, step, count, span=_covering(c))

    def list(self, c: list[Any]) -> ast.ListValue:
        items = tuple(x for x in c if not isinstance(x, Token))
        return ast.ListValue(items, span=_covering(c))

    def param(self, c: list[Any]) -> ast.Param:
        return ast.Param(_ident(c[0]), c[2], span=_covering(c))

    kwarg = param

    def args(self, c: list[Any]) -> _Args:
        values = [x for x in c if not isinstance(x, Token)]
        kwargs = tuple(x for x in values if isinstance(x, ast.Param))
        args = tuple(x for x in values if not isinstance(x, ast.Param))
        return _Args(args, kwargs)

    def alias(self, c: list[Any]) -> ast.Ident:
        return _ident(c[1])

    def engine(self, c: list[Any]) -> Token:
        return c[0]

    # ---- statements
    def unknown(self, c: list[Any]) -> ast.Unknown:
        rest = str(c[1]).strip() if len(c) > 1 else ""
        return ast.Unknown(_ident(c[0]), rest, span=_covering(c))

    def use(self, c: list[Any]) -> ast.Use:
        return ast.Use(_ident(c[1]), span=_covering(c))

    def seed(self, c: list[Any]) -> ast.Seed:
        return ast.Seed(_number(c[1]), span=_covering(c))

    def device(self, c: list[Any]) -> ast.Device:
        return ast.Device(_ident(c[1]), span=_covering(c))

    def invert(self, c: list[Any]) -> ast.Invert:
        paths = tuple(_path(t) for t in c[1:] if isinstance(t, Token))
        alias = c[-1] if isinstance(c[-1], ast.Ident) else None
        return ast.Invert(paths, alias, span=_covering(c), params=_nodes(c, ast.Param))

    def face(self, c: list[Any]) -> ast.Param:
        """``face=N``: one token ``face=`` (the key and the '=') and the number."""
        key, number = c
        span = token_span(key)
        ident = ast.Ident("face", span=Span(span.line, span.column, span.line, span.column + 4))
        return ast.Param(ident, _number(number), span=_covering(c))

    def generate(self, c: list[Any]) -> ast.Generate:
        alias = c[-1] if isinstance(c[-1], ast.Ident) else None
        return ast.Generate(_nodes(c, ast.Param), alias, span=_covering(c))

    def load(self, c: list[Any]) -> ast.Load:
        alias = c[-1] if isinstance(c[-1], ast.Ident) else None
        return ast.Load(_path(c[1]), alias, span=_covering(c))

    def on(self, c: list[Any]) -> ast.On:
        return ast.On(_ident(c[1]), span=_covering(c))

    def apply(self, c: list[Any]) -> ast.Edit:
        text = ast.Text(unquote(c[1]), span=token_span(c[1]))
        return ast.Edit(text, _ident(c[3]), _nodes(c, ast.Param), False, "apply", span=_covering(c))

    def short(self, c: list[Any]) -> ast.Edit:
        text = ast.Text(unquote(c[1]), span=token_span(c[1]))
        return ast.Edit(text, _ident(c[0]), _nodes(c, ast.Param), False, "short", span=_covering(c))

    def then(self, c: list[Any]) -> ast.Edit:
        edit: ast.Edit = c[1]
        return replace(edit, chained=True, span=_covering(c))

    def save_image(self, c: list[Any]) -> ast.Save:
        return ast.Save("image", _path(c[-1]), span=_covering(c))

    def save_aligned(self, c: list[Any]) -> ast.Save:
        return ast.Save("aligned", _path(c[-1]), span=_covering(c))

    def save_grid(self, c: list[Any]) -> ast.Save:
        return ast.Save("grid", _path(c[-1]), span=_covering(c))

    def save_animation(self, c: list[Any]) -> ast.Save:
        return ast.Save("animation", _path(c[2]), _nodes(c, ast.Param), span=_covering(c))

    def export(self, c: list[Any]) -> ast.Export:
        return ast.Export(_path(c[-1]), span=_covering(c))

    def expect(self, c: list[Any]) -> ast.Expect:
        found = _nodes(c, _Args)
        call = found[0] if found else _Args((), ())
        op = next(t for t in c if isinstance(t, Token) and t.type == "COMPARE")
        return ast.Expect(_ident(c[1]), call.args, call.kwargs, str(op), c[-1], span=_covering(c))

    def start(self, c: list[Any]) -> tuple[ast.Statement, ...]:
        return tuple(x for x in c if not isinstance(x, Token))


@lru_cache(maxsize=1)
def ast_parser() -> Lark:
    """The process-wide parser that builds the AST while parsing (built once)."""
    return make_parser(AstBuilder())


def parse_recipe(text: str, source_name: str = "<recipe>") -> tuple[ast.Recipe | None, list[Diagnostic]]:
    """Parse ``text``; the recipe holds every statement that parsed, the list every syntax error."""
    parser = ast_parser()
    diagnostics: list[Diagnostic] = []
    statements: list[ast.Statement] = []
    pos = 0
    while True:
        try:
            statements.extend(_parse_slice(parser, text, pos, len(text)))
            break
        except UnexpectedInput as exc:
            diagnostic, offset = syntax_diagnostic(exc, text, source_name, parser)
            diagnostics.append(diagnostic)
            start, end = statement_extent(text, offset)
            if end <= pos or len(diagnostics) >= MAX_SYNTAX_ERRORS:
                return None, diagnostics
            if start > pos:
                try:  # the statements before the broken one (a prefix the parser accepted)
                    statements.extend(_parse_slice(parser, text, pos, start))
                except UnexpectedInput:  # the lexer and statement_extent disagree: the slow, sure way
                    return _parse_by_blanking(text, source_name)
            pos = end
    recipe = ast.Recipe(tuple(statements), tuple(scan_comments(text)), span=_recipe_span(text))
    return recipe, diagnostics


def _parse_slice(parser: Lark, text: str, start: int, end: int) -> tuple[ast.Statement, ...]:
    """The statements of ``text[start:end]``, with the positions they have in ``text``."""
    if start == 0 and end == len(text):
        return parser.parse(text)
    return parser.parse(TextSlice(text, start, end))


def _parse_by_blanking(text: str, source_name: str) -> tuple[ast.Recipe | None, list[Diagnostic]]:
    """Blank out each broken statement and parse the whole text again (quadratic; a fallback only)."""
    parser = ast_parser()
    diagnostics: list[Diagnostic] = []
    current = text
    while True:
        try:
            statements = parser.parse(current)
            break
        except UnexpectedInput as exc:
            diagnostic, offset = syntax_diagnostic(exc, current, source_name, parser)
            diagnostics.append(diagnostic)
            start, end = statement_extent(current, offset)
            blanked = current[:start] + _blank(current[start:end]) + current[end:]
            if blanked == current or len(diagnostics) >= MAX_SYNTAX_ERRORS:
                return None, diagnostics
            current = blanked
    recipe = ast.Recipe(statements, tuple(scan_comments(text)), span=_recipe_span(text))
    return recipe, diagnostics


def _blank(segment: str) -> str:
    return "".join(ch if ch == "\n" else " " for ch in segment)


def _recipe_span(text: str) -> Span:
    lines = text.split("\n")
    return Span(1, 1, len(lines), len(lines[-1]) + 1)
