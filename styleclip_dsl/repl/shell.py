"""One input at a time: a ``:`` command or recipe lines, run with progress and Ctrl-C handling.

Shared by the interactive prompt and piped input (``styleclip repl < file``).
No input ends the session: a line that is not UTF-8 text is an ``E-encoding``
diagnostic, and any exception an input raises (a bug) is shown as an internal
error, with the line not added and the session as it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.console import Console
from rich.markup import escape

from ..commands.progress import EventPrinter
from ..diagnostics import Diagnostic, render_diagnostics
from ..spans import Span
from . import help as help_topics
from .commands import Commands
from .completion import CompletionState
from .interrupts import InterruptGuard
from .preview import Protocol
from .report import render_outcome
from .session import SOURCE_NAME, Outcome, ReplSession

QUIT_COMMANDS = (":quit", ":q", ":exit")


@dataclass
class Handled:
    """What one input did: ``kind`` is "entry", "command" or "quit"; ``ok`` whether it succeeded."""

    kind: str
    ok: bool
    outcome: Outcome | None = None


class Shell:
    def __init__(self, session: ReplSession, console: Console, err: Console | None = None,
                 protocol: Protocol = "blocks", quiet: bool = False) -> None:
        self.session = session
        self.console = console
        self.err = err or console
        self.quiet = quiet
        self.commands = Commands(session, console, self.err, self.run_action, protocol)

    def handle(self, text: str) -> Handled:
        """Run one input; never raises (but KeyboardInterrupt), whatever the input."""
        try:
            bad = encoding_problem(text, SOURCE_NAME)
            if bad is not None:
                render_diagnostics([bad], "", self.err)
                return Handled("entry", False, Outcome("invalid", text, [bad]))
            return self._handle(text)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a bug must not end the session: say so and keep going
            self._internal_error(exc)
            return Handled("entry", False, Outcome("failed", text, message=f"internal error: {exc!r}"))

    def _internal_error(self, exc: Exception) -> None:
        try:
            self.err.print(f"[bold red]internal error[/]: {escape(f'{type(exc).__name__}: {exc}')}\n"
                           "[dim]the line was not added; the session is unchanged (please report this)[/]",
                           highlight=False)
        except Exception:  # the console itself failed: plain text, never a second crash
            self.err.file.write(f"internal error: {type(exc).__name__}\n")

    def _handle(self, text: str) -> Handled:
        stripped = text.strip()
        if stripped.split(" ")[0] in QUIT_COMMANDS:
            return Handled("quit", True)
        if stripped.startswith(":"):
            return Handled("command", self.commands.run(stripped))
        # a long mapper training starts only when agreed to (asked on the plan the entry runs)
        outcome = self.run_action(lambda: self.session.submit(text, consent=self.commands.confirm_training))
        return Handled("entry", outcome.accepted, outcome)

    def run_action(self, action: Callable[[], Outcome]) -> Outcome:
        """Run a session call that may execute steps: progress events, Ctrl-C, then the outcome."""
        printer = _LazyPrinter(lambda: EventPrinter(self.console, self.err, quiet=self.quiet))
        try:
            with InterruptGuard(self.session.request_stop), printer:
                self.session.event_sink = printer.handle
                self.commands.pause_progress = printer.pause
                outcome = action()
        except KeyboardInterrupt:
            outcome = Outcome("interrupted")
        finally:
            self.session.event_sink = lambda event: None
            self.commands.pause_progress = lambda: None
        render_outcome(outcome, self.console, self.err)
        return outcome

    def completion_state(self) -> CompletionState:
        facts = self.session.facts()
        return CompletionState(subjects=facts.subjects, prompts=self.session.known_prompts(),
                               commands={**help_topics.COMMANDS}, help_topics=help_topics.topics(),
                               base_dir=self.session.base_dir)

    def prompt_label(self) -> str:
        current = self.session.facts().current
        return f"styleclip ({current})> " if current else "styleclip> "


class _LazyPrinter:
    """An EventPrinter started by the first event, so a line that runs nothing prints nothing."""

    def __init__(self, make: Callable[[], EventPrinter]) -> None:
        self.make = make
        self.printer: EventPrinter | None = None

    def handle(self, event: dict) -> None:
        if self.printer is None:
            self.printer = self.make()
            self.printer.__enter__()
        self.printer.handle(event)

    def pause(self) -> None:
        """End the progress display (before a question at the prompt); the next event starts a new one."""
        if self.printer is not None:
            self.printer.__exit__(None, None, None)
            self.printer = None

    def __enter__(self) -> "_LazyPrinter":
        return self

    def __exit__(self, *exc) -> None:
        if self.printer is not None:
            self.printer.__exit__(*exc)


def encoding_problem(text: str, source_name: str) -> Diagnostic | None:
    """An ``E-encoding`` diagnostic when ``text`` holds bytes that were not UTF-8 (lone surrogates,
    as a terminal or a pipe decodes them with ``surrogateescape``), else None."""
    if not any("\ud800" <= char <= "\udfff" for char in text):
        return None
    shown = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
    for number, line in enumerate(text.split("\n"), 1):
        for column, char in enumerate(line, 1):
            if "\ud800" <= char <= "\udfff":
                byte = f"0x{ord(char) - 0xDC00:02x}" if char >= "\udc80" else f"U+{ord(char):04X}"
                return Diagnostic(f"the line is not UTF-8 text (byte {byte})", "type or paste UTF-8 text",
                                  Span(number, column, number, column + 1), source_name, "error", "E-encoding",
                                  shown)
    return None
