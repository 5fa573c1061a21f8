"""The plan: a typed graph of steps, the contract between the language and the runtime.

Steps are frozen dataclasses in topological order. ``Plan.to_json()`` is
canonical (sorted keys, no whitespace); every step's ``hash`` is the sha256
of its canonical content without id and span, with each input replaced by
that input's hash. Source steps also hash the model set and the seed, so
every hash downstream changes with them. See docs/architecture.md.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from .spans import NO_SPAN, Span

PLAN_VERSION = 1
JsonValue = Any


def canonical_json(data: JsonValue) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(data: JsonValue) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Step:
    """Fields common to every step; ``kind`` is a class constant of each subclass."""

    kind: ClassVar[str] = ""
    id: str = field(kw_only=True)
    span: Span = field(default=NO_SPAN, kw_only=True)
    hash: str = field(default="", kw_only=True)

    @property
    def inputs(self) -> tuple[str, ...]:
        value = getattr(self, "input", None)
        return (value,) if value else ()

    def content(self) -> dict[str, JsonValue]:
        """The kind-specific fields as JSON data."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, JsonValue]:
        data = {"id": self.id, "kind": self.kind, "span": self.span.to_dict(), "hash": self.hash}
        data.update(self.content())
        return data


@dataclass(frozen=True)
class SourceStep(Step):
    kind: ClassVar[str] = "source"
    op: Literal["invert", "generate", "load"]
    subject: str
    params: dict[str, JsonValue]

    def content(self) -> dict[str, JsonValue]:
        return {"op": self.op, "subject": self.subject, "params": self.params}


@dataclass(frozen=True)
class EditEntry:
    text: str
    params: dict[str, JsonValue]
    # where each parameter the recipe left out came from: "prompt" (the set's engine_defaults for
    # this text), "modelset" (the set's engine-wide engine_defaults) or "engine" (the engine's spec). Shown by `plan` and the REPL's :plan; not part of the plan's JSON
    # or its hashes (a default and the same value written out are the same step).
    origins: dict[str, str] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, JsonValue]:
        return {"text": self.text, "params": self.params}


@dataclass(frozen=True)
class Sweep:
    param: str
    values: tuple[float | int, ...]

    def to_dict(self) -> dict[str, JsonValue]:
        return {"param": self.param, "values": list(self.values)}


@dataclass(frozen=True)
class EditStep(Step):
    kind: ClassVar[str] = "edit"
    input: str
    engine: Literal["global", "mapper", "optimize"]
    edits: tuple[EditEntry, ...]
    sweep: Sweep | None = None

    def content(self) -> dict[str, JsonValue]:
        return {
            "input": self.input,
            "engine": self.engine,
            "edits": [e.to_dict() for e in self.edits],
            "sweep": self.sweep.to_dict() if self.sweep else None,
        }


@dataclass(frozen=True)
class SaveStep(Step):
    kind: ClassVar[str] = "save"
    input: str
    mode: Literal["image", "grid", "animation", "aligned"]  # aligned: the photos the encoder saw
    path: str
    params: dict[str, JsonValue] = field(default_factory=dict)  # animation: duration, size, labels, pingpong

    def content(self) -> dict[str, JsonValue]:
        data: dict[str, JsonValue] = {"input": self.input, "mode": self.mode, "path": self.path}
        if self.params:  # image and grid saves have none (and keep the hashes they always had)
            data["params"] = dict(self.params)
        return data


@dataclass(frozen=True)
class ExportStep(Step):
    kind: ClassVar[str] = "export"
    input: str
    path: str

    def content(self) -> dict[str, JsonValue]:
        return {"input": self.input, "path": self.path}


@dataclass(frozen=True)
class ExpectStep(Step):
    kind: ClassVar[str] = "expect"
    input: str
    metric: str
    args: tuple[JsonValue, ...]
    kwargs: dict[str, JsonValue]
    op: Literal[">", ">=", "<", "<=", "==", "!="]
    value: float | int | str

    def content(self) -> dict[str, JsonValue]:
        return {
            "input": self.input, "metric": self.metric, "args": list(self.args),
            "kwargs": self.kwargs, "op": self.op, "value": self.value,
        }


@dataclass(frozen=True)
class Plan:
    modelset: str
    seed: int
    device: str | None
    source_name: str
    steps: tuple[Step, ...]
    version: int = PLAN_VERSION

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "version": self.version,
            "modelset": self.modelset,
            "seed": self.seed,
            "device": self.device,
            "source_name": self.source_name,
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self, indent: int | None = None) -> str:
        """Canonical JSON (``indent=None``), or the same content indented for people."""
        if indent is None:
            return canonical_json(self.to_dict())
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, ensure_ascii=False)

    @staticmethod
    def from_dict(data: dict[str, JsonValue]) -> "Plan":
        if data.get("version") != PLAN_VERSION:
            raise ValueError(f"unsupported plan version {data.get('version')!r}")
        steps = tuple(step_from_dict(s) for s in data["steps"])
        return Plan(data["modelset"], data["seed"], data["device"], data["source_name"], steps)

    @staticmethod
    def from_json(text: str) -> "Plan":
        return Plan.from_dict(json.loads(text))


def as_plan(plan: "Plan | dict[str, JsonValue]") -> Plan:
    """The typed plan of ``plan`` (its JSON data read with ``Plan.from_dict``; a ``Plan`` as it is)."""
    return plan if isinstance(plan, Plan) else Plan.from_dict(plan)


def step_from_dict(data: dict[str, JsonValue]) -> Step:
    """One step of a plan's JSON data, typed (the inverse of ``Step.to_dict``)."""
    common = {"id": data["id"], "span": Span.from_dict(data["span"]), "hash": data["hash"]}
    kind = data["kind"]
    if kind == "source":
        return SourceStep(op=data["op"], subject=data["subject"], params=data["params"], **common)
    if kind == "edit":
        sweep = data.get("sweep")
        return EditStep(
            input=data["input"], engine=data["engine"],
            edits=tuple(EditEntry(e["text"], e["params"]) for e in data["edits"]),
            sweep=Sweep(sweep["param"], tuple(sweep["values"])) if sweep else None, **common,
        )
    if kind == "save":
        return SaveStep(input=data["input"], mode=data["mode"], path=data["path"],
                        params=dict(data.get("params") or {}), **common)
    if kind == "export":
        return ExportStep(input=data["input"], path=data["path"], **common)
    if kind == "expect":
        return ExpectStep(
            input=data["input"], metric=data["metric"], args=tuple(data["args"]),
            kwargs=data["kwargs"], op=data["op"], value=data["value"], **common,
        )
    raise ValueError(f"unknown step kind {kind!r}")


def finalize(steps: list[Step], modelset: str, seed: int) -> tuple[Step, ...]:
    """Number the steps s1, s2, ... (rewriting inputs) and fill in their hashes."""
    new_ids = {step.id: f"s{i}" for i, step in enumerate(steps, 1)}
    hashes: dict[str, str] = {}
    out: list[Step] = []
    for step in steps:
        step_id = new_ids[step.id]
        changes: dict[str, Any] = {"id": step_id}
        if step.inputs:
            changes["input"] = new_ids[step.inputs[0]]
        step = replace(step, **changes)
        hashed = step.content()
        hashed["kind"] = step.kind
        if "input" in hashed:
            hashed["input"] = hashes[hashed["input"]]
        else:
            hashed["context"] = {"modelset": modelset, "seed": seed}
        hashes[step_id] = content_hash(hashed)
        out.append(replace(step, hash=hashes[step_id]))
    return tuple(out)
