"""One input at a time: a ``:`` command or recipe lines, run with progress and Ctrl-C handling.

Shared by the interactive prompt and piped input (``styleclip repl < file``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.console import Console

from ..commands.progress import EventPrinter
from . import help as help_topics
from .commands import Commands
from .completion import CompletionState
from .interrupts import InterruptGuard
from .preview import Protocol
from .report import render_outcome
from .session import Outcome, ReplSession

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
        stripped = text.strip()
        if stripped.split(" ")[0] in QUIT_COMMANDS:
            return Handled("quit", True)
        if stripped.startswith(":"):
            return Handled("command", self.commands.run(stripped))
        outcome = self.run_action(lambda: self.session.submit(text))
        return Handled("entry", outcome.accepted, outcome)

    def run_action(self, action: Callable[[], Outcome]) -> Outcome:
        """Run a session call that may execute steps: progress events, Ctrl-C, then the outcome."""
        printer = _LazyPrinter(lambda: EventPrinter(self.console, self.err, quiet=self.quiet))
        try:
            with InterruptGuard(self.session.request_stop), printer:
                self.session.event_sink = printer.handle
                outcome = action()
        except KeyboardInterrupt:
            outcome = Outcome("interrupted")
        finally:
            self.session.event_sink = lambda event: None
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

    def __enter__(self) -> "_LazyPrinter":
        return self

    def __exit__(self, *exc) -> None:
        if self.printer is not None:
            self.printer.__exit__(*exc)
