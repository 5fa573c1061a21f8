"""Measure toon-G and the toon encoder: the figures of docs/toon.md.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> None:
    """Save images in [-1, 1] (B, 3, H, W) as one PNG, ``nrow`` per row."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    b, _, h, w = x.shape
    rows = (b + nrow - 1) // nrow
    grid = torch.zeros(3, rows * h, nrow * w, dtype=torch.uint8)
    for i in range(b):
        r, c = divmod(i, nrow)
        grid[:, r * h:(r + 1) * h, c * w:(c + 1) * w] = x[i]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(grid.permute(1, 2, 0).numpy())).save(path)
