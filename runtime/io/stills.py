"""Single images in the format their extension names: PNG (with the recipe in tEXt chunks) or JPEG.

A JPEG carries the same metadata as a PNG's ``styleclip:`` chunks, as one
JSON object in its comment (COM) segment; ``read_still_metadata`` reads
either. The checker only lets ``save`` and ``save grid`` name these
extensions (``styleclip_dsl.defaults.SAVE_EXTENSIONS``).
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image

from .outputs import METADATA_PREFIX, encode_png, read_png_metadata

JPEG_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg")
JPEG_QUALITY = 95


def encode_still(suffix: str, pixels: np.ndarray, metadata: Mapping[str, str] | None = None) -> bytes:
    """HWC uint8 pixels as the bytes of a ``suffix`` file (``.jpg``/``.jpeg`` JPEG, anything else PNG)."""
    if suffix.lower() not in JPEG_SUFFIXES:
        return encode_png(pixels, metadata)
    buf = io.BytesIO()
    comment = json.dumps({METADATA_PREFIX + k: v for k, v in (metadata or {}).items()}, sort_keys=True)
    Image.fromarray(pixels).convert("RGB").save(buf, format="JPEG", quality=JPEG_QUALITY,
                                                comment=comment.encode("utf-8"))
    return buf.getvalue()


def read_still_metadata(path: Path) -> dict[str, str]:
    """The ``styleclip:`` metadata of a PNG or JPEG written by ``encode_still``."""
    if Path(path).suffix.lower() not in JPEG_SUFFIXES:
        return read_png_metadata(path)
    with Image.open(path) as img:
        raw = img.info.get("comment", b"")
    try:
        data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw or "{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return {k[len(METADATA_PREFIX):]: v for k, v in data.items() if k.startswith(METADATA_PREFIX)}
