"""Training is never a surprise: what a run would train, and roughly how long, before it starts.

A mapper prompt with no shipped or trained mapper makes the runtime train
one (minutes on toon, hours on FFHQ). ``styleclip run`` refuses to start
such a run without ``--train``, the REPL asks first, and the notebook API
raises ``TrainingRequired`` unless ``run(..., train=True)``. The facts come
from ``plan --explain``'s explanation (``styleclip_runtime.execution.explain``), so
the estimate is the one ``styleclip plan --explain`` prints. Torch-free:
the explanation is passed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .engines.registry import ENGINES, trains_models
from .executor_api import ExecutorAPI


@dataclass(frozen=True)
class TrainingNeeds:
    """The trainings a run would start (``explain.Need`` objects with status ``train``)."""

    needs: tuple[Any, ...]
    device: str

    def __bool__(self) -> bool:
        return bool(self.needs)

    @property
    def seconds(self) -> float | None:
        """The estimated total, or None when some training has no estimate on this device."""
        values = [n.seconds for n in self.needs]
        return None if any(v is None for v in values) else float(sum(values))

    def describe(self) -> str:
        """"this run would train a mapper for 'smiel' (2000 training steps), about 40 min on cpu"."""
        from styleclip_runtime.execution.explain import format_duration

        whats = "; ".join(f"a mapper for {n.what}" if n.kind == "mapper" else f"{n.kind} {n.what}"
                          for n in self.needs)
        total = self.seconds
        when = f"about {format_duration(total)} on {self.device}" if total is not None \
            else f"no time estimate on {self.device}"
        return f"this would train {whats}, {when} (cached afterwards)"


def training_needs(explanation: Any) -> TrainingNeeds:
    """The ``train`` needs of a ``styleclip_runtime.execution.explain.Explanation``."""
    needs = tuple(n for n in explanation.needs if n.status == "train")
    return TrainingNeeds(needs, str(explanation.device))


# A training estimated shorter than this starts without asking (the executor's notice threshold);
# one with no estimate for the device asks, as it may take hours.
CONSENT_SECONDS = 30.0


def needs_consent(needs: TrainingNeeds) -> bool:
    """Whether to ask before starting: some training, estimated at CONSENT_SECONDS or more, or unknown."""
    seconds = needs.seconds
    return bool(needs) and (seconds is None or seconds >= CONSENT_SECONDS)


def might_train(text: str) -> bool:
    """A cheap first look at recipe text: only an edit of an engine that trains (the mapper) trains,
    so text without such an engine's name needs no explanation (the REPL and the notebook ask
    before each entry)."""
    return any(spec.trains and spec.name in text for spec in ENGINES.values())


def trainings_of_run(executor: ExecutorAPI, plan: dict, base: Any) -> TrainingNeeds:
    """What running ``plan`` on ``executor`` would train (``explain.explain_plan`` on its warm models;
    a plan without an edit of an engine that trains, a mapper, trains nothing and is not explained)."""
    if not any(s["kind"] == "edit" and trains_models(s["engine"]) for s in plan["steps"]):
        return TrainingNeeds((), "")
    return training_needs(executor.explain(plan, base))
