"""Augmentations that make clean renders look like generator samples.

Everything works on float batches in [0, 1] of shape (B, 3, H, W): a small
random shift and scale, a partial blur, slight colour jitter and pixel noise.
The strengths are mild on purpose: they must not change what a face shows
(e.g. turn brown skin into tan).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    shift_px: float = 3.0  # maximum translation, in output pixels
    scale: float = 0.04  # zoom factor range 1 +- scale
    blur_sigma: float = 1.0  # sigma of the blurred copy mixed in
    blur_p: float = 0.6  # probability of any blur
    noise_std: float = 0.03  # maximum per-image noise std
    brightness: float = 0.05
    contrast: float = 0.08
    channel_gain: float = 0.03


@lru_cache(maxsize=8)
def blur_matrix(n: int, sigma: float) -> torch.Tensor:
    """(n, n) matrix M with ``x @ M`` = 1-D Gaussian blur of rows (reflect borders)."""
    radius = max(1, int(round(3 * sigma)))
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (taps / sigma) ** 2)
    k = k / k.sum()
    m = torch.zeros(n, n)
    for out in range(n):
        for t, w in zip(taps.tolist(), k.tolist()):
            src = out + int(t)
            src = -src if src < 0 else (2 * (n - 1) - src if src >= n else src)  # reflect
            m[src, out] += w
    return m


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflect borders, as two small matrix products
    (much faster on CPU than a depthwise convolution)."""
    h, w = x.shape[-2:]
    mw = blur_matrix(w, float(sigma)).to(x)
    mh = blur_matrix(h, float(sigma)).to(x)
    return mh.T @ (x @ mw)


def augment(x: torch.Tensor, generator: torch.Generator, cfg: AugmentConfig = AugmentConfig()) -> torch.Tensor:
    """Randomly perturb a batch in [0, 1]; returns a new batch in [0, 1]."""
    b, _, h, _ = x.shape
    g = generator

    def u(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g)

    zoom = 1 + cfg.scale * (2 * u(b) - 1)
    shift = cfg.shift_px * 2 / h * (2 * u(b, 2) - 1)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = 1 / zoom
    theta[:, 1, 1] = 1 / zoom
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    amount = u(b) * (u(b) < cfg.blur_p)
    x = torch.lerp(x, gaussian_blur(x, cfg.blur_sigma), amount.view(b, 1, 1, 1))

    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = 1 + cfg.contrast * (2 * u(b, 1, 1, 1) - 1)
    bright = cfg.brightness * (2 * u(b, 1, 1, 1) - 1)
    gain = 1 + cfg.channel_gain * (2 * u(b, 3, 1, 1) - 1)
    x = ((x - mean) * contrast + mean + bright) * gain

    noise = torch.randn(x.shape, generator=g) * (cfg.noise_std * u(b, 1, 1, 1))
    return (x + noise).clamp(0, 1)
