"""``layers=``: which W+ rows an edit may change, and so which StyleSpace layers.

StyleCLIP's mappers split W+ into three levels, coarse (rows 0-3), medium
(4-7) and fine (8 on), the rows that the released mappers switch off with
``--no_fine_mapper`` and the like; users ask to leave some levels alone (to
keep colours, freeze the fine ones; to keep the shape, the coarse ones).
``layers`` names the levels an edit may touch: ``all`` (the default),
one level, or two joined by a hyphen (``medium-fine``). Each StyleSpace
layer follows the W+ row that feeds it.
"""
from __future__ import annotations

import torch

from styleclip_dsl.defaults import LAYERS

from ..models.mapper import LEVEL_ROWS, LEVELS

CHOICES: tuple[str, ...] = LAYERS  # the values the language allows (styleclip_dsl/defaults.py)


def levels_of(choice: str) -> tuple[str, ...]:
    """The levels a ``layers`` value names, in order."""
    if choice == "all":
        return LEVELS
    parts = tuple(choice.split("-"))
    if choice not in CHOICES or any(p not in LEVELS for p in parts):
        raise ValueError(f"layers={choice!r}: expected one of {', '.join(CHOICES)}")
    return parts


def kept_rows(choice: str, n_latent: int) -> list[bool]:
    """Per W+ row: may the edit change it?"""
    rows = [False] * n_latent
    for level in levels_of(choice):
        start, stop = LEVEL_ROWS[level]
        for i in range(start, n_latent if stop is None else min(stop, n_latent)):
            rows[i] = True
    return rows


def wplus_mask(choice: str, n_latent: int) -> torch.Tensor | None:
    """(n_latent, 1) of 0/1 to multiply a W+ change by; None for ``all`` (nothing to mask)."""
    if choice == "all":
        return None
    return torch.tensor(kept_rows(choice, n_latent), dtype=torch.float32).unsqueeze(1)


def style_layer_kept(choice: str, layout) -> list[bool]:
    """Per StyleSpace layer of ``layout``: may the edit change it? (the row that feeds it decides)."""
    rows = kept_rows(choice, 1 + max(layer.w_index for layer in layout))
    return [rows[layer.w_index] for layer in layout]


def mask_offsets(choice: str, layout, offsets: list[torch.Tensor]) -> list[torch.Tensor]:
    """A StyleSpace offset (per layer) with the layers ``choice`` leaves alone set to zero."""
    if choice == "all":
        return offsets
    return [o if keep else torch.zeros_like(o) for o, keep in zip(offsets, style_layer_kept(choice, layout))]


def s_channel_mask(choice: str, layout, mask: list[torch.Tensor] | None = None) -> list[torch.Tensor] | None:
    """The channel mask (per layer, 0/1) of an optimization in S: ``mask`` (all channels when None)
    with the layers ``choice`` leaves alone zeroed; None when nothing is masked."""
    if choice == "all":
        return mask
    return mask_offsets(choice, layout, mask if mask is not None else [torch.ones(layer.width) for layer in layout])
