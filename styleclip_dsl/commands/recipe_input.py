"""Reading recipes and ``--set`` options for the commands (``-`` is standard input)."""
from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

STDIN_NAME = "<stdin>"


def read_recipe_text(file: str) -> tuple[str, str]:
    """(text, source name); raises OSError when the file cannot be read."""
    if file == "-":
        return sys.stdin.read(), STDIN_NAME
    return Path(file).read_text(encoding="utf-8"), file


def read_recipe_or_exit(file: str, err: Console) -> tuple[str, str]:
    """``read_recipe_text``, or a one-line error and exit code 2 (a recipe that cannot be read)."""
    try:
        return read_recipe_text(file)
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[bold]{file}[/]: [bold red]error[/]: cannot read it ({exc})")
        raise typer.Exit(2)


def parse_set_options(values: list[str]) -> dict[str, str]:
    """``--set k=v`` options as a dict (later ones win)."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--set takes key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out
