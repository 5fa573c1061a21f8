"""``keep='A, B'``: what an edit should leave alone, for every engine that takes it.

A small CLIP reads some texts partly as others (toon-CLIP reads part of
'purple hair' as 'a bald head'), so an edit steered by the text alone also
moves what the other texts describe. Conditional editing (InterFaceGAN's
``project_boundary``) removes from the edit's vector its component along each
kept one, so that what is left moves the target and not the kept attributes.
The vectors differ by engine:

- global directions: the channel relevance ``fs3 @ dt`` of the edit's text,
  made orthogonal to each kept text's relevance before beta picks channels
  (``global_directions.relevance_without``);
- latent optimization: CLIP's target embedding, made orthogonal to each kept
  text's direction (``neutral -> kept``, ``global_directions.text_direction``),
  so the CLIP loss no longer rewards a change that CLIP reads as a kept text
  (``target_without``); with ``beta`` the channel mask also comes from the
  conditional direction.
"""
from __future__ import annotations

from typing import Sequence

import torch

# the texts of a keep= value as a person writes it (`styleclip train mapper --keep`); a plan's keep is
# already canonical and its engine reads it with styleclip_dsl.engines.keep.kept
from styleclip_dsl.engines.keep import keep_texts  # noqa: F401


def orthogonal_part(vector: torch.Tensor, kept: Sequence[torch.Tensor]) -> torch.Tensor:
    """The part of ``vector`` orthogonal to the span of ``kept`` (which may be linearly dependent)."""
    if not kept:
        return vector
    basis = torch.stack([k.float().to(vector.device) for k in kept], dim=1)
    q, r = torch.linalg.qr(basis)
    independent = r.diagonal().abs() > 1e-6 * max(1.0, float(r.diagonal().abs().max()))
    q = q[:, independent]
    return vector.float() - q @ (q.T @ vector.float())


def target_without(target: torch.Tensor, kept_directions: Sequence[torch.Tensor]) -> torch.Tensor:
    """CLIP's target embedding (D,) with its component along each kept text direction removed,
    renormalised to unit length. The CLIP loss ``1 - <e, target>`` then gains nothing, to first
    order, from an image change along a kept direction."""
    if not kept_directions:
        return target
    out = orthogonal_part(target, kept_directions)
    norm = out.norm()
    if float(norm) < 1e-6:
        raise ValueError("the kept texts span the whole target: nothing would be left to move toward")
    return out / norm


@torch.no_grad()
def conditional_target(clip, target: torch.Tensor, keep: Sequence[str], neutral: str,
                       direction=None) -> torch.Tensor:
    """``target`` (CLIP's embedding of the edit's text) made orthogonal to the direction
    ``neutral -> k`` of each kept text ``k`` (``target_without``); ``target`` itself when nothing
    is kept. ``direction(k, neutral)`` gives those directions (default: computed with ``clip`` by
    ``global_directions.text_direction``; a caller that memoises them passes its own)."""
    if not keep:
        return target
    if direction is None:
        from .global_directions.directions import text_direction  # it imports this module

        def direction(k: str, n: str) -> torch.Tensor:
            return text_direction(clip, k, n)
    return target_without(target, [direction(k, neutral).float().to(target.device) for k in keep])
