"""``optimize``: replaces each item's W+ code (or, in S space, moves its StyleSpace offset) by
CLIP-guided optimization from the item's current state. Each result is cached under its input
code and parameters (``cache/keys.optimization_key``), so an unchanged input is never optimized twice."""
from __future__ import annotations

import hashlib

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from styleclip_dsl.engines.keep import kept
from styleclip_dsl.engines.optimize import SPEC
from styleclip_dsl.plan import EditStep

from ...cache.keys import optimization_key
from ...execution.errors import Interrupted, StepError
from ...execution.state import Item, add_offsets, stack_offsets, stack_wplus
from .. import layer_choice as layers
from ..global_directions.directions import BetaTooHigh
from ..protocol import ExplainContext, Moved, Need, Params, RunContext, Variant
from . import latent_optimization


def _masked(p: Params) -> bool:
    """Whether the optimization moves only a direction's channels (``beta`` > 0, with ``space=s``:
    the spec's rule), so it needs that direction and the statistics it comes from."""
    return float(p["beta"]) > 0


def _reads_stats(p: Params) -> bool:
    return _masked(p) or float(p["smooth"]) > 0  # smoothing draws offsets scaled by the channels' stds


class Optimization:
    spec = SPEC

    def needs(self, step: EditStep, runs: list[Variant], n_inputs: int, ctx: ExplainContext,
              problems: list[str]) -> list[Need]:
        text = step.edits[0].text
        out: list[Need] = []
        for params, labels in runs:
            p = params[0]
            if _masked(p):
                out += ctx.direction_needs(text, p["neutral"], float(p["beta"]), kept(p["keep"]))
            seconds, unestimated = optimize_seconds(ctx.estimates, p, n_inputs)
            what = f"{text!r}, {int(p['steps'])} steps x {n_inputs} subject(s)" + "".join(
                f", {k}={v:g}" for k, v in labels.items()) + unestimated  # one per sweep value
            chunk = min(ctx.optimize_batch_size(), max(1, n_inputs))
            out.append(Need("optimization", what, "on-input", seconds, memory=ctx.memory(chunk)))
        return out

    def reads_global_stats(self, step: EditStep) -> bool:
        from ..protocol import variants

        return any(_reads_stats(params[0]) for params, _ in variants(step))

    def prepare(self, models, step: EditStep, params: list[Params]) -> None:
        p = params[0]
        if _masked(p):
            models.direction(step.edits[0].text, p["neutral"], float(p["beta"]), kept(p["keep"]))

    def apply(self, step: EditStep, inputs: list[Item], params: list[Params], ctx: RunContext) -> list[Moved]:
        return _optimize(step, inputs, params[0], ctx)


def optimize_seconds(estimates: dict[str, float], params: Params, n_inputs: int) -> tuple[float | None, str]:
    """(estimated seconds, a note on what the estimate leaves out) for one optimization.

    ``views=K`` runs CLIP on K augmented copies instead of the image alone, so
    each copy beyond the first adds ``optimize_view_per_image`` to a step; a
    set that does not give that figure gets the plain estimate and a note."""
    per_step = estimates.get("optimize_step_per_image")
    if per_step is None:
        return None, ""
    extra_views = max(0, int(params["views"]) - 1)
    per_view = estimates.get("optimize_view_per_image")
    note = ""
    if extra_views and per_view is None:
        note, per_view = " (views not in the estimate)", 0.0
    return (per_step + extra_views * (per_view or 0.0)) * int(params["steps"]) * n_inputs, note


def _optimization_entry(payload: bytes) -> dict[str, torch.Tensor]:
    """A cached optimization result ({"w": W+ code, "o0".. StyleSpace offsets}); raises on anything else."""
    entry = st_load(payload)
    if "w" not in entry or entry["w"].ndim != 2:
        raise ValueError("an optimization result holds a 2-d W+ code 'w'")
    return entry


