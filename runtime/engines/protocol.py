"""What every engine implementation offers the runtime, and what the runtime offers it.

An engine is one folder (``global_directions/``, ``mapper/``, ``optimization/``) holding its math
and an ``engine.py`` whose class implements ``Engine``: ``needs`` for ``plan --explain``,
``reads_global_stats`` for the files a plan needs, ``prepare`` for a Ray worker's precompute and
``apply`` for the run. ``registry.py`` maps the name a recipe uses (the torch-free spec in
``styleclip_dsl/engines/``) to the implementation; ``execution/edits.py``, ``execution/explain.py``,
``cluster/worker.py`` dispatch through it and name no engine themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol

from styleclip_dsl.engines.spec import EngineSpec
from styleclip_dsl.plan import EditStep

if TYPE_CHECKING:
    import torch

    from ..execution.memory_estimate import MemoryEstimate
    from ..execution.state import Item

Status = Literal["shipped", "cached", "compute", "train", "on-input", "missing"]
Params = dict[str, Any]
#: one sweep variant of an edit step: the parameters of each of its edit entries, and its labels
Variant = tuple[list[Params], dict[str, Any]]
#: what an engine gives back per input item: its new W+ code and StyleSpace offset (None: none)
Moved = tuple["torch.Tensor", "list[torch.Tensor] | None"]


@dataclass(frozen=True)
class Need:
    """One expensive result a step needs (``plan --explain``)."""

    kind: str  # inversion | global-stats | direction | mapper | optimization
    what: str
    status: Status
    seconds: float | None = None  # estimated cost when it must be computed; None: no estimate or nothing to do
    key: str | None = None
    memory: "MemoryEstimate | None" = None  # device memory, for what back-propagates through the generator

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "what": self.what, "status": self.status, "seconds": self.seconds,
                "key": self.key, "memory": self.memory.to_dict() if self.memory else None}


def variants(step: EditStep) -> list[Variant]:
    """[(params of each edit entry, labels)] per sweep variant (one variant when nothing sweeps)."""
    sweep = step.sweep
    if not sweep:
        return [([dict(e.params) for e in step.edits], {})]
    out = []
    for value in sweep.values:
        params = [dict(e.params) for e in step.edits]
        params[0][sweep.param] = value
        out.append((params, {sweep.param: value}))
    return out


class ExplainContext(Protocol):
    """What ``plan --explain`` offers an engine to describe its needs (``execution/explain.py``)."""

    estimates: dict[str, float]

    def direction_needs(self, text: str, neutral: str, beta: float, keep: tuple[str, ...]) -> list[Need]:
        """A global direction (and, the first time, the statistics it is computed from)."""

    def mapper_need(self, text: str, problems: list[str]) -> Need:
        """The mapper for ``text``: shipped, trained before, to train, or missing (a problem)."""

    def memory(self, batch: int) -> "MemoryEstimate | None":
        """Device memory of back-propagating ``batch`` images through the generator."""

    def optimize_batch_size(self) -> int:
        """How many subjects an optimization runs together (the model set's ``optimize_batch``)."""


@dataclass
class RunContext:
    """What an engine's ``apply`` runs with: the warm models (``execution/warm.py``), the device, the
    run's callbacks, and ``info``, the step's report (cache hits, channels, notes)."""

    models: Any
    device: Any
    notify: Callable[[str], None]
    progress: Callable[[int, int, str], None] | None = None
    should_stop: Callable[[], bool] | None = None
    info: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    spec: EngineSpec

    def needs(self, step: EditStep, runs: list[Variant], n_inputs: int, ctx: ExplainContext,
              problems: list[str]) -> list[Need]:
        """The expensive results the step needs for ``n_inputs`` items (``plan --explain``);
        what would stop the run goes into ``problems``."""

    def reads_global_stats(self, step: EditStep) -> bool:
        """Whether the step reads the global-direction statistics (the set's files must be there)."""

    def prepare(self, models: Any, step: EditStep, params: list[Params]) -> None:
        """Compute (and cache) what every batch of the step shares, once (a Ray worker's precompute)."""

    def apply(self, step: EditStep, inputs: "list[Item]", params: list[Params], ctx: RunContext) -> list[Moved]:
        """One variant of the step on ``inputs``: each item's new W+ code and StyleSpace offset."""
