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
from rich.markup import escape

from ..exit_codes import ExitCode


def repl(
    models: Optional[str] = typer.Option(None, "--models", help="Model set name or YAML path (overrides `use`)."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 (default: cuda if present)."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder that relative output paths resolve against."),
    history: Optional[Path] = typer.Option(None, "--history", help="History file (default: in the cache folder)."),
    preview: Optional[str] = typer.Option(None, "--preview",
                                          help="How :show draws: kitty, iterm, sixel, blocks or none "
                                               "(default: from the terminal)."),
    resume: bool = typer.Option(False, "--resume",
                                help="Replay the newest autosaved session first (sessions are autosaved "
                                     "to <cache>/repl-sessions/ after every line)."),
    resume_from: Optional[Path] = typer.Option(None, "--resume-from", help="Replay this autosaved session first."),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="Replace existing files that styleclip did not write, as run --overwrite "
                                        "does (never an input), and let :save replace a file without asking."),
) -> None:
    """Try edits line by line on warm models; :save FILE keeps the session as a recipe.

    Piped input exits as run does: 0 ok, 1 expectation failed, 2 invalid line, 3 runtime error, 130 interrupted.
    """
    from ..repl import autosave as autosaving
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
    session = ReplSession(models=models, device=device, base_dir=Path.cwd(), out_dir=out.resolve(),
                          overwrite=overwrite)
    shell = Shell(session, console, err, protocol=preview or env_protocol)  # type: ignore[arg-type]
    saved = None
    if resume or resume_from is not None:
        folder = autosaving.default_folder()
        try:
            saved = autosaving.read_session(resume_from) if resume_from is not None else autosaving.latest(folder)
        except autosaving.AutosaveError as exc:
            err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
            raise typer.Exit(ExitCode.INVALID)
        if saved is None:
            err.print(f"[bold red]error[/]: no autosaved session in {escape(str(folder))}", highlight=False)
            raise typer.Exit(ExitCode.INVALID)
    if not interactive:
        if saved is not None:
            ui.resume(shell, saved)
        raise typer.Exit(ui.piped(shell, getattr(sys.stdin, "buffer", sys.stdin)))
    try:
        with console.status("loading models..."):
            session.warm_up()
    except KeyboardInterrupt:
        console.print("[yellow]skipped loading the models[/]: they load with the first line")
    except Exception as exc:  # the session still checks lines; running them reports the problem again
        console.print(f"[yellow]warning[/]: could not load the models: {escape(str(exc))}")
    autosave = autosaving.Autosave(autosaving.default_folder())
    raise typer.Exit(ui.interactive(shell, history or ui.default_history_path(), autosave, saved))


def register(app: typer.Typer) -> None:
    app.command("repl")(repl)
