"""The ``styleclip`` command line: a typer app whose commands live in ``styleclip_dsl.commands``.

Each command module has ``register(app)``. To add a command, add its module
name to ``COMMANDS``; a listed module that does not exist yet is skipped.

``main`` (the ``styleclip`` script) imports only the module of the command it runs: importing
every command (the runtime's CLI, the REPL, the cache and model tools) cost a third of ``styleclip
check``'s start-up (#21, docs/performance.md). ``app``, every command registered, is built on
first use of the name (``from styleclip_dsl.cli import app``), and for ``--help`` or an unknown
command.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import typer

from . import __version__

COMMANDS: tuple[str, ...] = (
    "check", "plan", "diff", "fmt", "run", "test", "repl", "models", "cache", "zoo", "train",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"styleclip {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """styleclip: a recipe language for StyleCLIP edits."""


def build_app(commands: Sequence[str] = COMMANDS) -> typer.Typer:
    """The typer app with ``commands`` (names in ``COMMANDS``) registered, in ``COMMANDS``' order."""
    app = typer.Typer(
        name="styleclip",
        help="Recipes for StyleCLIP edits of StyleGAN images: check, plan, format and run them.",
        no_args_is_help=True,
        add_completion=False,
        # docstrings are wrapped at 100 columns in the source: markdown lets rich reflow their
        # paragraphs to the terminal instead of keeping each source line break
        rich_markup_mode="markdown",
    )
    app.callback()(_root)
    for name in (c for c in COMMANDS if c in commands):
        module_name = f"{__package__}.commands.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(app)
    return app


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` (without the program name) runs: its first word that is not an option
    (the root's only option, ``--version``, takes no value); None when that is not a command."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


_FULL: dict[str, typer.Typer] = {}  # the app with every command, built once on first use (owner: this module)


def __getattr__(name: str) -> typer.Typer:
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if "app" not in _FULL:
        _FULL["app"] = build_app()
    return _FULL["app"]


def main() -> None:
    command = command_of(sys.argv[1:])
    (build_app((command,)) if command is not None else __getattr__("app"))()
if __name__ == "__main__":
    main()
