"""The ``styleclip`` command line: a typer app whose commands live in ``styleclip_dsl.commands``.

Each command module has ``register(app)``. To add a command, add its module
name to ``COMMANDS``; a listed module that does not exist yet is skipped.
"""
from __future__ import annotations

import importlib
import typer

from . import __version__

COMMANDS: tuple[str, ...] = (
    "check", "plan", "diff", "fmt", "run", "test", "repl", "models", "cache", "zoo", "train",
)

app = typer.Typer(
    name="styleclip",
    help="Recipes for StyleCLIP edits of StyleGAN images: check, plan, format and run them.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"styleclip {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """styleclip: a recipe language for StyleCLIP edits."""


def _register_commands() -> None:
    for name in COMMANDS:
        module_name = f"{__package__}.commands.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(app)


_register_commands()


def main() -> None:
    app()
if __name__ == "__main__":
    main()
