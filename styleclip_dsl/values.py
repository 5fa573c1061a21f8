"""How messages name AST values, and which values are sweeps."""
from __future__ import annotations

from . import ast


def describe(node: ast.Value) -> str:
    """How a message names the value: "a string ('x')", "a number (3)", ..."""
    if isinstance(node, ast.Number):
        return f"a number ({node.value})"
    if isinstance(node, (ast.Text, ast.Word)):
        return f"a string ('{node.value}')"
    if isinstance(node, ast.Bool):
        return "a boolean"
    return "a sweep"


def is_sweep(node: ast.Value) -> bool:
    return isinstance(node, (ast.Range, ast.ListValue))
