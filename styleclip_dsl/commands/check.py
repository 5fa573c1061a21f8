"""`styleclip check FILES...`: parse and check recipes without running anything.

Exit 0 when every recipe is clean (warnings allowed), 2 when any has errors
or cannot be read. Imports neither torch nor the runtime's networks: only its
model-set registry (YAML), so that ``use toonz`` and ``mapper 'smiel'`` get
did-you-mean hints.
"""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ..api import check as check_text
from ..diagnostics import render_diagnostics
from ..exit_codes import EXIT_INVALID, EXIT_OK
from ..file_checks import file_diagnostics
from ..model_names import ModelNames
from .recipe_input import RecipeDecodeError, read_recipe_text



def check(
    files: list[str] = typer.Argument(..., help="Recipe files, or - for standard input."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the diagnostics."),
) -> None:
    """Check recipes: syntax, names, parameter types and ranges, sweeps, outputs, expectations."""
    out, err = Console(highlight=False), Console(stderr=True, highlight=False)
    failed = False
    names = ModelNames.discover()  # the installed model sets and their mappers (YAML only, no torch)
    for file in files:
        try:
            text, source_name = read_recipe_text(file)
        except RecipeDecodeError as exc:
            render_diagnostics([exc.diagnostic], "", err)
            failed = True
            continue
        except OSError as exc:
            err.print(f"[bold]{escape(file)}[/]: [bold red]error[/]: cannot read it ({escape(str(exc))})",
                      highlight=False)
            failed = True
            continue
        recipe, diagnostics = check_text(text, source_name, names)
        folder = Path.cwd() if file == "-" else Path(file).resolve().parent
        diagnostics = file_diagnostics(text, source_name, diagnostics, folder, recipe)  # W-no-output, golden links
        render_diagnostics(diagnostics, text, err)
        errors = sum(d.is_error for d in diagnostics)
        warnings = len(diagnostics) - errors
        failed |= errors > 0
        if not quiet:
            status = f"{errors} error{'s' * (errors != 1)}" if errors else "ok"
            if warnings:
                status += f", {warnings} warning{'s' * (warnings != 1)}"
            out.print(f"{source_name}: {status}", markup=False)
    raise typer.Exit(EXIT_INVALID if failed else EXIT_OK)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
