"""`styleclip fmt FILE`: print the canonical form of a recipe (or rewrite it with --write)."""
from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from ..api import format_recipe, parse
from ..diagnostics import render_diagnostics
from ..exit_codes import ExitCode
from .recipe_input import read_recipe_or_exit


def fmt(
    file: str = typer.Argument(..., help="Recipe file, or - for standard input."),
    write: bool = typer.Option(False, "--write", "-w", help="Rewrite the file in place."),
    check_only: bool = typer.Option(False, "--check", help="Exit 1 when the file is not in canonical form."),
) -> None:
    """Print a recipe in canonical form: one statement per line, canonical spacing and quoting.

    Comments are kept. Exit 2 when the recipe has syntax errors. The formatted text is parsed
    again before it is printed or written: it must say exactly what the recipe says.
    """
    err = Console(stderr=True, highlight=False)
    text, source_name = read_recipe_or_exit(file, err)
    recipe, diagnostics = parse(text, source_name)
    if recipe is None or diagnostics:
        render_diagnostics(diagnostics, text, err)
        raise typer.Exit(ExitCode.INVALID)
    formatted = format_recipe(recipe)
    again, problems = parse(formatted, source_name)
    if again != recipe or problems:  # a formatter bug must never cost the user their recipe
        err.print(f"{source_name}: error: the formatted text would not say the same as the recipe "
                  "(a bug in fmt); the file is left as it is", markup=False)
        render_diagnostics(problems, formatted, err)
        raise typer.Exit(ExitCode.INVALID)
    if check_only:
        if formatted != text:
            err.print(f"{source_name}: not in canonical form", markup=False)
            raise typer.Exit(ExitCode.FAILED)
        return
    if write and file != "-":
        if formatted != text:
            Path(file).write_text(formatted, encoding="utf-8")
        return
    sys.stdout.write(formatted)


def register(app: typer.Typer) -> None:
    app.command("fmt")(fmt)
