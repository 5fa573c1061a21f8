"""``global``: adds alpha x a text's StyleSpace direction to each item's offset (a fused step adds
several directions at once). Directions come from the warm models' cache (``WarmModels.direction``)."""
from __future__ import annotations

from styleclip_dsl.engines.global_directions import SPEC
from styleclip_dsl.engines.keep import kept
from styleclip_dsl.plan import EditStep

from ...execution.errors import StepError
from ...execution.state import Item, add_offsets
from .. import layer_choice as layers
from ..protocol import ExplainContext, Moved, Need, Params, RunContext, Variant
from .directions import BetaTooHigh


class GlobalDirections:
    spec = SPEC

    def needs(self, step: EditStep, runs: list[Variant], n_inputs: int, ctx: ExplainContext,
              problems: list[str]) -> list[Need]:
        out: list[Need] = []
        for params_list, _ in runs:
            for entry, params in zip(step.edits, params_list):
                out += ctx.direction_needs(entry.text, params["neutral"], float(params["beta"]), kept(params["keep"]))
        return out

    def reads_global_stats(self, step: EditStep) -> bool:
        return True

    def prepare(self, models, step: EditStep, params: list[Params]) -> None:
        for entry, p in zip(step.edits, params):
            models.direction(entry.text, p["neutral"], float(p["beta"]), kept(p["keep"]))

    def apply(self, step: EditStep, inputs: list[Item], params: list[Params], ctx: RunContext) -> list[Moved]:
        models, info = ctx.models, ctx.info
        total = None
        for entry, p in zip(step.edits, params):
            keep = kept(p["keep"])
            try:
                direction, hit = models.direction(entry.text, p["neutral"], float(p["beta"]), keep)
            except BetaTooHigh as exc:
                hint = "lower beta, or rephrase the text" + (", or keep fewer texts" if keep else "")
                raise StepError(str(exc), step, hint=hint) from exc
            info.setdefault("channels", {})[entry.text] = direction.n_channels
            info["direction_cache_hits"] = info.get("direction_cache_hits", 0) + int(hit)
            delta = layers.mask_offsets(p["layers"], models.generator.layout,
                                        [float(p["alpha"]) * d for d in direction.delta])
            total = delta if total is None else [a + b for a, b in zip(total, delta)]
        assert total is not None
        return [(it.wplus, add_offsets(it.s_offset, total)) for it in inputs]
