"""Where a layout's small features are: the pixels that expression and eyes change.

At 64 px a mouth arc or a pupil covers a few dozen pixels; an L1 loss over
the whole image barely notices when a generator blurs them away, and those
pixels carry two attribute families. ``detail_mask(seed)`` renders one plain
face in the layout of nuisance seed ``seed`` with every expression and both
eye states, and marks each pixel that any of the variants changes (dilated
by one pixel). The generator's trainer weights its loss up there.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .attributes import FAMILIES, Attributes
from .renderer import render_batch

_PLAIN = Attributes(hair_style="bald", hair_color="brown", expression="neutral", eyes="open", glasses="none",
                    beard="none", skin="tan", background=0.5)


@lru_cache(maxsize=4096)
def _mask(seed: int, size: int) -> torch.Tensor:
    variants = [_PLAIN.with_(expression=e, eyes=o) for e in FAMILIES["expression"] for o in FAMILIES["eyes"]]
    imgs = render_batch(variants, [seed] * len(variants), size).astype(np.int16)  # (V, H, W, 3)
    changed = (imgs.max(0) - imgs.min(0)).max(-1) > 24  # (H, W)
    mask = torch.from_numpy(changed).float()[None, None]
    return F.max_pool2d(mask, 3, stride=1, padding=1)[0]  # (1, H, W)


def detail_mask(seed: int, size: int = 64) -> torch.Tensor:
    """(1, size, size) float: 1 where the layout's expression or eyes show, else 0."""
    return _mask(int(seed), int(size))


def detail_weights(seeds: list[int], size: int, weight: float) -> torch.Tensor:
    """(B, 1, size, size) per-pixel loss weights: 1 + ``weight`` on each face's detail mask."""
    return 1.0 + weight * torch.stack([detail_mask(s, size) for s in seeds])
