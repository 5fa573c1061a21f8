"""Rendering runtime events: rich progress bars for people, JSON lines for tools.

Events are plain dicts from the runtime (``event`` is one of run_start,
step_start, progress, notice, warning, output, expect, step_end, run_end; with ``--ray`` also
cluster_start, batch_start, batch_end, cluster_end, and notices and warnings carry ``worker``).
"""
from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class EventPrinter:
    def __init__(self, console: Console, err: Console, quiet: bool = False, as_json: bool = False,
                 progress_console: Console | None = None) -> None:
        """``progress_console``: live bars there even when ``quiet`` (`styleclip test`: bars while a
        recipe runs, no per-step lines)."""
        self.console = console
        self.err = err
        self.quiet = quiet
        self.as_json = as_json
        self.progress_console = progress_console
        self.progress: Progress | None = None
        self.overall = None
        self.current = None
        self.steps_total = 0

    def __enter__(self) -> "EventPrinter":
        if not self.as_json and (not self.quiet or self.progress_console is not None):
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[message]}"), TimeElapsedColumn(),
                                     console=self.progress_console or self.err, transient=True)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)
            self.progress = None

    def _print(self, text: str) -> None:
        if self.quiet:  # only the bars (progress_console)
            return
        if self.progress is not None:
            self.progress.console.print(text)
        else:
            self.err.print(text)

    def handle(self, event: dict) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps(event, default=str) + "\n")
            sys.stdout.flush()
            return
        kind = event.get("event")
        if kind in ("notice", "warning"):
            style = "yellow" if kind == "warning" else "cyan"
            text = f"[{style}]{kind}[/]: {event['message']}"
            if self.quiet:
                self.err.print(text)
            else:
                self._print(text)
            return
        if self.progress is None:
            return
        if kind == "cluster_start":  # --ray: one bar for the subjects over every worker
            self.current = self.progress.add_task(
                f"  {event['subjects']} subjects in {event['batches']} batches on {len(event['workers'])} workers",
                total=event["subjects"], message="")
        elif kind == "batch_end" and self.current is not None:
            self.progress.update(self.current, completed=event["done"],
                                 message=f"{event['worker']}: batch {event['batch']}"
                                 + (" (retried on a restarted worker)" if event.get("restarted") else ""))
        elif kind == "cluster_end":
            if self.current is not None:
                self.progress.remove_task(self.current)
                self.current = None
            self._print(f"[green]✓[/] {event['subjects']} subjects on {event['workers']} workers "
                        f"in {event['seconds']:.2f}s")
        elif kind == "run_start":
            self.steps_total = event["steps"]
            self.overall = self.progress.add_task(f"recipe ({event['modelset']}, {event['device']})",
                                                  total=event["steps"], message="")
        elif kind == "step_start":
            if self.current is not None:
                self.progress.remove_task(self.current)
            self.current = self.progress.add_task(f"  line {event['line']}: {event['label']}", total=None,
                                                  message="")
        elif kind == "progress" and self.current is not None:
            self.progress.update(self.current, total=event["total"], completed=event["done"],
                                 message=event.get("message", ""))
        elif kind == "step_end":
            if self.current is not None:
                self.progress.remove_task(self.current)
                self.current = None
            if self.overall is not None:
                self.progress.advance(self.overall)
            hits = [f"{k.replace('_', ' ')}={v}" for k, v in event.items() if "cache" in k]
            label = f"line {event['line']}: {event['kind']} done in {event['seconds']:.2f}s"
            self._print(f"[green]✓[/] {label}" + (f" ({', '.join(hits)})" if hits else ""))
        elif kind == "output":
            self._print(f"  wrote {event['path']}")
        elif kind == "expect":
            mark = "[green]✓[/]" if event["passed"] else "[red]✗[/]"
            vals = ", ".join(f"{m['item']}={_fmt(m['value'])}" for m in event["measured"])
            self._print(f"{mark} line {event['line']}: expect {event['metric']} {event['op']} "
                        f"{event['target']!r}: measured {vals}")

    def summary(self, report) -> None:
        if self.as_json:
            return
        failed = report.failed_expectations
        out = self.console
        out.print(f"[bold]{len(report.outputs)}[/] outputs in {report.seconds:.1f}s"
                  + (f"; manifest {report.manifest}" if report.manifest else ""))
        if report.expectations:
            table = Table(title="expectations")
            for col in ("line", "metric", "expected", "measured", "result"):
                table.add_column(col)
            for e in report.expectations:
                vals = ", ".join(f"{n}={_fmt(v)}" for n, v in e.measured)
                table.add_row(str(e.line), e.metric, f"{e.op} {e.target!r}", vals,
                              "[green]pass[/]" if e.passed else "[red]FAIL[/]")
            out.print(table)
            if failed:
                out.print(f"[red]{len(failed)} expectation(s) failed[/]")


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
