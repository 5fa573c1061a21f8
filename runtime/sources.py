"""Source steps: ``invert`` (images -> W+ through the encoder, cached by the
decoded pixels), ``generate`` (seeds -> W+ through the mapping network) and
``load`` (latent files, type-checked against the generator)."""
from __future__ import annotations

import glob as globlib
import hashlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .cache_keys import inversion_key
from .errors import StepError
from .latents import LatentFileError, load_latents
from .state import Item

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def expand_paths(patterns: list[str], base: Path, step: dict) -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        if globlib.has_magic(pattern):
            matches = sorted(Path(p) for p in globlib.glob(full)
                             if Path(p).suffix.lower() in IMAGE_SUFFIXES)
            if not matches:
                raise StepError(f"no image matches {pattern!r} (looked in {base})", step,
                                hint="patterns are relative to the recipe's folder")
            found.extend(matches)
        else:
            path = Path(full)
            if not path.exists():
                raise StepError(f"image {pattern!r} not found (looked in {base})", step,
                                hint="paths are relative to the recipe's folder")
            found.append(path)
    return found


def read_image(path: Path, size: int, step: dict) -> np.ndarray:
    """Decode, convert to RGB, resize to the encoder's input (a square crop of
    the centre when the image is not square). Returns HWC uint8."""
    try:
        with Image.open(path) as img:
            img.load()
            img = img.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise StepError(f"cannot read image {path}: {exc}", step) from exc
    w, h = img.size
    if w != h:
        side = min(w, h)
        img = img.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
    if img.size != (size, size):
        img = img.resize((size, size), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8)


def invert(models, step: dict, base: Path, cache, device) -> tuple[list[Item], dict]:
    paths = expand_paths(step["params"]["paths"], base, step)
    size = models.encoder_input_size
    subject = step["subject"]
    fps = models.fingerprints()
    items: list[Item | None] = [None] * len(paths)
    todo: list[tuple[int, np.ndarray, str]] = []
    stats = {"hits": 0, "misses": 0}
    for i, path in enumerate(paths):
        pixels = read_image(path, size, step)
        key = inversion_key(hashlib.sha256(pixels.tobytes()).hexdigest(), pixels.shape, fps)
        payload = cache.get_bytes("inversion", key)
        if payload is not None:
            stats["hits"] += 1
            items[i] = Item(path.stem, subject, i, st_load(payload)["wplus"], labels={"step": 0})
        else:
            stats["misses"] += 1
            todo.append((i, pixels, key))
    if todo:
        batch = torch.stack([torch.from_numpy(p.copy()).permute(2, 0, 1).float() / 127.5 - 1.0 for _, p, _ in todo])
        from .batching import AdaptiveBatch

        with torch.no_grad():
            codes = torch.cat(AdaptiveBatch(16).run(
                len(batch), lambda a, b: models.invert(batch[a:b].to(device)).float().cpu()))
        for (i, _, key), code in zip(todo, codes):
            cache.put_bytes("inversion", key, st_save({"wplus": code.contiguous()}))
            items[i] = Item(paths[i].stem, subject, i, code, labels={"step": 0})
    return [it for it in items if it is not None], stats


@torch.no_grad()
def generate(models, step: dict, device) -> list[Item]:
    g = models.generator
    params = step["params"]
    psi = float(params.get("truncation", 0.7))
    mean = models.mean_latent()
    items = []
    for i, seed in enumerate(params["seeds"]):
        z = torch.randn(1, g.config.style_dim, generator=torch.Generator().manual_seed(int(seed)))
        w = g.mapping(z.to(device))
        w = g.truncate(w, psi, mean)
        items.append(Item(f"seed{seed}", step["subject"], i, g.to_wplus(w)[0].cpu(), labels={"step": 0}))
    return items


def load(models, step: dict, base: Path) -> list[Item]:
    raw = step["params"]["path"]
    path = Path(raw) if Path(raw).is_absolute() else base / raw
    g = models.generator
    try:
        batch = load_latents(path, g.n_latent, g.config.style_dim, models.fingerprints().get("generator"))
    except LatentFileError as exc:
        raise StepError(str(exc), step) from exc
    items = []
    for i, (name, code) in enumerate(zip(batch.names, batch.wplus)):
        offset = [o[i] for o in batch.s_offset] if batch.s_offset is not None else None
        items.append(Item(name, step["subject"], i, code, offset, labels={"step": 0}))
    return items
