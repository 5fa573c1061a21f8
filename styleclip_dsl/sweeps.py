"""Expansion of sweeps (``a..b step s``, ``a..b count n``, ``[x, y]``) into values.

The checker and the compiler both call ``expand``; ranges include their end
when a step lands on it, and run downward when ``b < a``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import ast
from .spans import Span
from .values import OUT_OF_RANGE


@dataclass(frozen=True)
class SweepError:
    message: str
    hint: str | None
    span: Span


Numbers = list[int] | list[float]

_EPS = 1e-9


def expand(node: ast.Range | ast.ListValue, integer: bool, limit: int) -> Numbers | SweepError:
    """The values of a sweep, as ints when ``integer`` (else floats), at most ``limit`` of them."""
    if isinstance(node, ast.ListValue):
        return _expand_list(node, integer, limit)
    return _expand_range(node, integer, limit)


def _expand_list(node: ast.ListValue, integer: bool, limit: int) -> Numbers | SweepError:
    if not node.items:
        return SweepError("empty sweep list", "list at least one value: [0.1, 0.2]", node.span)
    if len(node.items) > limit:
        return SweepError(f"sweep has {len(node.items)} values (at most {limit})", None, node.span)
    values: list[float] = []
    for item in node.items:
        if not isinstance(item, ast.Number):
            return SweepError("a sweep list holds numbers only", None, item.span)
        bad = _check_number(item, integer)
        if bad:
            return bad
        values.append(item.value)
    return _typed(values, integer)


def _expand_range(node: ast.Range, integer: bool, limit: int) -> Numbers | SweepError:
    for part in (node.start, node.stop, node.step, node.count):
        if part is not None:
            bad = _check_number(part, integer or part is node.count)
            if bad:
                return bad
    start, stop = float(node.start.value), float(node.stop.value)
    if not math.isfinite(stop - start):
        return SweepError("sweep range is too wide", None, node.span)
    if node.count is not None:
        count = int(node.count.value)
        if count < 1:
            return SweepError("a sweep needs count >= 1", None, node.count.span)
        if count > limit:
            return SweepError(f"sweep has {count} values (at most {limit})", None, node.count.span)
        if count == 1:
            return _typed([start], integer)
        width = (stop - start) / (count - 1)
        values = [start + i * width for i in range(count)]
        if integer and any(abs(v - round(v)) > _EPS for v in values):
            return SweepError(
                f"count {count} does not give whole numbers from {node.start.value} to {node.stop.value}",
                "use `step` for an integer parameter",
                node.span,
            )
        return _typed(values, integer)
    step = float(node.step.value) if node.step is not None else 1.0
    if step <= 0:
        span = node.step.span if node.step is not None else node.span
        return SweepError("a sweep step must be > 0", "ranges run downward by themselves when b < a", span)
    steps = abs(stop - start) / step + _EPS  # inf when a tiny step overflows
    if not steps < limit:
        shown = f"{math.floor(steps) + 1}" if steps < 1e6 else "over a million"
        return SweepError(
            f"sweep has {shown} values (at most {limit})", "use a larger step or `count N`", node.span
        )
    n = math.floor(steps) + 1
    sign = 1.0 if stop >= start else -1.0
    return _typed([start + sign * i * step for i in range(n)], integer)


def _check_number(node: ast.Number, integer: bool) -> SweepError | None:
    if not math.isfinite(node.value):
        return SweepError(OUT_OF_RANGE, None, node.span)
    if integer and not isinstance(node.value, int):
        return SweepError(f"expected an integer, got {node.value}", None, node.span)
    return None


def _typed(values: list[float], integer: bool) -> Numbers:
    if integer:
        return [int(round(v)) for v in values]
    return [round(float(v), 12) + 0.0 for v in values]
