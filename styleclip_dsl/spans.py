"""Source spans: where a node or a diagnostic sits in the recipe text."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A region of the source, 1-based; ``end_column`` is one past the last character.

    ``NO_SPAN`` (all zeros) marks nodes that were built in code rather than
    parsed (the property tests make such nodes).
    """

    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def known(self) -> bool:
        return self.line > 0

    def merge(self, other: "Span") -> "Span":
        """The smallest span covering both (an unknown span is ignored)."""
        if not other.known:
            return self
        if not self.known:
            return other
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(start[0], start[1], end[0], end[1])

    def to_dict(self) -> dict[str, int]:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }

    @staticmethod
    def from_dict(data: dict[str, int]) -> "Span":
        return Span(data["line"], data["column"], data["end_line"], data["end_column"])


NO_SPAN = Span(0, 0, 0, 0)
