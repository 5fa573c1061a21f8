"""Splitting a plan into batches of subjects, each a plan of its own (torch- and ray-free).

A batch is one source step restricted to a slice of its subjects (``generate``: seeds; ``invert``:
the files its patterns expand to) followed by the edit steps that descend from it. Output steps
(save, export, expect) stay with the driver, which needs every subject of a grid or an expectation.
Step hashes get the batch's number, so a worker's memo never mixes two batches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from styleclip_dsl.engines.registry import ENGINES

# Subjects per batch: the executor's own chunk (render, inversion: AdaptiveBatch(16)), so a batch
# computes exactly the chunks a local run computes and the results are the same bytes.
DEFAULT_BATCH = 16


@dataclass(frozen=True)
class Batch:
    """One unit of work for a worker."""

    number: int                 # position in the run (results are put back in this order)
    source_id: str              # the plan's source step
    units: int                  # how many seeds or files
    plan: dict                  # the batch's plan: the restricted source + its edit steps
    rendered: tuple[str, ...] = field(default=())  # step ids whose images the driver's outputs need


def source_units(step: dict, base: Path) -> list:
    """What a source step's subjects come from: its seeds, or its files (as the executor finds them);
    a ``load`` step is one unit (a latent file is read whole)."""
    if step["op"] == "generate":
        return list(step["params"]["seeds"])
    if step["op"] == "invert":
        from ..io.image_input import expand_paths

        return [str(p) for p in expand_paths(step["params"]["paths"], base, step)]
    return [step["params"]["path"]]


def _restricted(step: dict, units: list) -> dict:
    params = dict(step["params"])
    if step["op"] == "generate":
        params["seeds"] = units
    elif step["op"] == "invert":
        params["paths"] = units
    return {**step, "params": params}


def descendants(plan: dict, source_id: str) -> list[dict]:
    """The steps computed from ``source_id``, in plan order."""
    reached = {source_id}
    out = []
    for step in plan["steps"]:
        if step.get("input") in reached:
            reached.add(step["id"])
            out.append(step)
    return out


def split_plan(plan: dict, base: Path, batch_size: int = DEFAULT_BATCH) -> list[Batch]:
    """Every source step's subjects in batches of ``batch_size`` units, in plan order."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    batches: list[Batch] = []
    for source in (s for s in plan["steps"] if s["kind"] == "source"):
        below = descendants(plan, source["id"])
        edits = [s for s in below if s["kind"] == "edit"]
        outputs = [s for s in below if s["kind"] != "edit"]
        rendered = tuple(dict.fromkeys(s["input"] for s in outputs
                                       if s["kind"] == "expect" or (s["kind"] == "save" and s.get("mode") != "aligned")))
        units = source_units(source, base)
        size = batch_size if source["op"] != "load" else max(1, len(units))
        for start in range(0, len(units), size):
            number = len(batches)
            part = units[start:start + size]
            steps = [_restricted(source, part)] + [dict(s) for s in edits]
            for s in steps:
                s["hash"] = f"{s.get('hash') or s['id']}#batch{number}"
            batches.append(Batch(number, source["id"], len(part), {**plan, "steps": steps}, rendered))
    return batches


def shared_edits(plan: dict) -> list[dict]:
    """The edit steps whose directions and mappers every batch needs (computed once by each engine's
    ``prepare``, then hits): every edit of a known engine (``styleclip_dsl.engines.registry``)."""
    return [s for s in plan["steps"] if s["kind"] == "edit" and s.get("engine") in ENGINES]
