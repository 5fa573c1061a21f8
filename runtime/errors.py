"""Runtime errors that point back at the recipe line that caused them."""
from __future__ import annotations


class StepError(Exception):
    """A failure while running one plan step. The CLI renders it with the
    recipe's file, line and column (the step's span) and the hint."""

    def __init__(self, message: str, step: dict | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.hint = hint

    @property
    def span(self) -> dict | None:
        return (self.step or {}).get("span")


class Interrupted(Exception):
    """The user interrupted a running step (Ctrl-C); nothing was half-written."""
