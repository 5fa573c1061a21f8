"""Runtime errors that point back at the recipe line that caused them."""
from __future__ import annotations

from typing import Any


class StepError(Exception):
    """A failure while running one plan step. The CLI renders it with the
    recipe's file, line and column (the step's span) and the hint."""

    def __init__(self, message: str, step: Any = None, hint: str | None = None) -> None:
        """``step``: the plan step that failed (a ``styleclip_dsl.plan.Step``, or its JSON data)."""
        super().__init__(message)
        self.message = message
        self.step = step
        self.hint = hint

    def step_data(self) -> dict | None:
        """The failed step as JSON data (what a Ray worker sends back to the driver)."""
        return self.step.to_dict() if hasattr(self.step, "to_dict") else self.step

    @property
    def span(self) -> dict | None:
        """The failed step's span as JSON data ({line, column, end_line, end_column}), or None."""
        span = getattr(self.step, "span", None)
        if span is not None:
            return span.to_dict()
        return self.step.get("span") if isinstance(self.step, dict) else None


class Interrupted(Exception):
    """The user interrupted a running step (Ctrl-C); nothing was half-written."""
