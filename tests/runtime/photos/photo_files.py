"""Real photographs from a wheel (scikit-image's astronaut, Eileen Collins, NASA, public domain; its
cat and coffee cup for no face) and writers for the file formats the decoding tests need."""
from __future__ import annotations

import os
import struct
import threading
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np


def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def no_face_photo() -> np.ndarray:
    from skimage import data

    return data.coffee()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    """A PNG written by hand (Pillow cannot write 16-bit colour, nor a huge header with no pixels)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def write_png16(path: Path, samples: np.ndarray) -> Path:
    """A 16-bit PNG of (H, W) gray or (H, W, 3) RGB uint16 samples."""
    h, w = samples.shape[:2]
    colour = 0 if samples.ndim == 2 else 2
    raw = b"".join(b"\x00" + samples[y].astype(">u2").tobytes() for y in range(h))
    path.write_bytes(png_bytes(w, h, 16, colour, zlib.compress(raw)))
    return path


def write_huge_png_header(path: Path, side: int = 30000) -> Path:
    """A PNG whose header says side x side RGB (a decompression bomb), with a tiny body."""
    path.write_bytes(png_bytes(side, side, 8, 2, zlib.compress(b"\x00" * 64)))
    return path


def call_or_unblock(fifo: Path, work: Callable[[], Any], seconds: float = 10.0) -> tuple[bool, Any]:
    """(finished in time, result or exception) of ``work``; when it blocks (reading the FIFO), the
    FIFO's writer end is opened so that it ends, and the test can fail instead of hanging."""
    out: list[Any] = []

    def target() -> None:
        try:
            out.append(work())
        except BaseException as exc:  # handed to the test
            out.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(seconds)
        return False, out[0] if out else None
    return True, out[0]
