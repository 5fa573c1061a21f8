"""How messages name AST values, and which values are sweeps."""
from __future__ import annotations

import math

from . import ast

OUT_OF_RANGE = "number out of range (a float holds up to about 1.8e308)"


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
