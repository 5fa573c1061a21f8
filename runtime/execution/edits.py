"""Edit steps: the composition of edits, in one place, for all engines.

An edit step maps N input items to N x V output items (V sweep variants).
- ``global``: adds alpha * direction to each item's StyleSpace offset (fused
  steps add several directions at once);
- ``mapper``: moves the W+ code by strength * 0.1 * M(w);
- ``optimize``: replaces the W+ code (or, in S space, adds to the offset) by
  CLIP-guided optimisation from the item's current state.
"""
from __future__ import annotations

import hashlib
from typing import Callable

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from styleclip_dsl.plan import EditStep

from ..cache.keys import optimization_key
from ..engines import global_directions as gd
from ..engines.keep import keep_texts
from ..engines import layer_choice as layers
from ..engines import mapper as mapper_engine
from ..engines import optimization as opt_engine
from .errors import Interrupted, StepError
from .state import Item, add_offsets, stack_offsets, stack_wplus


def variants(step: EditStep) -> list[tuple[list[dict], dict]]:
    """[(params of each edit entry, labels)] per sweep variant."""
    sweep = step.sweep
    if not sweep:
        return [([dict(e.params) for e in step.edits], {})]
    out = []
    for value in sweep.values:
        params = [dict(e.params) for e in step.edits]
        params[0][sweep.param] = value
        out.append((params, {sweep.param: value}))
    return out


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
    engine = step.engine
    info: dict = {}
    outputs: list[Item] = []
    for v, (params_list, sweep_labels) in enumerate(variants(step)):
        if engine == "global":
            new = _global(models, step, inputs, params_list, info)
        elif engine == "mapper":
            new = _mapper(models, step, inputs, params_list[0], device, notify, progress, should_stop)
        elif engine == "optimize":
            new = _optimize(models, step, inputs, params_list[0], device, info, progress, should_stop)
        else:
            raise StepError(f"unknown engine {engine!r}", step)
        for item, (wplus, offset) in zip(inputs, new):
            outputs.append(item.derive(wplus=wplus, s_offset=offset, labels=_labels(item, step, sweep_labels),
                                       variant=v if step.sweep else item.variant))
    # keep items of one subject together, variants in order
    outputs.sort(key=lambda it: (it.index, it.variant))
    return outputs, info


def _global(models, step, inputs, params_list, info) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
    total: list[torch.Tensor] | None = None
    for entry, params in zip(step.edits, params_list):
        try:
            keep = keep_texts(str(params.get("keep", "")))
            direction, hit = models.direction(entry.text, params["neutral"], float(params["beta"]), keep)
        except gd.BetaTooHigh as exc:
            hint = "lower beta, or rephrase the text" + (", or keep fewer texts" if params.get("keep") else "")
            raise StepError(str(exc), step, hint=hint) from exc
        info.setdefault("channels", {})[entry.text] = direction.n_channels
        info.setdefault("direction_cache_hits", 0)
        info["direction_cache_hits"] += int(hit)
        delta = layers.mask_offsets(params.get("layers", "all"), models.generator.layout,
                                    [float(params["alpha"]) * d for d in direction.delta])
        total = delta if total is None else [a + b for a, b in zip(total, delta)]
    assert total is not None
    return [(it.wplus, add_offsets(it.s_offset, total)) for it in inputs]


def _mapper(models, step, inputs, params, device, notify, progress, should_stop):
    text = step.edits[0].text
    mapper = models.mapper(text, step, notify, progress, should_stop)
    with torch.no_grad():
        w = stack_wplus(inputs, device)
        rows = layers.wplus_mask(params.get("layers", "all"), w.shape[1])
        out = mapper_engine.apply_strength(mapper, w, float(params["strength"]), rows).cpu()
    return [(o, it.s_offset) for o, it in zip(out, inputs)]


def _optimization_entry(payload: bytes) -> dict[str, torch.Tensor]:
    """A cached optimization result ({"w": W+ code, "o0".. StyleSpace offsets}); raises on anything else."""
    entry = st_load(payload)
    if "w" not in entry or entry["w"].ndim != 2:
        raise ValueError("an optimization result holds a 2-d W+ code 'w'")
    return entry


def _optimize(models, step, inputs, params, device, info, progress, should_stop):
    text = step.edits[0].text
    g = models.generator
    fps = models.fingerprints()
    results: list[tuple[torch.Tensor, list[torch.Tensor] | None] | None] = [None] * len(inputs)
    keep = keep_texts(str(params.get("keep", "")))
    if not keep:  # an optimization that keeps nothing has the key it had before keep= existed
        params = {k: v for k, v in params.items() if k != "keep"}
    depends = {}  # what the result comes from beyond the networks and parameters
    if float(params.get("beta", 0.0)) > 0:
        depends["mask_stats"] = models.stats_identity()
    if float(params.get("smooth", 0.0)) > 0:
        depends["style_std"] = models.style_std_identity()
    keys = []
    for i, it in enumerate(inputs):
        state = st_save({"w": it.wplus.contiguous().float(),
                         **{f"o{j}": o.contiguous().float() for j, o in enumerate(it.s_offset or [])}})
        key = optimization_key(fps, text, params, hashlib.sha256(state).hexdigest(), depends)
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
        beta = float(params.get("beta", 0.0))
        space, scope = params.get("space", "wplus"), params.get("layers", "all")
        mask = None
        if beta > 0:  # the channels that the global direction neutral -> text keeps at beta
            try:
                direction, _ = models.direction(text, params["neutral"], beta, keep)
            except gd.BetaTooHigh as exc:
                hint = "lower beta" + (", or keep fewer texts" if keep else "")
                raise StepError(str(exc), step, hint=hint) from exc
            mask = direction.channel_mask()
        if space == "s":  # the layers fed by rows outside `layers` stay put
            mask = layers.s_channel_mask(scope, g.layout, mask)
        if mask is not None:  # what the optimization may move: the direction's channels on the kept levels
            info["optimized_channels"] = sum(int(m.sum()) for m, la in zip(mask, g.layout) if not la.is_torgb)
        steps = int(params["steps"])
        total = len(todo) * steps
        views, smooth = int(params.get("views", 0)), float(params.get("smooth", 0.0))
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
            res = opt_engine.optimize(
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
