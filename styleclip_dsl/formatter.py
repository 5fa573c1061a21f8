"""AST -> canonical recipe text (``styleclip fmt``).

One statement per line, single spaces, ``k=v`` without spaces, single quotes
unless the text holds one, bare paths where the grammar allows them.
Comments come back where they were (own line, or after a statement); runs
of blank lines shrink to one.
"""
from __future__ import annotations

import math

from . import ast
from .keywords import keywords
from .lexical import is_bare_path, is_device_name, is_name, quote


def format_recipe(recipe: ast.Recipe) -> str:
    lines: list[str] = []
    comments = sorted(recipe.comments, key=lambda c: (c.span.line, c.span.column))
    pending = 0
    last_line = 0

    def gap_before(line: int) -> None:
        if last_line and line > last_line + 1 and lines and lines[-1] != "":
            lines.append("")

    for index, statement in enumerate(recipe.statements):
        line = statement.span.line
        while pending < len(comments) and line and comments[pending].span.line < line:
            comment = comments[pending]
            gap_before(comment.span.line)
            lines.append(comment.text)
            last_line = comment.span.line
            pending += 1
        if line:
            gap_before(line)
        text = format_statement(statement)
        end = statement.span.end_line
        next_line = recipe.statements[index + 1].span.line if index + 1 < len(recipe.statements) else None
        if end and next_line != end and pending < len(comments) and comments[pending].span.line == end:
            text += "  " + comments[pending].text
            pending += 1
        lines.append(text)
        last_line = max(last_line, end)
    for comment in comments[pending:]:
        gap_before(comment.span.line)
        lines.append(comment.text)
        last_line = comment.span.line
    return "\n".join(lines) + "\n" if lines else ""


def format_statement(node: ast.Statement) -> str:
    if isinstance(node, ast.Unknown):
        return f"{node.word.name} {node.rest}".rstrip()
    if isinstance(node, ast.Use):
        return f"use {_name(node.modelset.name)}"
    if isinstance(node, ast.Seed):
        return f"seed {format_value(node.value)}"
    if isinstance(node, ast.Device):
        return f"device {node.name.name if is_device_name(node.name.name) else quote(node.name.name)}"
    if isinstance(node, ast.Invert):
        return " ".join(["invert", *(format_path(p.value) for p in node.paths), *(_param(p) for p in node.params)]) \
            + _alias(node.alias)
    if isinstance(node, ast.Generate):
        return " ".join(["generate", *(_param(p) for p in node.params)]) + _alias(node.alias)
    if isinstance(node, ast.Load):
        return f"load {format_path(node.path.value)}" + _alias(node.alias)
    if isinstance(node, ast.On):
        return f"on {node.subject.name}"
    if isinstance(node, ast.Edit):
        return _edit(node)
    if isinstance(node, ast.Save):
        mode = "" if node.mode == "image" else node.mode + " "
        return " ".join([f"save {mode}{format_path(node.path.value)}", *(_param(p) for p in node.params)])
    if isinstance(node, ast.Export):
        return f"export latent {format_path(node.path.value)}"
    if isinstance(node, ast.Expect):
        args = [format_value(a) for a in node.args] + [_param(k) for k in node.kwargs]
        return f"expect {node.metric.name}({', '.join(args)}) {node.op} {format_value(node.value)}"
    raise TypeError(f"not a statement: {node!r}")


def _edit(node: ast.Edit) -> str:
    if node.form == "apply":
        head = f"apply {quote(node.text.value)} via {node.engine.name}"
    else:
        head = f"{node.engine.name} {quote(node.text.value)}"
    parts = [head, *(_param(p) for p in node.params)]
    return ("then " if node.chained else "") + " ".join(parts)


def _param(param: ast.Param) -> str:
    return f"{param.key.name}={format_value(param.value)}"


def _alias(alias: ast.Ident | None) -> str:
    return f" as {alias.name}" if alias is not None else ""


def _name(value: str) -> str:
    return value if is_name(value) and value not in keywords() else quote(value)




def format_path(value: str) -> str:
    bare = value and is_bare_path(value) and value not in keywords() and not value.startswith("face=")
    return value if bare else quote(value)


def format_number(value: int | float) -> str:
    """The number as the grammar writes it; a number beyond a float (parsed as inf) as ``1e999``,
    which parses back to the same value (``repr`` would give ``inf``, which is no number)."""
    if isinstance(value, float) and math.isinf(value):
        return "-1e999" if value < 0 else "1e999"
    return repr(value) if isinstance(value, float) else str(value)


def format_value(node: ast.Value) -> str:
    if isinstance(node, ast.Number):
        return format_number(node.value)
    if isinstance(node, ast.Text):
        return quote(node.value)
    if isinstance(node, ast.Word):
        return node.value
    if isinstance(node, ast.Bool):
        return "true" if node.value else "false"
    if isinstance(node, ast.Range):
        text = f"{format_number(node.start.value)}..{format_number(node.stop.value)}"
        if node.step is not None:
            text += f" step {format_number(node.step.value)}"
        if node.count is not None:
            text += f" count {format_number(node.count.value)}"
        return text
    return "[" + ", ".join(format_value(item) for item in node.items) + "]"
