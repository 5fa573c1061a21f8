"""Plan rewrite: fuse consecutive edits of a fusable engine into one edit step.

``global 'a'; then global 'b'`` moves the StyleSpace offset twice from the
same chain; the runtime can apply both directions in one step. An edit of an
engine whose spec says ``fusable`` (today ``global``) folds into the edit of
the same engine it chains onto when neither sweeps and nothing else (a save,
an export, an expect) reads the earlier result.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from .engines.registry import ENGINES
from .plan import EditStep, Step


def _fusable(step: Step) -> bool:
    return isinstance(step, EditStep) and ENGINES[step.engine].fusable and step.sweep is None


def fuse_global_edits(steps: list[Step]) -> list[Step]:
    """The same plan with chains of fusable global edits merged (ids of merged steps vanish)."""
    readers = Counter(i for step in steps for i in step.inputs)
    out: list[Step] = []
    position: dict[str, int] = {}
    renamed: dict[str, str] = {}
    for step in steps:
        if hasattr(step, "input") and step.input in renamed:  # type: ignore[attr-defined]
            step = replace(step, input=renamed[step.input])  # type: ignore[attr-defined]
        target_id = step.inputs[0] if step.inputs else None
        if (
            target_id is not None
            and _fusable(step)
            and target_id in position
            and _fusable(out[position[target_id]])
            and out[position[target_id]].engine == step.engine  # type: ignore[attr-defined]
            and readers[target_id] == 1
        ):
            target = out[position[target_id]]
            assert isinstance(target, EditStep) and isinstance(step, EditStep)
            merged = replace(target, edits=target.edits + step.edits, span=target.span.merge(step.span))
            out[position[target_id]] = merged
            renamed[step.id] = target_id
            readers[target_id] = readers[step.id]
            continue
        position[step.id] = len(out)
        out.append(step)
    return out
