"""The terminal front of the REPL: a prompt_toolkit prompt, or lines from a pipe.

Interactive: Enter runs the input, Alt-Enter adds a line to a multi-line
entry, Tab completes, history persists in the cache folder, Ctrl-C clears the
line (or stops a running step), Ctrl-D leaves. No input ends the session (the
shell turns every failure into a message), and the accepted lines are
autosaved after every change (``autosave.py``), so a crash loses nothing:
``styleclip repl --resume`` brings the last session back.

Piped (``styleclip repl < file``): each input line is echoed after the prompt
and run like ``styleclip run`` would run it; the first line that fails stops
the script with run's exit code (2 invalid, including a line that is not
UTF-8, 3 runtime error, 130 interrupted); at the end the exit code is 1 if an
expectation failed, else 0.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from rich.markup import escape

from ..commands.recipe_input import RecipeDecodeError, decode_recipe
from ..diagnostics import render_diagnostics
from ..exit_codes import EXIT_EXPECT, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_RUNTIME
from . import autosave as autosaving
from .shell import Shell

if TYPE_CHECKING:
    from prompt_toolkit.history import FileHistory

BANNER = ("styleclip repl: each line runs at once. :help for commands, Tab to complete, "
          ":save FILE to keep the session as a recipe, Ctrl-D to leave.")


def default_history_path() -> Path:
    from styleclip_runtime.modelsets.registry import cache_root

    return cache_root() / "repl-history"


def safe_history(path: Path) -> FileHistory:
    """prompt_toolkit's FileHistory that never fails a prompt: characters that are not UTF-8 (lone
    surrogates) are stored as '?', and a history file that cannot be written is skipped."""
    from prompt_toolkit.history import FileHistory

    class SafeFileHistory(FileHistory):
        def store_string(self, string: str) -> None:
            clean = string.encode("utf-8", "replace").decode("utf-8")
            try:
                super().store_string(clean)
            except OSError:
                pass

    return SafeFileHistory(str(path))


def resume(shell: Shell, saved: autosaving.SavedSession) -> int:
    """Run a saved session's lines again (each as it was entered); returns how many were accepted."""
    shell.console.print(f"resuming {len(saved.entries)} line(s) from {escape(str(saved.path))}", highlight=False,
                        soft_wrap=True)
    accepted = 0
    for entry in saved.entries:
        shell.console.print(f"[dim]{escape(shell.prompt_label())}[/]{escape(entry)}", highlight=False)
        try:
            handled = shell.handle(entry)
        except KeyboardInterrupt:
            shell.err.print("[yellow]interrupted[/]: the remaining lines were not resumed")
            break
        accepted += handled.ok
    return accepted


def interactive(shell: Shell, history_path: Path | None = None,
                autosave: autosaving.Autosave | None = None,
                resume_from: autosaving.SavedSession | None = None) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings

    from .completion import ReplCompleter
    from .highlight import STYLE, RecipeLexer

    bindings = KeyBindings()

    @bindings.add("enter")
    def _submit(event) -> None:
        event.current_buffer.validate_and_handle()

    @bindings.add("escape", "enter")
    def _newline(event) -> None:
        event.current_buffer.insert_text("\n")

    history = InMemoryHistory()
    if history_path is not None:
        try:
            history_path.parent.mkdir(parents=True, exist_ok=True)
            history = safe_history(history_path)
        except OSError:
            pass
    prompt = PromptSession(
        lexer=RecipeLexer(), completer=ReplCompleter(shell.completion_state), complete_while_typing=False,
        history=history, auto_suggest=AutoSuggestFromHistory(), multiline=True, key_bindings=bindings,
        style=STYLE, prompt_continuation=lambda width, line, wrap: "." * (width - 2) + "> ",
        enable_history_search=False,
    )
    from prompt_toolkit.shortcuts import confirm

    shell.commands.ask = confirm  # `:save` over a file, a long mapper training: asked, y/n
    shell.console.print(BANNER, style="dim", highlight=False)
    if autosave is not None:
        _start_autosave(shell, autosave)
    if resume_from is not None:
        resume(shell, resume_from)
    failures = 0
    while True:
        try:
            text = prompt.prompt(_label(shell))
            failures = 0
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        except Exception as exc:  # the prompt itself failed (a terminal problem): say so, try again
            failures += 1
            shell.err.print(f"[bold red]internal error[/] in the prompt: {escape(repr(exc))}", highlight=False)
            if failures >= _PROMPT_FAILURES:
                shell.err.print("the prompt keeps failing; leaving (the session is autosaved)")
                return EXIT_RUNTIME
            continue
        try:
            handled = shell.handle(text)
        except KeyboardInterrupt:
            shell.err.print("[yellow]interrupted[/]")
            continue
        if handled.kind == "quit":
            break
    if autosave is not None:
        autosave.finish(shell.session)
    return EXIT_OK


