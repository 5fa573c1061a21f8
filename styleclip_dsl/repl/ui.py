"""The terminal front of the REPL: a prompt_toolkit prompt, or lines from a pipe.

Interactive: Enter runs the input, Alt-Enter adds a line to a multi-line
entry, Tab completes, history persists in the cache folder, Ctrl-C clears the
line (or stops a running step), Ctrl-D leaves.

Piped (``styleclip repl < file``): each input line is echoed after the prompt
and run like ``styleclip run`` would run it; the first line that fails stops
the script with run's exit code (2 invalid, 3 runtime error, 130
interrupted); at the end the exit code is 1 if an expectation failed, else 0.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

from rich.markup import escape

from .shell import Shell

EXIT_OK, EXIT_EXPECT, EXIT_INVALID, EXIT_RUNTIME, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
BANNER = ("styleclip repl: each line runs at once. :help for commands, Tab to complete, "
          ":save FILE to keep the session as a recipe, Ctrl-D to leave.")


def default_history_path() -> Path:
    from styleclip_runtime.modelsets.registry import cache_root

    return cache_root() / "repl-history"


def interactive(shell: Shell, history_path: Path | None = None) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory, InMemoryHistory
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
            history = FileHistory(str(history_path))
        except OSError:
            pass
    prompt = PromptSession(
        lexer=RecipeLexer(), completer=ReplCompleter(shell.completion_state), complete_while_typing=False,
        history=history, auto_suggest=AutoSuggestFromHistory(), multiline=True, key_bindings=bindings,
        style=STYLE, prompt_continuation=lambda width, line, wrap: "." * (width - 2) + "> ",
        enable_history_search=False,
    )
    shell.console.print(BANNER, style="dim", highlight=False)
    while True:
        try:
            text = prompt.prompt(shell.prompt_label())
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        try:
            handled = shell.handle(text)
        except KeyboardInterrupt:
            shell.err.print("[yellow]interrupted[/]")
            continue
        if handled.kind == "quit":
            break
    return EXIT_OK


def piped(shell: Shell, lines: Iterable[str]) -> int:
    """Run input lines as a script, echoing each one."""
    start = time.perf_counter()
    outputs = 0
    failed = 0
    for raw in lines:
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
        if outcome.status == "failed":
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
