"""Reading recipes and ``--set`` options for the commands (``-`` is standard input).

Recipes are read as bytes and decoded as UTF-8 here, strictly: a byte that is
not UTF-8 (a file, or standard input, whatever the locale) is a located
diagnostic (line, column, the byte) and exit 2, never a text with lone
surrogates that fails later when printed.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import typer
from rich.console import Console
from rich.markup import escape

from ..diagnostics import Diagnostic, render_diagnostics
from ..exit_codes import ExitCode
from ..spans import Span

STDIN_NAME = "<stdin>"


class RecipeDecodeError(ValueError):
    """The recipe's bytes are not UTF-8; ``diagnostic`` says where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def decode_recipe(data: bytes, source_name: str) -> str:
    """UTF-8 text of ``data`` (a leading BOM dropped); RecipeDecodeError at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecipeDecodeError(encoding_diagnostic(data, exc, source_name)) from None


def encoding_diagnostic(data: bytes, exc: UnicodeDecodeError, source_name: str) -> Diagnostic:
    """Where the first byte that is not UTF-8 sits (line, column in characters), shown in a
    decoded copy of the text whose bad bytes are replaced."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # utf-8-sig counts from after it
    data = data[bom:]
    start = exc.start
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode("utf-8", "replace")) + 1
    byte = data[start:start + 1].hex() if start < len(data) else ""
    message = f"the recipe is not UTF-8 text (byte 0x{byte} {exc.reason})" if byte else \
        f"the recipe is not UTF-8 text ({exc.reason})"
    return Diagnostic(message, "save the recipe as UTF-8", Span(line, column, line, column + 1), source_name,
                      "error", "E-encoding", data.decode("utf-8", "replace"))


def read_stdin_bytes(stream: BinaryIO | None = None) -> bytes:
    """All of standard input as bytes (its text layer would decode with the locale's codec)."""
    stream = stream if stream is not None else getattr(sys.stdin, "buffer", None)
    if stream is None:  # a replaced sys.stdin without bytes (tests): its text is what there is
        return sys.stdin.read().encode("utf-8", "surrogateescape")
    return stream.read()


def read_recipe_text(file: str) -> tuple[str, str]:
    """(text, source name); raises OSError when the file cannot be read, RecipeDecodeError when it is
    not UTF-8."""
    if file == "-":
        return decode_recipe(read_stdin_bytes(), STDIN_NAME), STDIN_NAME
    return decode_recipe(Path(file).read_bytes(), file), file


def read_recipe_or_exit(file: str, err: Console) -> tuple[str, str]:
    """``read_recipe_text``, or the error and exit code 2 (a recipe that cannot be read)."""
    try:
        return read_recipe_text(file)
    except RecipeDecodeError as exc:
        render_diagnostics([exc.diagnostic], "", err)
        raise typer.Exit(ExitCode.INVALID)
    except OSError as exc:
        err.print(f"[bold]{escape(file)}[/]: [bold red]error[/]: cannot read it ({escape(str(exc))})")
        raise typer.Exit(ExitCode.INVALID)


def parse_set_options(values: list[str]) -> dict[str, str]:
    """``--set k=v`` options as a dict (later ones win)."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--set takes key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out
