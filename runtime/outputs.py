"""Writing results: PNGs that say how they were made, labelled grids, GIFs.

Every file is written atomically (see ``cache.atomic_write_bytes``): a run
that fails or is interrupted never leaves a half-written image.

PNG metadata (tEXt chunks, readable with ``read_png_metadata``):
``styleclip:recipe`` (the recipe text), ``styleclip:step`` (the plan step id
and line), ``styleclip:seed``, ``styleclip:models`` (JSON: component ->
sha256), ``styleclip:item`` (JSON labels), ``styleclip:version``.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from .cache import atomic_write_bytes

METADATA_PREFIX = "styleclip:"


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3,H,W) or (B,3,H,W) generator output in [-1,1] -> HWC / BHWC uint8,
    the field's convention: (x + 1) * 127.5, rounded, clamped."""
    x = image.detach().float().cpu()
    x = ((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    if x.ndim == 3:
        return x.permute(1, 2, 0).numpy()
    return x.permute(0, 2, 3, 1).numpy()


def encode_png(pixels: np.ndarray, metadata: Mapping[str, str] | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (metadata or {}).items():
        info.add_text(METADATA_PREFIX + key, value)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", pnginfo=info, optimize=False)
    return buf.getvalue()


def save_png(path: Path, pixels: np.ndarray, metadata: Mapping[str, str] | None = None) -> None:
    atomic_write_bytes(path, encode_png(pixels, metadata))


def read_png_metadata(path: Path) -> dict[str, str]:
    with Image.open(path) as img:
        img.load()
        text = getattr(img, "text", {}) or {}
    return {k[len(METADATA_PREFIX):]: v for k, v in text.items() if k.startswith(METADATA_PREFIX)}


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # older Pillow
        return ImageFont.load_default()


def make_grid(cells: Sequence[Sequence[np.ndarray | None]], row_labels: Sequence[str] = (),
              col_labels: Sequence[str] = (), scale: int = 2, pad: int = 4) -> np.ndarray:
    """A labelled grid: ``cells[r][c]`` are HWC uint8 images (None leaves a gap).
    Small images are scaled up by an integer factor (nearest) so labels stay
    readable."""
    rows = len(cells)
    cols = max(len(r) for r in cells)
    sample = next(c for r in cells for c in r if c is not None)
    h, w = sample.shape[0] * scale, sample.shape[1] * scale
    font = _font(12)
    label_w = (max((len(s) for s in row_labels), default=0) * 7 + 8) if row_labels else 0
    label_h = 18 if col_labels else 0
    width = label_w + cols * (w + pad) + pad
    height = label_h + rows * (h + pad) + pad
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for c, text in enumerate(col_labels):
        draw.text((label_w + pad + c * (w + pad), 2), text, fill=(0, 0, 0), font=font)
    for r, row in enumerate(cells):
        y = label_h + pad + r * (h + pad)
        if r < len(row_labels):
            draw.text((4, y + h // 2 - 6), row_labels[r], fill=(0, 0, 0), font=font)
        for c, cell in enumerate(row):
            if cell is None:
                continue
            tile = Image.fromarray(cell).resize((w, h), Image.NEAREST)
            canvas.paste(tile, (label_w + pad + c * (w + pad), y))
    return np.asarray(canvas)


def encode_gif(frames: Sequence[np.ndarray], duration_ms: int = 400, scale: int = 2,
               comment: str = "") -> bytes:
    images = [Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST)
              for f in frames]
    buf = io.BytesIO()
    # Ping-pong so a sweep reads as a back-and-forth animation.
    seq = images + images[-2:0:-1] if len(images) > 2 else images
    seq[0].save(buf, format="GIF", save_all=True, append_images=seq[1:], duration=duration_ms,
                loop=0, comment=comment.encode("utf-8")[:255] if comment else b"")
    return buf.getvalue()


def save_gif(path: Path, frames: Sequence[np.ndarray], duration_ms: int = 400, comment: str = "") -> None:
    atomic_write_bytes(path, encode_gif(frames, duration_ms, comment=comment))


def metadata_for(recipe_text: str, step_id: str, line: int, seed: int,
                 fingerprints: Mapping[str, str], labels: Mapping[str, object],
                 version: str) -> dict[str, str]:
    return {
        "recipe": recipe_text,
        "step": f"{step_id} (line {line})",
        "seed": str(seed),
        "models": json.dumps(dict(fingerprints), sort_keys=True),
        "item": json.dumps({k: v for k, v in labels.items()}, sort_keys=True, default=str),
        "version": version,
    }
