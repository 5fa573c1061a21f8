"""Input images: finding them (paths and globs), decoding them to the
encoder's input, and remembering their digests.

Inversions are cached by the sha256 of the decoded, cropped and resized
pixels (``cache_keys.inversion_key``). Both the cost estimate that opens a
run (``explain``) and the ``invert`` step need those digests; an
``ImageDigests`` (one per executor) decodes each file once per change of
the file, so that a run whose inversions are all cached decodes nothing
twice. Torch-free.
"""
from __future__ import annotations

import glob as globlib
import hashlib
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import StepError

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


class ImageDigests:
    """(sha256 of the decoded pixels, their shape) per image file, remembered by the file's path,
    size on disk and modification time, plus the pixels themselves for the latest images up to
    ``max_bytes`` (so that the step after the estimate need not decode them again). Owned by one
    executor."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._digests: dict[tuple, tuple[str, tuple[int, ...]]] = {}
        self._pixels: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._bytes = 0
        self.decoded = 0  # files decoded so far (for tests and benchmarks)

    @staticmethod
    def _identity(path: Path, size: int, step: dict) -> tuple:
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise StepError(f"cannot read image {path}: {exc}", step) from exc
        return (str(Path(path).resolve()), size, stat.st_size, stat.st_mtime_ns)

    def _decode(self, ident: tuple, path: Path, size: int, step: dict) -> np.ndarray:
        pixels = read_image(path, size, step)
        self.decoded += 1
        self._digests[ident] = (hashlib.sha256(pixels.tobytes()).hexdigest(), tuple(pixels.shape))
        self._pixels[ident] = pixels
        self._bytes += pixels.nbytes
        while self._bytes > self.max_bytes and len(self._pixels) > 1:
            _, old = self._pixels.popitem(last=False)
            self._bytes -= old.nbytes
        return pixels

    def digest(self, path: Path, size: int, step: dict) -> tuple[str, tuple[int, ...]]:
        """(sha256, shape) of the image as the encoder sees it; decodes only when not known."""
        ident = self._identity(path, size, step)
        if ident not in self._digests:
            self._decode(ident, path, size, step)
        return self._digests[ident]

    def pixels(self, path: Path, size: int, step: dict) -> np.ndarray:
        """The decoded pixels (HWC uint8), from memory when still held; handed over, not kept."""
        ident = self._identity(path, size, step)
        held = self._release(ident)
        return held if held is not None else self._decode(ident, path, size, step)

    @property
    def held_bytes(self) -> int:
        """Bytes of decoded pixels held for the step that may still need them."""
        return self._bytes

    def release(self, path: Path, size: int, step: dict) -> None:
        """Drop the pixels held for an image that needs no decoding after all (its inversion was
        cached); its digest stays known."""
        self._release(self._identity(path, size, step))

    def _release(self, ident: tuple) -> np.ndarray | None:
        held = self._pixels.pop(ident, None)
        if held is not None:
            self._bytes -= held.nbytes
        return held
