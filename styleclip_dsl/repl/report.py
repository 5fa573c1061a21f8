"""Printing what a submitted line did: diagnostics with carets and hints, and how the session changed."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ..diagnostics import render_diagnostics
from .session import Outcome


def render_outcome(outcome: Outcome, console: Console, err: Console) -> None:
    """Diagnostics (relative to the line typed), then one line on what became of the entry."""
    if outcome.diagnostics:
        render_diagnostics(outcome.diagnostics, outcome.entry, err)
    if outcome.message and outcome.status != "declined":  # the consent callback said what and why
        err.print(f"[bold red]error[/]: {escape(outcome.message)}", highlight=False)
    if outcome.status == "invalid":
        err.print("[dim]nothing ran; the session is unchanged[/]")
    elif outcome.status == "failed":
        err.print("[dim]the line was not added; the session is unchanged[/]")
    elif outcome.status == "interrupted":
        err.print("[yellow]interrupted[/]: the line was not added; nothing half-written was kept")
    elif outcome.status == "ok":
        failed = outcome.failed_expectations
        if failed:
            console.print(f"[red]{len(failed)} expectation(s) failed[/] (the line is kept)")
