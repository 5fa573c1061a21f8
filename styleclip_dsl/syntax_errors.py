"""Friendly diagnostics for lark's syntax errors (expected-token lists -> words)."""
from __future__ import annotations

import re

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from .diagnostics import Diagnostic
from .grammar_loader import rule_words
from .spans import Span

_DESCRIPTIONS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a quoted string",
    "PATH": "a path",
    "DEVICE": "a device (cpu, cuda, cuda:0)",
    "COMPARE": "a comparison (>, >=, <, <=, ==, !=)",
    "_SEP": "the end of the statement",
    "$END": "the end of the recipe",
}
_HIDDEN = {"REST"}
_LEXEME = re.compile(r"""-?(\d+(\.\d+)?|\.\d+)|[A-Za-z_][\w\-]*|'[^']*'|"[^"]*"|\S""")
# `alpha=0..4 steps 2`: a word after a range's end that is not `step` or `count`
_RANGE_WORD = re.compile(r"""\.\.\s*-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?[ \t]+([A-Za-z_]\w*)[ \t]*$""")
_RANGE_RULE = "range"  # its keywords (step, count) are read from the grammar
_STATEMENT_KEYWORDS_MIN = 8  # an expected set with this many keywords is the start of a statement


def syntax_diagnostic(
    exc: UnexpectedInput, text: str, source_name: str, parser: Lark
) -> tuple[Diagnostic, int]:
    """The diagnostic for ``exc`` and the text offset it belongs to."""
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(exc, text, source_name, parser)
    assert isinstance(exc, UnexpectedCharacters)
    offset = exc.pos_in_stream
    char = text[offset] if offset < len(text) else ""
    span = Span(exc.line, exc.column, exc.line, exc.column + 1)
    if char in ("'", '"'):
        return (
            _diag("unterminated string", "close the string with a matching quote on the same line",
                  span, source_name, "E-syntax-string"),
            offset,
        )
    hint = _expected_hint(_expected(exc, set(exc.allowed or ())), parser)
    return _diag(f"unexpected character {char!r}", hint, span, source_name, "E-syntax"), offset


def _unexpected_token(
    exc: UnexpectedToken, text: str, source_name: str, parser: Lark
) -> tuple[Diagnostic, int]:
    token = exc.token
    expected = _expected(exc, set(exc.expected or ()))
    hint = _expected_hint(expected, parser)
    if token.type == "$END":
        line = getattr(token, "end_line", None) or exc.line
        column = getattr(token, "end_column", None) or exc.column
        span = Span(line, column, line, column + 1)
        offset = max(len(text.rstrip()) - 1, 0)
        return _diag("unexpected end of recipe", hint, span, source_name, "E-syntax"), offset
    offset = token.start_pos if token.start_pos is not None else len(text)
    if token.type == "_SEP":
        span = Span(token.line, token.column, token.line, token.column + 1)
        return _diag("the statement ends too early", hint, span, source_name, "E-syntax"), offset
    misspelled = _range_keyword(text, offset, token, source_name, parser)
    if misspelled is not None:
        return misspelled, offset
    shown = _first_lexeme(str(token))
    span = Span(token.line, token.column, token.line, token.column + len(shown))
    if "STRING" in expected and token.type != "STRING" and len(expected) <= 2:
        hint = "put the text in quotes, e.g. 'curly hair'"
    return _diag(f"unexpected '{shown}'", hint, span, source_name, "E-syntax"), offset


def _range_keyword(text: str, offset: int, token, source_name: str, parser: Lark) -> Diagnostic | None:
    """``alpha=0..4 steps 2``: the word read as the next parameter's name was meant as ``step``/``count``."""
    line_start = text.rfind("\n", 0, offset) + 1
    match = _RANGE_WORD.search(text[line_start:offset])
    if match is None:
        return None
    range_words = rule_words(parser, _RANGE_RULE)
    if match.group(1) in range_words:
        return None
    from .suggest import did_you_mean

    word = match.group(1)
    column = match.start(1) + 1
    span = Span(token.line, column, token.line, column + len(word))
    close = did_you_mean(word, range_words)
    form = "a range is A..B, A..B step S or A..B count N"
    hint = f"{close} ({form})" if close else form
    return _diag(f"unexpected '{word}' after a range", hint, span, source_name, "E-syntax")


def _first_lexeme(value: str) -> str:
    """The leading number, word, quoted string or character of a token the root lexer made."""
    match = _LEXEME.match(value)
    return (match.group() if match else value)[:40]


def _expected(exc: UnexpectedInput, fallback: set[str]) -> set[str]:
    """The terminals the parser could take here (keywords included, unlike the lexer's view)."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is None:
        return fallback
    names = {n for n in interactive.choices() if n.isupper() or n.startswith(("$", "_"))}
    return names or fallback


def _expected_hint(expected: set[str], parser: Lark) -> str | None:
    words: list[str] = []
    keywords: list[str] = []
    for name in expected - _HIDDEN:
        if name in _DESCRIPTIONS:
            words.append(_DESCRIPTIONS[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            continue
        if isinstance(pattern, PatternStr):
            keywords.append(pattern.value)
        else:
            words.append(name.lower())
    if len(keywords) >= _STATEMENT_KEYWORDS_MIN:
        return "a statement starts with one of: " + ", ".join(sorted(keywords))
    described = sorted(f"'{k}'" for k in keywords) + sorted(words)
    if not described:
        return None
    if len(described) == 1:
        return f"expected {described[0]}"
    return "expected one of: " + ", ".join(described)


def _diag(message: str, hint: str | None, span: Span, source_name: str, code: str) -> Diagnostic:
    return Diagnostic(message, hint, span, source_name, "error", code)