def _optimize(step: EditStep, inputs: list[Item], params: Params, ctx: RunContext) -> list[Moved]:
    models, device, info = ctx.models, ctx.device, ctx.info
    progress, should_stop = ctx.progress, ctx.should_stop
    text = step.edits[0].text
    g = models.generator
    fps = models.fingerprints()
    results: list[Moved | None] = [None] * len(inputs)
    keep = kept(params["keep"])
    depends = {}  # what the result comes from beyond the networks and parameters
    if _masked(params):
        depends["mask_stats"] = models.stats_identity()
    if float(params["smooth"]) > 0:
        depends["style_std"] = models.style_std_identity()
    key_params = SPEC.key_params(params)  # an optimization that keeps nothing has the key it had before keep=
    keys = []
    for i, it in enumerate(inputs):
        state = st_save({"w": it.wplus.contiguous().float(),
                         **{f"o{j}": o.contiguous().float() for j, o in enumerate(it.s_offset or [])}})
        key = optimization_key(fps, text, key_params, hashlib.sha256(state).hexdigest(), depends)
        keys.append(key)
        t = models.cache.get("optimization", key, _optimization_entry)  # None: a miss, or a damaged entry
        if t is not None:
            offs = [t[f"o{j}"] for j in range(len(g.layout))] if "o0" in t else None
            results[i] = (t["w"], offs)
    todo = [i for i, r in enumerate(results) if r is None]
    info["optimization_cache_hits"] = len(inputs) - len(todo)
    if todo:
        identity = models.identity
        if float(params["id"]) > 0 and identity is None:
            info["note"] = "this model set has no identity network: id weight ignored"
        beta = float(params["beta"])
        space, scope = params["space"], params["layers"]
        mask = None
        if _masked(params):  # the channels that the global direction neutral -> text keeps at beta
            try:
                direction, _ = models.direction(text, params["neutral"], beta, keep)
            except BetaTooHigh as exc:
                hint = "lower beta" + (", or keep fewer texts" if keep else "")
                raise StepError(str(exc), step, hint=hint) from exc
            mask = direction.channel_mask()
        if space == "s":  # the layers fed by rows outside `layers` stay put
            mask = layers.s_channel_mask(scope, g.layout, mask)
        if mask is not None:  # what the optimization may move: the direction's channels on the kept levels
            info["optimized_channels"] = sum(int(m.sum()) for m, la in zip(mask, g.layout) if not la.is_torgb)
        steps = int(params["steps"])
        total = len(todo) * steps
        views, smooth = int(params["views"]), float(params["smooth"])
        style_std = models.style_std() if smooth > 0 else None
        try:
            target = models.edit_target(text, params["neutral"], keep)
        except ValueError as exc:
            raise StepError(str(exc), step, hint="keep fewer texts") from exc

        def chunk(start: int, stop: int) -> None:
            """Optimise subjects todo[start:stop] together (each subject's loss and Adam state are its own,
            so a chunk gives what the whole batch would) and cache them at once: an interruption or an
            out-of-memory retry later loses none of them."""
            batch = [inputs[i] for i in todo[start:stop]]
            res = latent_optimization.optimize(
                g, models.clip, stack_wplus(batch, device), target,
                steps=steps, lr=float(params["lr"]), l2=float(params["l2"]),
                id_weight=float(params["id"]), identity=identity, space=space,
                s_offset_src=stack_offsets(batch, g.layout, device), s_mask=mask,
                w_mask=layers.wplus_mask(scope, g.n_latent) if space == "wplus" else None,
                views=views, smooth=smooth, style_std=style_std,
                seeds=[int(keys[i][:15], 16) for i in todo[start:stop]],  # a subject's draws follow its key
                progress=(lambda d, t, loss: progress(start * steps + d * (stop - start), total,
                                                      f"loss {loss:.3f}")) if progress else None,
                should_stop=should_stop)
            if should_stop and should_stop():
                raise Interrupted()  # never cache a half-finished optimisation
            for j, i in enumerate(todo[start:stop]):
                w = res.wplus[j].cpu()
                off = inputs[i].s_offset
                if res.s_offset is not None:
                    off = add_offsets(off, [o[j].cpu() for o in res.s_offset])
                results[i] = (w, off)
                payload = st_save({"w": w.contiguous(), **{f"o{k}": o.contiguous() for k, o in enumerate(off or [])}})
                models.cache.put_bytes("optimization", keys[i], payload)

        models.fit_optimize_batch()
        models.optimize_batch.run(len(todo), chunk)
    return results  # type: ignore[return-value]
