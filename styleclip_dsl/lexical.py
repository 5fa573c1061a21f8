"""Lexical helpers shared by the parser and the formatter: strings, comments, statement extents."""
from __future__ import annotations

import bisect
import re

from .ast import Comment
from .spans import Span

# Must agree with STRING and COMMENT in grammar/styleclip.lark.
_STRING_OR_COMMENT = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|#[^\n]*""")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_BARE_PATH = re.compile(r"""[^\s;#'"]+""")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_DEVICE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(:\d+)?")


def unquote(token: str) -> str:
    """The value of a quoted string token; unknown escapes stay as written (``\\q``)."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def quote(value: str) -> str:
    """A string token that ``unquote`` turns back into ``value`` (single quotes preferred)."""
    q = '"' if ("'" in value and '"' not in value) else "'"
    body = value.replace("\\", "\\\\").replace(q, "\\" + q)
    body = body.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return q + body + q


def is_bare_path(value: str) -> bool:
    return bool(_BARE_PATH.fullmatch(value))


def is_name(value: str) -> bool:
    return bool(_NAME.fullmatch(value))


def is_device_name(value: str) -> bool:
    return bool(_DEVICE_NAME.fullmatch(value))


def scan_comments(text: str) -> list[Comment]:
    """Every ``#`` comment outside quotes, with its span."""
    comments: list[Comment] = []
    if "#" not in text:
        return comments
    line_starts = _line_starts(text)
    for match in _STRING_OR_COMMENT.finditer(text):
        token = match.group()
        if token.startswith("#"):
            line, col = _position(line_starts, match.start())
            body = token.rstrip()
            comments.append(Comment(body, span=Span(line, col, line, col + len(body))))
    return comments


def statement_extent(text: str, pos: int) -> tuple[int, int]:
    """The [start, end) offsets of the statement around offset ``pos``.

    Statements end at ';' or a newline outside quotes; a comment ends the
    statement too. ``pos`` on a separator belongs to the statement before it.
    """
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    if line_end < 0:
        line_end = len(text)
    if pos >= line_end and pos > line_start:
        pos -= 1
    start = line_start
    i = line_start
    while i < line_end:
        ch = text[i]
        if ch in "'\"":
            close = _closing_quote(text, i, line_end)
            i = close + 1
            continue
        if ch == "#":  # a comment ends the statement
            return start, i
        if ch == ";":
            if pos <= i:
                return start, i
            start = i + 1
        i += 1
    return start, line_end


def _closing_quote(text: str, i: int, line_end: int) -> int:
    quote_char = text[i]
    j = i + 1
    while j < line_end:
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == quote_char:
            return j
        j += 1
    return line_end


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def _position(line_starts: list[int], offset: int) -> tuple[int, int]:
    index = bisect.bisect_right(line_starts, offset) - 1
    return index + 1, offset - line_starts[index] + 1
