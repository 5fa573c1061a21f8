"""Latent optimization (StyleCLIP §1, ``run_optimization.py`` in edit mode).

loss = CLIP(G(w), t) + l2 * sum((w - w_src)^2) + id * (1 - <R(G(w)), R(G(w_src))>)

- CLIP loss is 1 - cosine similarity between the image and the text embedding.
- The L2 term is a plain sum of squares per subject (as published: no mean).
- The identity term needs an identity network (ArcFace for FFHQ); a model set
  without one ignores ``id`` (the caller is told).
- Adam with the published schedule: linear warm-up over the first 5% of the
  steps, cosine ramp-down over the last 25%.
- Subjects in a batch are optimised together but independently: every term
  is a per-subject sum, so each subject's gradient is what it would be alone.
- ``space="s"`` optimises offsets on the non-toRGB StyleSpace layers instead
  of W+ (the paper's S-space variant); L2 then sums over the offsets.
- ``s_mask`` (S space only) limits the offsets to chosen channels: per layer
  a 0/1 vector, 1 where the channel may move. The runtime builds it from the
  global-direction relevance (the channels a direction keeps at ``beta``), so
  CLIP's gradient cannot reach channels unrelated to the text. On toon this
  is what keeps the rest of the face (docs/toon.md).
- ``views`` and ``smooth`` (both off by default, as published) make the CLIP
  term an expectation, so that the optimizer follows what CLIP sees robustly
  instead of the sharp, adversarial directions of its gradient
  (``robust_clip``): ``views=K`` averages CLIP's image embedding over K
  augmented copies of the image; ``smooth=sigma`` renders each step at a
  random StyleSpace offset of sigma per-channel stds. The result is the code
  itself, without the offset. Each subject draws from its own seeded
  generator (``seeds``), so a subject gets the same result alone or in any
  batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from ...cache.keys import OPTIMIZE_VERSION
from ..robust_clip import StyleNoise, augmented_embedding

ENGINE_VERSION = OPTIMIZE_VERSION  # the cache keys carry it: runtime/cache/keys.py


def published_lr(step: int, total: int, initial_lr: float, rampdown: float = 0.25,
                 rampup: float = 0.05) -> float:
    t = step / total
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp = ramp * min(1.0, t / rampup)
    return initial_lr * ramp


@dataclass
class OptimizeResult:
    wplus: torch.Tensor                       # (B, L, C)
    s_offset: list[torch.Tensor] | None       # per layer (B, C) when space == "s"
    clip_loss: torch.Tensor                   # (B,) at the end
    history: list[float]                      # total loss per step


def optimize(generator, clip, wplus_src: torch.Tensor, text_emb: torch.Tensor, *, steps: int = 300,
             lr: float = 0.1, l2: float = 0.008, id_weight: float = 0.0, identity=None,
             space: str = "wplus", s_offset_src: list[torch.Tensor] | None = None,
             s_mask: list[torch.Tensor] | None = None,
             w_mask: torch.Tensor | None = None,
             views: int = 0, smooth: float = 0.0, style_std: Sequence[torch.Tensor] | None = None,
             seeds: Sequence[int] | None = None,
             progress: Callable[[int, int, float], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> OptimizeResult:
    """Optimise each subject of ``wplus_src`` (B, L, C) toward ``text_emb``
    ((D,) or (B, D), unit norm). ``s_offset_src`` is the subject's existing
    StyleSpace offset (kept fixed, added before rendering). ``s_mask`` (per
    layer, (C,) of 0/1) confines ``space="s"`` to the channels marked 1;
    ``w_mask`` ((L, 1) of 0/1, see ``layers.wplus_mask``) confines
    ``space="wplus"`` to the W+ rows marked 1. ``views`` / ``smooth`` (see
    the module docstring) need ``seeds`` (one per subject) and ``smooth``
    needs ``style_std`` (per style layer, (C,))."""
    device = wplus_src.device
    text = text_emb.to(device).float()
    text = text.expand(wplus_src.shape[0], -1) if text.ndim == 1 else text
    src = wplus_src.detach()
    layout = generator.layout
    base_offset = s_offset_src

    if views < 0 or smooth < 0:
        raise ValueError("views and smooth must be >= 0")
    if (views or smooth) and (seeds is None or len(seeds) != src.shape[0]):
        raise ValueError("views and smooth need one seed per subject")
    if smooth and style_std is None:
        raise ValueError("smooth needs the per-channel style stds")
    draws = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds] if seeds is not None else []

    style_noise = StyleNoise(layout, smooth, style_std, device) if smooth else None

    def render(w: torch.Tensor, extra: list[torch.Tensor] | None, noise: list[torch.Tensor] | None = None
               ) -> torch.Tensor:
        styles = generator.styles(w)
        if base_offset is not None:
            styles = [s + o.to(s) for s, o in zip(styles, base_offset)]
        if extra is not None:
            styles = [s + e for s, e in zip(styles, extra)]
        if noise is not None:
            styles = [s + n.to(s) for s, n in zip(styles, noise)]
        return generator.synthesize(styles)

    use_id = identity is not None and id_weight > 0
    with torch.no_grad():
        ref_id = identity.embed(render(src, None)) if use_id else None

    if s_mask is not None and space != "s":
        raise ValueError("a channel mask needs space='s'")
    if w_mask is not None and space != "wplus":
        raise ValueError("a W+ row mask needs space='wplus' (in S, mask the layers' channels)")
    if space == "wplus":
        w = src.clone().requires_grad_(True)
        params = [w]
        if w_mask is not None:  # masked rows get no gradient, so Adam never moves them off the source
            w.register_hook(lambda grad, m=w_mask.to(device).float().view(1, -1, 1): grad * m)
        offsets = None
    elif space == "s":
        w = src
        offsets = [torch.zeros(src.shape[0], layer.width, device=device, requires_grad=not layer.is_torgb)
                   for layer in layout]
        params = [o for o, layer in zip(offsets, layout) if not layer.is_torgb]
        if s_mask is not None:  # masked channels get no gradient, so Adam never moves them off 0
            for o, mask in zip(offsets, s_mask):
                if o.requires_grad:
                    o.register_hook(lambda grad, m=mask.to(device).float(): grad * m)
    else:
        raise ValueError(f"unknown optimisation space {space!r} (use 'wplus' or 's')")

    opt = torch.optim.Adam(params, lr=lr)
    history: list[float] = []
    clip_loss = torch.zeros(src.shape[0])
    for i in range(steps):
        for group in opt.param_groups:
            group["lr"] = published_lr(i, steps, lr)
        image = render(w, offsets, style_noise.draw(src.shape[0], draws) if style_noise else None)
        emb = augmented_embedding(clip, image, views, draws)
        clip_loss = 1.0 - (emb * text).sum(-1)                       # (B,)
        if offsets is None:
            l2_term = ((w - src) ** 2).flatten(1).sum(1)
        else:
            l2_term = sum((o ** 2).sum(1) for o in offsets)
        loss_per = clip_loss + l2 * l2_term
        if use_id:
            loss_per = loss_per + id_weight * (1.0 - (identity.embed(image) * ref_id).sum(-1))
        loss = loss_per.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(float(loss.detach()) / src.shape[0])
        if progress:
            progress(i + 1, steps, history[-1])
        if should_stop and should_stop():
            break
    with torch.no_grad():
        final_w = w.detach().clone()
        final_off = [o.detach().clone() for o in offsets] if offsets is not None else None
    return OptimizeResult(final_w, final_off, clip_loss.detach().cpu(), history)
