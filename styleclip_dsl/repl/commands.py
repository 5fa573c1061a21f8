"""The ``:`` commands (``:help``, ``:plan``, ``:show``, ``:undo``, ...), printed with rich.

Each handler takes the argument text and returns whether it succeeded;
``:quit`` is handled by the shell. Handlers only read the session or call
its methods, so the logic stays testable in ``ReplSession``.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..suggest import did_you_mean
from ..training_gate import TrainingNeeds
from . import help as help_topics
from . import preview
from .session import Outcome, ReplError, ReplSession

RunAction = Callable[[Callable[[], Outcome]], Outcome]


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class Commands:
    """Runs one ``:`` command against a session and prints the result."""

    def __init__(self, session: ReplSession, console: Console, err: Console, run_action: RunAction,
                 protocol: preview.Protocol = "blocks") -> None:
        self.session = session
        self.console = console
        self.err = err
        self.run_action = run_action
        self.protocol = protocol
        # asks the user a yes/no question (the interactive prompt sets it); None: nobody to ask (piped input)
        self.ask: Callable[[str], bool] | None = None
        # stops the progress display of the running entry before a question (the shell sets it)
        self.pause_progress: Callable[[], None] = lambda: None
        self.handlers: dict[str, Callable[[str], bool]] = {
            ":help": self.help, ":plan": self.plan, ":explain": self.explain, ":show": self.show,
            ":undo": self.undo, ":redo": self.redo,
            ":history": self.history, ":save": self.save, ":models": self.models, ":cache": self.cache,
        }

    def run(self, line: str) -> bool:
        name, _, arg = line.strip().partition(" ")
        handler = self.handlers.get(name)
        if handler is None:
            names = list(help_topics.COMMANDS)
            hint = did_you_mean(name, names, "commands: " + " ".join(names))
            self.err.print(f"[bold red]error[/]: unknown command {escape(name)}" + (f"\n[bold cyan]hint[/]: {hint}"
                                                                                    if hint else ""))
            return False
        try:
            return handler(arg.strip())
        except ReplError as exc:
            self.err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
            return False
        except (OSError, ValueError, RuntimeError) as exc:
            self.err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
            return False

    # -- handlers ----------------------------------------------------------------------
    def help(self, arg: str) -> bool:
        renderable = help_topics.help_topic(arg)
        if renderable is None:
            names = help_topics.topics()
            hint = did_you_mean(arg, names, None)
            self.err.print(f"[bold red]error[/]: no help topic '{escape(arg)}'"
                           + (f" ({hint})" if hint else ""))
            self.console.print("topics: " + ", ".join(names), highlight=False)
            return False
        self.console.print(renderable)
        if not arg:
            self.console.print("topics (:help TOPIC): " + ", ".join(help_topics.topics()), highlight=False)
        return True

    def plan(self, arg: str) -> bool:
        plan = self.session.plan
        if plan is None:
            self.console.print("the session is empty")
            return True
        from ..commands.plan import print_plan_summary

        print_plan_summary(plan, self.console, self.session.default_origins())
        return True

    def explain(self, arg: str) -> bool:
        from ..commands.plan import print_explanation

        explanation, plan = self.session.explain(arg or None)
        print_explanation(explanation, plan, self.console)
        for problem in explanation.problems:
            self.err.print(f"[bold red]error[/]: {escape(problem)}", highlight=False)
        return not explanation.problems

    def show(self, arg: str) -> bool:
        shown = self.session.show(arg or None)
        columns = max(8, min(self.console.width - 2, 48, shown.pixels.shape[1]))
        if self.protocol == "kitty":
            self._raw(preview.kitty_image(shown.pixels, columns))
        elif self.protocol == "iterm":
            self._raw(preview.iterm_image(shown.pixels, columns, shown.path.name))
        elif self.protocol == "sixel":
            self._raw(preview.sixel_image(preview.upscale(shown.pixels, 128)))
        elif self.protocol == "blocks":
            self.console.print(preview.half_blocks(shown.pixels, columns), end="")
        count = f"{shown.items} images" if shown.items > 1 else "1 image"
        self.console.print(f"{shown.subject} (line {shown.line}, {count}): {shown.path}", highlight=False)
        return True

    def _raw(self, data: str) -> None:
        self.console.file.write(data)
        self.console.file.flush()

    def undo(self, arg: str) -> bool:
        entry = self.session.undo()
        self.console.print(Text.assemble(("undone: ", "yellow"), entry))
        return True

    def redo(self, arg: str) -> bool:
        entry = self.session.redo_stack[-1] if self.session.redo_stack else None
        if entry is None:
            raise ReplError("nothing to redo")
        self.console.print(Text.assemble(("redo: ", "yellow"), entry))
        outcome = self.run_action(self.session.redo)
        return outcome.accepted

    def history(self, arg: str) -> bool:
        text = self.session.text
        if not text:
            self.console.print("the session is empty")
        for number, line in enumerate(text.splitlines(), 1):
            self.console.print(Text.assemble((f"{number:>4} | ", "dim"), line))
        if self.session.redo_stack:
            self.console.print(f"[dim]{len(self.session.redo_stack)} undone line(s): :redo brings them back[/]")
        return True

    def save(self, arg: str) -> bool:
        if not arg:
            raise ReplError("usage: :save FILE [--overwrite]")
        parts = shlex.split(arg)
        overwrite = "--overwrite" in parts or self.session.overwrite  # `styleclip repl --overwrite`
        parts = [p for p in parts if p != "--overwrite"]
        if not parts or not parts[0].strip():
            raise ReplError("usage: :save FILE [--overwrite]")
        path = Path(parts[0]).expanduser()
        if not path.is_absolute():
            path = self.session.base_dir / path
        if path.exists() and not overwrite and not self._confirm(f"{path} exists: replace it?"):
            raise ReplError(f"{path} exists and was left as it was: `:save {parts[0]} --overwrite` replaces it")
        saved = self.session.save(path)
        lines = saved.text.count("\n")
        self.console.print(f"saved {lines} line(s) to {saved.path}", highlight=False)
        if saved.restamped:
            self.console.print(f"re-stamped {len(saved.restamped)} output(s) with the saved recipe", highlight=False)
        for note in saved.notes:
            self.console.print(f"[yellow]note[/]: {escape(note)}", highlight=False)
        return True

    def _confirm(self, question: str) -> bool:
        if self.ask is None:
            return False
        try:
            return bool(self.ask(question))
        except (EOFError, KeyboardInterrupt):
            return False

    def confirm_training(self, needs: TrainingNeeds) -> bool:
        """The session's consent callback (``ReplSession.submit``): say what the entry would train and
        for how long, and go on only when the user agrees (piped input cannot agree: it is refused)."""
        self.pause_progress()
        self.err.print(f"[yellow]note[/]: {escape(needs.describe())}", highlight=False)
        if self._confirm("start the training?"):
            return True
        self.err.print("[bold red]not started[/]: the line was not added\n[bold cyan]hint[/]: check the "
                       "mapper's prompt (`:models` lists the shipped ones), or confirm at the prompt; "
                       "`styleclip run --train` trains for a recipe", highlight=False)
        return False

    def models(self, arg: str) -> bool:
        info = self.session.models_info()
        table = Table(title=f"model set {info.name}", title_justify="left", show_header=False)
        table.add_column("", style="bold")
        table.add_column("")
        table.add_row("description", info.description)
        table.add_row("file", info.source)
        table.add_row("device", info.device)
        table.add_row("networks", ", ".join(info.components))
        table.add_row("mappers", ", ".join(info.mappers) or "(none; global and optimize work on any prompt)")
        self.console.print(table)
        return True

    def cache(self, arg: str) -> bool:
        data = self.session.cache_info()
        disk = data["disk"]
        self.console.print(f"cache: {disk.root}  ({disk.entries} entries, {human_size(disk.total_bytes)}, "
                           f"cap {human_size(disk.max_bytes)})", highlight=False)
        if disk.by_kind:
            table = Table(show_header=True)
            for column in ("kind", "entries", "size"):
                table.add_column(column)
            for kind, (n, size) in disk.by_kind.items():
                table.add_row(kind, str(n), human_size(size))
            self.console.print(table)
        self.console.print(f"in memory: {data['memo_steps']} step result(s); {data['steps_run']} step(s) run "
                           f"in this session", highlight=False)
        return True