_PROMPT_FAILURES = 5  # in a row


def _label(shell: Shell) -> str:
    try:
        return shell.prompt_label()
    except Exception:
        return "styleclip> "


def _start_autosave(shell: Shell, autosave: autosaving.Autosave) -> None:
    """Hook the autosave onto the session, and name a previous session that did not finish."""
    crashed = autosaving.unfinished(autosave.folder, exclude=autosave.path)
    if crashed is not None:
        shell.console.print(
            f"[yellow]note[/]: a session with {len(crashed.entries)} line(s) did not finish "
            f"({escape(str(crashed.path))}); `styleclip repl --resume` brings it back", highlight=False,
            soft_wrap=True)
    autosaving.prune(autosave.folder)

    def save() -> None:
        if not autosave.write(shell.session) and autosave.last_error is not None:
            shell.err.print(f"[yellow]warning[/]: could not autosave the session: "
                            f"{escape(str(autosave.last_error))}", highlight=False)

    shell.session.on_change = save


def piped(shell: Shell, lines: Iterable[str | bytes]) -> int:
    """Run input lines (text, or bytes that must be UTF-8) as a script, echoing each one."""
    start = time.perf_counter()
    outputs = 0
    failed = 0
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            try:
                raw = decode_recipe(raw, "<stdin>")
            except RecipeDecodeError as exc:
                bad = exc.diagnostic
                render_diagnostics([_on_line(bad, number)], "", shell.err)
                return EXIT_INVALID
        line = raw.rstrip("\n").rstrip("\r")
        if not line.strip():
            continue
        shell.console.print(f"[dim]{escape(shell.prompt_label())}[/]{escape(line)}", highlight=False)
        try:
            handled = shell.handle(line)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        if handled.kind == "quit":
            break
        if handled.kind == "command":
            if not handled.ok:
                return EXIT_INVALID
            continue
        outcome = handled.outcome
        assert outcome is not None
        if outcome.status == "invalid":
            return EXIT_INVALID
        if outcome.status in ("failed", "declined"):  # declined: a long training piped input cannot agree to
            return EXIT_RUNTIME
        if outcome.status == "interrupted":
            return EXIT_INTERRUPTED
        if outcome.report is not None:
            outputs += len(outcome.report.outputs)
        failed += len(outcome.failed_expectations)
    seconds = time.perf_counter() - start
    summary = f"[bold]{outputs}[/] outputs in {seconds:.1f}s"
    if failed:
        summary += f"; [red]{failed} expectation(s) failed[/]"
    shell.console.print(summary)
    return EXIT_EXPECT if failed else EXIT_OK


def _on_line(diagnostic, number: int):
    """A diagnostic about one line of standard input, moved to that line's number."""
    from dataclasses import replace

    from ..spans import Span

    span = diagnostic.span
    context = "\n" * (number - 1) + (diagnostic.context or "")
    return replace(diagnostic, span=Span(number, span.column, number, span.end_column), context=context)
