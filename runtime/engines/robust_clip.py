"""CLIP's view of an image as an expectation (``views=`` and ``smooth=``).

A small CLIP's image gradient has sharp, adversarial directions: an optimizer
can raise the text's score without changing what a person (or toon's judge)
sees. Averaging the CLIP term over a neighbourhood removes them, and what is
left of the gradient is what CLIP sees robustly. Two neighbourhoods, used by
latent optimization and mapper training alike:

- ``augmented_embedding``: CLIP's image embedding averaged over ``views``
  copies of the image, each randomly scaled (+-10 %), shifted (+-4 % of the
  width, reflected at the border) and noised (std 0.05 on [-1, 1]);
- ``style_noise``: a random StyleSpace offset of ``smooth`` per-channel stds
  on every non-toRGB channel, added where the image is rendered, so the
  gradient is that of the loss smoothed over that neighbourhood.

Each image draws from a ``torch.Generator`` of its own (one per subject in
optimization, so a subject gets the same result alone or in any batch) or
from one shared generator (mapper training's batch).
"""
from __future__ import annotations

from typing import Sequence

import torch


def augmented_embedding(clip, image: torch.Tensor, views: int,
                        draws: Sequence[torch.Generator]) -> torch.Tensor:
    """(B, D) unit CLIP embeddings of ``image`` (B, 3, H, W): of the image itself when
    ``views`` is 0, else the mean over ``views`` augmented copies. ``draws``: one generator
    per image, or one for the whole batch."""
    if not views:
        return clip.encode_images(image)
    b, device = image.shape[0], image.device
    per_image = len(draws) == b
    scale, shift, noise = [], [], []
    for g in (draws if per_image else [draws[0]]):  # in a fixed order
        n = views if per_image else views * b
        scale.append(1.0 + 0.1 * (2 * torch.rand(n, generator=g, device=device) - 1))
        shift.append(0.08 * (2 * torch.rand(n, 2, generator=g, device=device) - 1))
        noise.append(0.05 * torch.randn((n,) + tuple(image.shape[1:]), generator=g, device=device))
    theta = torch.zeros(b * views, 2, 3, device=device)
    theta[:, 0, 0] = theta[:, 1, 1] = torch.cat(scale)
    theta[:, :, 2] = torch.cat(shift)
    copies = image.float().repeat_interleave(views, dim=0)
    grid = torch.nn.functional.affine_grid(theta, list(copies.shape), align_corners=False)
    copies = torch.nn.functional.grid_sample(copies, grid, padding_mode="reflection", align_corners=False)
    emb = clip.encode_images(copies + torch.cat(noise))
    return torch.nn.functional.normalize(emb.view(b, views, -1).mean(1), dim=-1)


class StyleNoise:
    """Random StyleSpace offsets of ``smooth`` stds per channel (zero on toRGB layers)."""

    def __init__(self, layout, smooth: float, style_std: Sequence[torch.Tensor], device) -> None:
        self.layout = layout
        self.device = device
        self.widths = [layer.width for layer in layout if not layer.is_torgb]
        self.scale = [None if layer.is_torgb else smooth * sd.to(device).float()
                      for layer, sd in zip(layout, style_std)]

    def draw(self, batch: int, draws: Sequence[torch.Generator]) -> list[torch.Tensor]:
        """Per layer (B, C); ``draws``: one generator per image, or one for the whole batch."""
        total = sum(self.widths)
        if len(draws) == batch:
            flat = torch.stack([torch.randn(total, generator=g, device=self.device) for g in draws])
        else:
            flat = torch.randn(batch, total, generator=draws[0], device=self.device)
        parts = iter(flat.split(self.widths, dim=1))
        return [torch.zeros(batch, layer.width, device=self.device) if scale is None else scale * next(parts)
                for layer, scale in zip(self.layout, self.scale)]
