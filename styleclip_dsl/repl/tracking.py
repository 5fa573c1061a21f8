"""Which statement made each subject's latest result, and which plan step holds it.

The REPL's ``:show`` needs "the latest result of the current subject". The
checker and compiler track the same thing while they walk a recipe; this is
the same walk over a parsed recipe, kept to the few facts the REPL needs
(subject names, their latest result's statement span, the current subject,
the edit texts), so the REPL does not reach into the compiler's internals.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import ast
from ..naming import GENERATE_DEFAULT_NAME, subject_name_for_path
from ..spans import Span


@dataclass
class SessionFacts:
    """What a recipe has defined so far, in source order."""

    current: str | None = None
    latest: dict[str, Span] = field(default_factory=dict)   # subject -> statement of its latest result
    prompts: list[str] = field(default_factory=list)         # edit texts, first use first, no repeats

    @property
    def subjects(self) -> list[str]:
        return list(self.latest)


def source_name(node: ast.Invert | ast.Generate | ast.Load) -> str:
    """The subject name a source statement defines (as the compiler names it)."""
    if node.alias is not None:
        return node.alias.name
    if isinstance(node, ast.Invert):
        return subject_name_for_path(node.paths[0].value)
    if isinstance(node, ast.Load):
        return subject_name_for_path(node.path.value)
    return GENERATE_DEFAULT_NAME


def track(recipe: ast.Recipe | None) -> SessionFacts:
    """Walk a (checked) recipe the way the compiler's scope does."""
    facts = SessionFacts()
    if recipe is None:
        return facts
    for node in recipe.statements:
        if isinstance(node, (ast.Invert, ast.Generate, ast.Load)):
            name = source_name(node)
            facts.latest.pop(name, None)  # a redefined name moves to the end
            facts.latest[name] = node.span
            facts.current = name
        elif isinstance(node, ast.On) and node.subject.name in facts.latest:
            facts.current = node.subject.name
        elif isinstance(node, ast.Edit):
            if facts.current is not None:
                facts.latest[facts.current] = node.span
            if node.text.value not in facts.prompts:
                facts.prompts.append(node.text.value)
    return facts


def _start(span: dict[str, Any]) -> tuple[int, int]:
    return span["line"], span["column"]


def _end(span: dict[str, Any]) -> tuple[int, int]:
    return span["end_line"], span["end_column"]


def step_for_statement(plan: dict[str, Any], span: Span) -> dict[str, Any] | None:
    """The source or edit step (plan JSON) that holds the result of the statement at ``span``.

    A statement has its own step unless its global edit was fused into the
    one it chains onto; then the fused step's span covers it.
    """
    where = (span.line, span.column)
    results = [s for s in plan.get("steps", []) if s["kind"] in ("source", "edit")]
    for step in results:
        if _start(step["span"]) == where:
            return step
    covering = [s for s in results if s["kind"] == "edit" and _start(s["span"]) <= where < _end(s["span"])]
    return covering[-1] if covering else None
