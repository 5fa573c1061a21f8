"""Syntax highlighting for the prompt: a prompt_toolkit ``Lexer`` built from the grammar's keywords.

The keywords are the grammar's (``styleclip_dsl.keywords``: a keyword added to
``grammar/styleclip.lark`` is highlighted without touching this file).
Token classes: ``keyword``, ``engine``, ``string``, ``number``, ``param``
(the key of ``k=v``), ``operator``, ``comment``, ``command`` (a ``:`` command
at the start of the input), ``path`` and ``text`` for the rest. Highlighting
must never fail on half-typed input, so it is a regular scanner over the
line, not the parser.
"""
from __future__ import annotations

import re
from typing import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

from ..defaults import ENGINES
from ..keywords import keywords

STYLE = Style.from_dict({
    "keyword": "bold ansiblue",
    "engine": "bold ansimagenta",
    "string": "ansigreen",
    "number": "ansicyan",
    "param": "ansiyellow",
    "operator": "ansibrightblack",
    "comment": "italic ansibrightblack",
    "command": "bold ansicyan",
    "path": "underline",
})

_TOKEN = re.compile(r"""
    (?P<comment>\#.*)
  | (?P<string>'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?)
  | (?P<operator>[<>]=?|[=!]=|[=;,\[\]()])
  | (?P<chunk>[^\s;#'"=,\[\]()<>!]+)
  | (?P<space>\s+)
  | (?P<text>.)
""", re.VERBOSE)
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")  # as the grammar's NUMBER
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_RANGE = re.compile(r"(-?[\d.eE+-]+?)(\.\.)(-?[\d.eE+-]+)")


def tokenize(line: str, first_line: bool = True) -> list[tuple[str, str]]:
    """``[(class, text), ...]`` covering ``line`` exactly."""
    if first_line and line.lstrip().startswith(":"):
        head, space, rest = line.partition(" ")
        return [("command", head)] + ([("text", space + rest)] if space else [])
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(line):
        match = _TOKEN.match(line, pos)
        assert match is not None  # the last group matches any character
        kind = match.lastgroup or "text"
        value = match.group()
        pos = match.end()
        if kind == "chunk":
            out.extend(_classify(value, line[pos:pos + 1] == "="))
        else:
            out.append(("text" if kind == "space" else kind, value))
    return out


def _classify(chunk: str, before_equals: bool) -> list[tuple[str, str]]:
    """A run of non-separator characters: a number, a range, a keyword, a key, a word or a path."""
    if _NUMBER.fullmatch(chunk):
        return [("number", chunk)]
    match = _RANGE.fullmatch(chunk)
    if match and _NUMBER.fullmatch(match.group(1)) and _NUMBER.fullmatch(match.group(3)):
        return [("number", match.group(1)), ("operator", ".."), ("number", match.group(3))]
    if _NAME.fullmatch(chunk):
        if before_equals:
            return [("param", chunk)]
        if chunk in ENGINES:
            return [("engine", chunk)]
        return [("keyword" if chunk in keywords() else "text", chunk)]
    return [("path", chunk)]


class RecipeLexer(Lexer):
    """Colours a recipe line by line as it is typed."""

    def lex_document(self, document: Document) -> Callable[[int], list[tuple[str, str]]]:
        lines = document.lines

        def get_line(number: int) -> list[tuple[str, str]]:
            if number >= len(lines):
                return []
            return [(f"class:{kind}", text) for kind, text in tokenize(lines[number], number == 0)]

        return get_line
