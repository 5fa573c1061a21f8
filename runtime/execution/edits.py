"""Edit steps: the composition of edits, in one place, for all engines.

An edit step maps N input items to N x V output items (V sweep variants): each
variant goes through the step's engine (``engines/registry.py``: ``global``
adds directions to the StyleSpace offset, ``mapper`` moves the W+ code,
``optimize`` optimises it; each engine's ``engine.py`` says how), and the
results become new items with their labels, in subject order.
"""
from __future__ import annotations

from typing import Callable

from styleclip_dsl.plan import EditStep

from ..engines.protocol import RunContext, variants
from ..engines.registry import engine_for
from .errors import StepError
from .state import Item

__all__ = ["run_edit", "variants"]


def _labels(item: Item, step: EditStep, extra: dict) -> dict:
    labels = dict(item.labels)
    # {step} counts edits, so a fused step of k global edits counts k (as the unfused chain would)
    labels["step"] = int(labels.get("step", 0)) + len(step.edits)
    labels["text"] = " + ".join(e.text for e in step.edits)
    # the whole chain from the source, for grid columns ("red hair + glasses, then surprised")
    labels["chain"] = (f"{labels['chain']}, then " if labels.get("chain") else "") + labels["text"]
    labels["engine"] = step.engine
    labels.update(extra)
    return labels


def run_edit(models, step: EditStep, inputs: list[Item], device, notify: Callable[[str], None],
             progress: Callable[[int, int, str], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> tuple[list[Item], dict]:
    try:
        engine = engine_for(step.engine)
    except KeyError:
        raise StepError(f"unknown engine {step.engine!r}", step) from None
    ctx = RunContext(models, device, notify, progress, should_stop)
    outputs: list[Item] = []
    for v, (params_list, sweep_labels) in enumerate(variants(step)):
        new = engine.apply(step, inputs, params_list, ctx)
        for item, (wplus, offset) in zip(inputs, new):
            outputs.append(item.derive(wplus=wplus, s_offset=offset, labels=_labels(item, step, sweep_labels),
                                       variant=v if step.sweep else item.variant))
    # keep items of one subject together, variants in order
    outputs.sort(key=lambda it: (it.index, it.variant))
    return outputs, ctx.info
