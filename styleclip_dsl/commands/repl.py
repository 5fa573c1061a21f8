"""`styleclip repl`: an interactive session on warm models whose history is a replayable recipe.

With a terminal on standard input it is interactive (see styleclip_dsl/repl/ui.py);
with a pipe (`styleclip repl < session.txt`) it runs the lines like `run`, echoing each.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console


def repl(
    models: Optional[str] = typer.Option(None, "--models", help="Model set name or YAML path (overrides `use`)."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 (default: cuda if present)."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder that relative output paths resolve against."),
    history: Optional[Path] = typer.Option(None, "--history", help="History file (default: in the cache folder)."),
    preview: Optional[str] = typer.Option(None, "--preview",
                                          help="How :show draws: kitty, iterm, sixel, blocks or none "
                                               "(default: from the terminal)."),
) -> None:
    """Try edits line by line on warm models; :save FILE keeps the session as a recipe.

    Piped input exits as run does: 0 ok, 1 expectation failed, 2 invalid line, 3 runtime error, 130 interrupted.
    """
    from ..repl import ui
    from ..repl.preview import PROTOCOLS, pick_protocol
    from ..repl.session import ReplSession
    from ..repl.shell import Shell

    if preview is not None and preview not in PROTOCOLS:
        raise typer.BadParameter(f"--preview takes one of {', '.join(PROTOCOLS)}")
    interactive = sys.stdin.isatty()
    console = Console(highlight=False)
    err = console if interactive else Console(stderr=True, highlight=False)
    env_protocol = pick_protocol(is_terminal=console.is_terminal)
    session = ReplSession(models=models, device=device, base_dir=Path.cwd(), out_dir=out.resolve())
    shell = Shell(session, console, err, protocol=preview or env_protocol)  # type: ignore[arg-type]
    if not interactive:
        raise typer.Exit(ui.piped(shell, sys.stdin))
    try:
        with console.status("loading models..."):
            session.warm_up()
    except KeyboardInterrupt:
        console.print("[yellow]skipped loading the models[/]: they load with the first line")
    except Exception as exc:  # the session still checks lines; running them reports the problem again
        console.print(f"[yellow]warning[/]: could not load the models: {exc}")
    raise typer.Exit(ui.interactive(shell, history or ui.default_history_path()))


def register(app: typer.Typer) -> None:
    app.command("repl")(repl)
