"""``mapper``: moves each item's W+ code by strength x 0.1 x M(w) on the chosen rows. The mapper
comes from the warm models (shipped, trained before, or trained now: ``WarmModels.mapper``)."""
from __future__ import annotations

import torch

from styleclip_dsl.engines.mapper import SPEC
from styleclip_dsl.plan import EditStep

from ...execution.state import Item, stack_wplus
from .. import layer_choice as layers
from ..protocol import ExplainContext, Moved, Need, Params, RunContext, Variant
from .latent_mapper import apply_strength


class Mapper:
    spec = SPEC

    def needs(self, step: EditStep, runs: list[Variant], n_inputs: int, ctx: ExplainContext,
              problems: list[str]) -> list[Need]:
        return [ctx.mapper_need(step.edits[0].text, problems)]  # one mapper, whatever the sweep

    def reads_global_stats(self, step: EditStep) -> bool:
        return False

    def prepare(self, models, step: EditStep, params: list[Params]) -> None:
        models.mapper(step.edits[0].text, step, lambda message: None)

    def apply(self, step: EditStep, inputs: list[Item], params: list[Params], ctx: RunContext) -> list[Moved]:
        p = params[0]
        mapper = ctx.models.mapper(step.edits[0].text, step, ctx.notify, ctx.progress, ctx.should_stop)
        with torch.no_grad():
            w = stack_wplus(inputs, ctx.device)
            rows = layers.wplus_mask(p["layers"], w.shape[1])
            out = apply_strength(mapper, w, float(p["strength"]), rows).cpu()
        return [(o, it.s_offset) for o, it in zip(out, inputs)]
