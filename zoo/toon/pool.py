"""A pool of rendered faces for training, refreshed as training goes.

Rendering costs about 1 ms a face on one core; a pool lets each training step
draw a batch for free and ``refresh`` re-renders part of it with new faces
now and then, so that a long run sees many more faces than the pool holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .attributes import Attributes, sample_attributes
from .renderer import render_batch


@dataclass
class RenderPool:
    """``images``: uint8 (N, 3, H, W); ``attrs``: the faces they show."""

    size: int
    rng: np.random.Generator
    image_size: int = 64
    nuisance_seeds: tuple[int, ...] | None = None  # draw layouts only from these (None: any seed)
    attrs: list[Attributes] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    images: torch.Tensor | None = None

    def __post_init__(self) -> None:
        self.attrs = [sample_attributes(self.rng) for _ in range(self.size)]
        self.images, self.seeds = self._render(self.attrs)

    def _render(self, attrs: list[Attributes]) -> tuple[torch.Tensor, list[int]]:
        if self.nuisance_seeds is None:
            seeds = self.rng.integers(0, 2**31 - 1, size=len(attrs)).tolist()
        else:
            seeds = self.rng.choice(np.asarray(self.nuisance_seeds), size=len(attrs)).tolist()
        arr = render_batch(attrs, seeds, self.image_size)
        return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous(), seeds

    def refresh(self, count: int) -> None:
        """Replace ``count`` random entries by fresh faces."""
        idx = self.rng.choice(self.size, size=min(count, self.size), replace=False)
        new = [sample_attributes(self.rng) for _ in idx]
        imgs, seeds = self._render(new)
        assert self.images is not None
        self.images[torch.from_numpy(idx)] = imgs
        for i, a, seed in zip(idx.tolist(), new, seeds):
            self.attrs[i], self.seeds[i] = a, seed

    def sample(self, batch: int) -> tuple[torch.Tensor, list[Attributes]]:
        """A random batch: float images in [0, 1] (B, 3, H, W) and their attributes."""
        x, attrs, _ = self.sample_with_seeds(batch)
        return x, attrs

    def sample_with_seeds(self, batch: int) -> tuple[torch.Tensor, list[Attributes], list[int]]:
        """``sample`` plus each face's nuisance seed (its layout)."""
        idx = self.rng.integers(0, self.size, size=batch)
        assert self.images is not None
        x = self.images[torch.from_numpy(idx)].float() / 255.0
        return x, [self.attrs[i] for i in idx.tolist()], [self.seeds[i] for i in idx.tolist()]


def held_out(count: int, seed: int = 1_000_003, image_size: int = 64) -> tuple[torch.Tensor, list[Attributes]]:
    """The evaluation set: ``count`` faces from a generator seeded apart from training.

    Training pools draw from ``default_rng([seed, step])`` with small training
    seeds; this one uses ``default_rng([seed, 0xE7A1])``. Images in [0, 1].
    """
    rng = np.random.default_rng([seed, 0xE7A1])
    attrs = [sample_attributes(rng) for _ in range(count)]
    seeds = rng.integers(0, 2**31 - 1, size=count)
    arr = render_batch(attrs, seeds.tolist(), image_size)
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255.0, attrs
