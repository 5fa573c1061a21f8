"""Plain Python values of AST value nodes, and their names in messages."""
from __future__ import annotations

from . import ast

PlainValue = int | float | str | bool


def plain(node: ast.Scalar) -> PlainValue:
    """The Python value of a scalar (a bare word is its text)."""
    return node.value


def kind(node: ast.Value) -> str:
    """"number", "string" (quoted or a bare word), "bool", "range" or "list"."""
    if isinstance(node, ast.Number):
        return "number"
    if isinstance(node, (ast.Text, ast.Word)):
        return "string"
    if isinstance(node, ast.Bool):
        return "bool"
    if isinstance(node, ast.Range):
        return "range"
    return "list"


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
