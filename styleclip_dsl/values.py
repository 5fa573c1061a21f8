"""How messages name AST values, which values are sweeps, and which numbers are absurd for a parameter."""
from __future__ import annotations

import math

from . import ast
from .constraints import Bound, Constraint

OUT_OF_RANGE = "number out of range (a float holds up to about 1.8e308)"
# A numeric parameter's largest magnitude, unless its constraint declares a larger bound (seeds do):
# finite but absurd values (alpha=1e300) are typos or overflows waiting to happen, not settings.
MAX_MAGNITUDE = 1e6


def magnitude_limit(constraint: Constraint | None) -> float:
    """The largest ``|value|`` a numeric parameter with ``constraint`` takes: ``MAX_MAGNITUDE``, or the
    larger magnitude of a declared ``Bound`` end."""
    limit = MAX_MAGNITUDE
    if isinstance(constraint, Bound):
        for end in (constraint.low, constraint.high):
            if end is not None:
                limit = max(limit, abs(float(end)))
    return limit


def magnitude_problem(key: str, value: float, constraint: Constraint | None,
                      default: object = None) -> tuple[str, str] | None:
    """(message, hint) of ``E-out-of-range`` when ``value`` is finite but beyond the parameter's
    ``magnitude_limit``, else None."""
    limit = magnitude_limit(constraint)
    if not math.isfinite(value) or abs(value) <= limit:
        return None
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    hint = f"a {key} this large is no setting but a typo"
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        hint = f"did you mean a value near its default, {default:g}?"
    return f"{key}={shown} is out of range: |{key}| is at most {limit:g}", hint


def describe(node: ast.Value) -> str:
    """How a message names the value: "a string ('x')", "a number (3)", ..."""
    if isinstance(node, ast.Number):
        if not math.isfinite(node.value):
            return "a number out of range"
        return f"a number ({node.value})"
    if isinstance(node, (ast.Text, ast.Word)):
        return f"a string ('{node.value}')"
    if isinstance(node, ast.Bool):
        return "a boolean"
    return "a sweep"


def is_sweep(node: ast.Value) -> bool:
    return isinstance(node, (ast.Range, ast.ListValue))
