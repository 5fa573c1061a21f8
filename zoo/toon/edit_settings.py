"""The edit settings the toon report scores: the per-prompt settings docs/toon.md claims, and plain defaults.

``DOCUMENTED[engine][prompt]`` holds the parameters the card's "one setting per
engine and prompt" named before the evaluation protocol (chosen on the tuning
set); ``defaults(engine, set_defaults)`` the language's defaults (``styleclip_dsl``'s
engine table), overridden by the model set's ``engine_defaults`` where it has any.
``apply(models, engine, prompt, params, w)`` runs one edit on W+ codes and
returns what to render; it calls the engines' own functions, as a recipe would.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

SMILE_KEEP = ("a bald head, short hair, long hair, curly hair, a mohawk, a bob haircut, black hair, brown hair, "
              "blonde hair, red hair, purple hair, white hair, closed eyes, round glasses, sunglasses, a beard")
HAIR_STYLES = "a bald head, short hair, long hair, curly hair, a mohawk, a bob haircut"

# optimize's documented settings share these: S space confined to a direction's channels, CLIP over 4
# augmented views and StyleSpace noise of one std, 100 steps
_OPT = {"space": "s", "views": 4, "smooth": 1.0, "steps": 100}

DOCUMENTED: dict[str, dict[str, dict[str, Any]]] = {
    "global": {
        "smile": {"keep": SMILE_KEEP, "beta": 0.1, "alpha": 2.0},
        "curly hair": {"alpha": 3.0},
        "purple hair": {"keep": "a bald head", "beta": 0.38, "layers": "medium", "alpha": 10.0},
        "glasses": {"alpha": 1.0},
        "bald": {"alpha": 2.0},
        "closed eyes": {"alpha": 1.0},
        "beard": {"alpha": 1.5},
        "surprised": {"alpha": 1.0},
    },
    "mapper": {
        "smile": {"strength": 3.0}, "curly hair": {"strength": 4.0}, "purple hair": {"strength": 1.5},
        "glasses": {"strength": 4.0}, "bald": {"strength": 5.0}, "closed eyes": {"strength": 3.0},
        "beard": {"strength": 2.0}, "surprised": {"strength": 2.0},
    },
    "optimize": {
        "smile": {**_OPT, "beta": 0.3, "lr": 0.03},
        "curly hair": {**_OPT, "beta": 0.15, "lr": 0.02},
        "purple hair": {**_OPT, "keep": HAIR_STYLES, "beta": 0.4, "layers": "medium", "lr": 0.05, "l2": 0.001},
        "glasses": {**_OPT, "beta": 0.25, "lr": 0.02},
        "bald": {**_OPT, "beta": 0.15, "lr": 0.02},
        "closed eyes": {**_OPT, "beta": 0.4, "lr": 0.02},
        "beard": {**_OPT, "beta": 0.15, "lr": 0.02},
        "surprised": {**_OPT, "beta": 0.15, "lr": 0.02},
    },
}


@dataclass(frozen=True)
class Setting:
    """One engine's parameters for one prompt; ``kind`` says where they come from."""

    engine: str
    prompt: str
    kind: str                                   # "documented" or "defaults"
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return " ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v:g}" for k, v in sorted(self.params.items()))


def defaults(engine: str, set_defaults: dict[str, dict[str, Any]] | None = None, prompt: str | None = None,
             ) -> dict[str, Any]:
    """What a recipe that names no parameter gets: the language's defaults, then the set's ``engine_defaults``
    (with ``prompt``, and a set that has them, that prompt's own first), as the compiler fills them."""
    from styleclip_dsl.defaults import ENGINE_PARAMS
    from styleclip_dsl.engines.registry import EngineDefaults

    out = {name: spec.default for name, spec in ENGINE_PARAMS[engine].items()}
    if isinstance(set_defaults, EngineDefaults) and prompt is not None:
        out.update(set_defaults.for_edit(engine, prompt))
    else:
        out.update((set_defaults or {}).get(engine, {}))
    return out


def settings(engine: str, prompt: str, set_defaults: dict[str, dict[str, Any]] | None = None) -> list[Setting]:
    """The documented setting (on top of the defaults) and the plain defaults (the prompt's own where the
    set has them)."""
    base = defaults(engine, set_defaults, prompt)
    return [Setting(engine, prompt, "documented", {**base, **DOCUMENTED[engine][prompt]}),
            Setting(engine, prompt, "defaults", base)]


def _keep(params: dict[str, Any]) -> tuple[str, ...]:
    from styleclip_runtime.engines.keep import keep_texts

    return keep_texts(str(params.get("keep") or ""))


def apply(models, setting: Setting, w: torch.Tensor) -> list:
    """The edited items (``state.Item``) of the W+ codes ``w`` (N, L, C) under ``setting``."""
    from styleclip_runtime.engines import layer_choice as layers
    from styleclip_runtime.engines import optimization as opt
    from styleclip_runtime.engines.mapper import apply_strength
    from styleclip_runtime.execution.state import Item

    g, p, prompt = models.generator, setting.params, setting.prompt
    neutral = str(p.get("neutral") or "a face")
    if setting.engine == "global":
        d, _ = models.direction(prompt, neutral, float(p["beta"]), _keep(p))
        offset = layers.mask_offsets(p["layers"], g.layout, [float(p["alpha"]) * x for x in d.delta])
        return [Item(f"s{i}", "eval", i, w[i], offset) for i in range(len(w))]
    if setting.engine == "mapper":
        m = models.mapper(prompt, None, lambda _: None)
        with torch.no_grad():
            ww = apply_strength(m, w, float(p["strength"]), layers.wplus_mask(p["layers"], g.n_latent))
        return [Item(f"s{i}", "eval", i, ww[i]) for i in range(len(w))]
    keep = _keep(p)
    mask = None
    if float(p["beta"]) > 0:
        mask = models.direction(prompt, neutral, float(p["beta"]), keep)[0].channel_mask()
    if p["space"] == "s":
        mask = layers.s_channel_mask(p["layers"], g.layout, mask)
    w_mask = layers.wplus_mask(p["layers"], g.n_latent) if p["space"] == "wplus" else None
    target = models.edit_target(prompt, neutral, keep) if keep else models.text_embedding(prompt)
    smooth = float(p["smooth"])
    res = opt.optimize(g, models.clip, w, target, steps=int(p["steps"]), lr=float(p["lr"]), l2=float(p["l2"]),
                       space=p["space"], s_mask=mask, w_mask=w_mask, views=int(p["views"]), smooth=smooth,
                       style_std=models.style_std() if smooth else None, seeds=list(range(len(w))))
    return [Item(f"s{i}", "eval", i, res.wplus[i], [o[i] for o in res.s_offset] if res.s_offset is not None else None)
            for i in range(len(w))]
