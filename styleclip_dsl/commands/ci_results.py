"""The outcome of `styleclip test`: which recipes it found, what each did, the exit code.

Exit codes of `styleclip test` (the most severe outcome over all recipes wins):

| code | meaning |
| --- | --- |
| 0 | every recipe ran and every expectation held |
| 1 | an expectation failed (and nothing worse happened) |
| 2 | a recipe is invalid (nothing of it ran), or no recipe was found |
| 3 | a runtime error (a missing model file, input, golden image, ...) |
| 130 | interrupted |
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exit_codes import ExitCode

PASSED, FAILED, INVALID, ERROR = "passed", "failed", "invalid", "error"
EXIT_FOR_STATUS: dict[str, int] = {PASSED: ExitCode.OK, FAILED: ExitCode.FAILED, INVALID: ExitCode.INVALID,
                                   ERROR: ExitCode.RUNTIME}
STATUS_FOR_EXIT: dict[int, str] = {v: k for k, v in EXIT_FOR_STATUS.items()}
EXIT_NOTHING_FOUND = ExitCode.INVALID
RECIPE_SUFFIX = ".sc"

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
        "==": operator.eq, "!=": operator.ne}


@dataclass
class ItemValue:
    """One item's measured value of an expectation."""

    item: str
    value: float | str
    passed: bool


@dataclass
class Expectation:
    """One evaluated ``expect`` line of a recipe."""

    line: int
    source: str            # the recipe line as written, e.g. "expect clip('smile') > 0.2"
    metric: str
    op: str
    target: float | str
    passed: bool
    measured: list[ItemValue]
    seconds: float = 0.0

    @property
    def expected(self) -> str:
        return f"{self.op} {self.target!r}" if isinstance(self.target, str) else f"{self.op} {self.target:g}"

    def measured_text(self, only_failing: bool = False) -> str:
        vals = [m for m in self.measured if not (only_failing and m.passed)]
        return ", ".join(f"{m.item}={format_value(m.value)}" for m in vals)

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "source": self.source, "metric": self.metric, "op": self.op,
                "target": self.target, "passed": self.passed, "seconds": round(self.seconds, 4),
                "measured": [{"item": m.item, "value": m.value, "passed": m.passed} for m in self.measured]}


@dataclass
class RecipeResult:
    """What one recipe did: status passed, failed, invalid or error."""

    path: str              # as shown to the user (relative to the working folder when possible)
    status: str
    seconds: float = 0.0
    expectations: list[Expectation] = field(default_factory=list)
    message: str = ""      # diagnostics of an invalid recipe, the runtime error, notices

    @property
    def exit_code(self) -> int:
        return EXIT_FOR_STATUS[self.status]

    @property
    def failed_expectations(self) -> list[Expectation]:
        return [e for e in self.expectations if not e.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "exit_code": self.exit_code,
                "seconds": round(self.seconds, 3), "message": self.message,
                "expectations": [e.to_dict() for e in self.expectations]}


def format_value(v: float | str) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def holds(value: float | str, op: str, target: float | str) -> bool:
    """Whether one measured value satisfies ``op target`` (text compares as text)."""
    if isinstance(value, str) or isinstance(target, str):
        return op in ("==", "!=") and _OPS[op](str(value), str(target))
    return bool(_OPS[op](float(value), float(target)))


def expectations_from_report(report, recipe_text: str) -> list[Expectation]:
    """The runtime's ``RunReport.expectations`` with the recipe's own lines and step timings."""
    lines = recipe_text.splitlines()
    seconds = {t["id"]: float(t.get("seconds", 0.0)) for t in report.timings}
    out = []
    for e in report.expectations:
        source = lines[e.line - 1].strip() if 0 < e.line <= len(lines) else f"expect {e.metric} {e.op} {e.target!r}"
        # the runtime's own per-item verdicts (with several judges an item holds only if every reading
        # does, which the value's text alone cannot say); a report cached before they were kept: the text
        item_passed = e.item_passed if e.item_passed is not None else \
            [holds(value, e.op, e.target) for _, value in e.measured]
        measured = [ItemValue(name, value, ok) for (name, value), ok in zip(e.measured, item_passed)]
        out.append(Expectation(e.line, source, e.metric, e.op, e.target, e.passed, measured,
                               seconds.get(e.step, 0.0)))
    return out


def discover(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Recipe files under ``paths`` (files as given; folders searched recursively for ``*.sc``,
    skipping hidden folders), sorted and without duplicates, plus one problem per unusable path."""
    found: list[Path] = []
    problems: list[str] = []
    for p in paths:
        if p.is_file():
            found.append(p)
        elif p.is_dir():
            inside = [f for f in sorted(p.rglob(f"*{RECIPE_SUFFIX}"))
                      if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)]
            if not inside:
                problems.append(f"{p}: no recipes (*{RECIPE_SUFFIX}) in this folder")
            found.extend(inside)
        else:
            problems.append(f"{p}: no such file or folder")
    unique: dict[Path, Path] = {}
    for f in found:
        unique.setdefault(f.resolve(), f)
    return list(unique.values()), problems


def display_path(path: Path, cwd: Path | None = None) -> str:
    """``path`` relative to the working folder when it is inside it, POSIX style."""
    cwd = (cwd or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def overall_exit(results: list[RecipeResult]) -> int:
    """The most severe exit code over all recipes (0 when every one passed)."""
    return max((r.exit_code for r in results), default=EXIT_NOTHING_FOUND)
