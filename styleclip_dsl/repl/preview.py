"""Images in the terminal: kitty or iTerm2 inline graphics, sixel, or truecolor half blocks.

``pick_protocol`` decides from the environment (``STYLECLIP_PREVIEW`` forces
one of ``kitty``, ``iterm``, ``sixel``, ``blocks``, ``none``); every encoder
is a pure function from pixels (HWC uint8) to text, so each can be tested
without a terminal. Half blocks work everywhere rich can print colour: each
character cell shows two pixels, the upper one as the foreground of ``▀``
and the lower one as its background.
"""
from __future__ import annotations

import atexit
import base64
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal, Mapping

import numpy as np
from PIL import Image
from rich.text import Text

Protocol = Literal["kitty", "iterm", "sixel", "blocks", "none"]
PROTOCOLS: tuple[str, ...] = ("kitty", "iterm", "sixel", "blocks", "none")

_SIXEL_TERMS = ("mlterm", "foot", "foot-extra", "yaft-256color", "contour")
_KITTY_CHUNK = 4096


def pick_protocol(env: Mapping[str, str] | None = None, is_terminal: bool = True) -> Protocol:
    """The best way to draw an image on this terminal."""
    env = os.environ if env is None else env
    forced = env.get("STYLECLIP_PREVIEW", "").strip().lower()
    if forced in PROTOCOLS:
        return forced  # type: ignore[return-value]
    if not is_terminal:
        return "none"
    term = env.get("TERM", "")
    program = env.get("TERM_PROGRAM", "")
    if term == "xterm-kitty" or env.get("KITTY_WINDOW_ID") or program == "ghostty":
        return "kitty"
    if program in ("iTerm.app", "WezTerm") or env.get("LC_TERMINAL") == "iTerm2":
        return "iterm"
    if "sixel" in term or term in _SIXEL_TERMS:
        return "sixel"
    return "blocks"


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def kitty_image(pixels: np.ndarray, columns: int) -> str:
    """The kitty graphics protocol: a PNG, base64, in chunks; shown ``columns`` cells wide."""
    payload = base64.b64encode(png_bytes(pixels)).decode("ascii")
    chunks = [payload[i:i + _KITTY_CHUNK] for i in range(0, len(payload), _KITTY_CHUNK)] or [""]
    out = []
    for index, chunk in enumerate(chunks):
        more = 1 if index < len(chunks) - 1 else 0
        keys = f"a=T,f=100,q=2,c={columns},m={more}" if index == 0 else f"m={more}"
        out.append(f"\x1b_G{keys};{chunk}\x1b\\")
    return "".join(out) + "\n"


def iterm_image(pixels: np.ndarray, columns: int, name: str = "preview.png") -> str:
    """iTerm2's inline image escape (also understood by WezTerm)."""
    data = png_bytes(pixels)
    label = base64.b64encode(name.encode("utf-8")).decode("ascii")
    body = base64.b64encode(data).decode("ascii")
    return (f"\x1b]1337;File=name={label};size={len(data)};inline=1;width={columns};"
            f"preserveAspectRatio=1:{body}\x07\n")


def upscale(pixels: np.ndarray, min_side: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor so the smaller side is at least ``min_side``."""
    h, w = pixels.shape[:2]
    factor = max(1, -(-min_side // max(1, min(h, w))))
    if factor == 1:
        return pixels
    return np.repeat(np.repeat(pixels, factor, axis=0), factor, axis=1)


def sixel_image(pixels: np.ndarray, colors: int = 64) -> str:
    """DEC sixel graphics: the image quantised to ``colors`` palette entries, six rows per band."""
    image = Image.fromarray(pixels).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    index = np.asarray(image, dtype=np.int32)
    palette = np.asarray(image.getpalette()[: 3 * colors], dtype=np.int32).reshape(-1, 3)
    h, w = index.shape
    out = [f"\x1bPq\"1;1;{w};{h}"]
    for i, (r, g, b) in enumerate(palette):
        out.append(f"#{i};2;{r * 100 // 255};{g * 100 // 255};{b * 100 // 255}")
    for top in range(0, h, 6):
        band = index[top:top + 6]
        weights = (1 << np.arange(band.shape[0], dtype=np.int32))[:, None]
        lines = []
        for color in np.unique(band):
            bits = ((band == color) * weights).sum(axis=0)
            lines.append(f"#{color}" + _run_length("".join(chr(63 + int(v)) for v in bits)))
        out.append("$".join(lines) + "-")
    out.append("\x1b\\")
    return "".join(out) + "\n"


def _run_length(row: str) -> str:
    out = []
    i = 0
    while i < len(row):
        j = i
        while j < len(row) and row[j] == row[i]:
            j += 1
        count = j - i
        out.append(f"!{count}{row[i]}" if count > 3 else row[i] * count)
        i = j
    return "".join(out)


def half_blocks(pixels: np.ndarray, columns: int) -> Text:
    """A truecolor rendering ``columns`` cells wide (each cell: two pixels stacked)."""
    h, w = pixels.shape[:2]
    columns = max(1, min(columns, w * 4))
    rows = max(1, round(columns * h / w / 2))
    small = np.asarray(Image.fromarray(pixels).convert("RGB").resize((columns, rows * 2), Image.BOX))
    text = Text()
    for y in range(rows):
        top, bottom = small[2 * y], small[2 * y + 1]
        for (r1, g1, b1), (r2, g2, b2) in zip(top, bottom):
            text.append("▀", style=f"rgb({r1},{g1},{b1}) on rgb({r2},{g2},{b2})")
        text.append("\n")
    return text


def preview_folder(prefix: str = "styleclip-repl-") -> Path:
    """A fresh temporary folder for a session's ``:show`` PNGs, removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, True)
    return folder
