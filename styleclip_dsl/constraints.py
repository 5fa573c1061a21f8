"""Value constraints for parameters (data, used by defaults.py and the checker)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """A numeric interval; a missing end is unbounded."""

    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def allows(self, value: object) -> bool:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and not self.low_inclusive):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and not self.high_inclusive):
                return False
        return True

    def describe(self) -> str:
        low_op = ">=" if self.low_inclusive else ">"
        high_op = "<=" if self.high_inclusive else "<"
        if self.low is not None and self.high is not None:
            left = "<=" if self.low_inclusive else "<"
            return f"{_num(self.low)} {left} x {high_op} {_num(self.high)}"
        if self.low is not None:
            return f"{low_op} {_num(self.low)}"
        if self.high is not None:
            return f"{high_op} {_num(self.high)}"
        return "any number"


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of words."""

    options: tuple[str, ...]

    def allows(self, value: object) -> bool:
        return value in self.options

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)


Constraint = Bound | OneOf


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
