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
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from ..cache.result_cache import atomic_write_bytes

if TYPE_CHECKING:  # torch is imported where images are made, not to write files
    import torch

METADATA_PREFIX = "styleclip:"


def to_uint8(image: "torch.Tensor") -> np.ndarray:
    """(3,H,W) or (B,3,H,W) generator output in [-1,1] -> HWC / BHWC uint8,
    the field's convention: (x + 1) * 127.5, rounded, clamped."""
    import torch  # here, not at the top: a run served from the output cache imports this module without torch

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


def label_font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # older Pillow
        return ImageFont.load_default()


def photo_cell(photo, like: np.ndarray) -> np.ndarray | None:
    """A grid's input-photo cell: what the encoder saw (``state.Photo``; the aligned crop for sets with
    ``align:``), resized to the generator's images (``like``); None for subjects not inverted."""
    if photo is None:
        return None
    pixels = np.asarray(photo.image(), dtype=np.uint8)
    if pixels.shape[:2] != like.shape[:2]:
        pixels = np.asarray(Image.fromarray(pixels).resize((like.shape[1], like.shape[0]), Image.LANCZOS))
    return pixels


def make_grid(cells: Sequence[Sequence[np.ndarray | None]], row_labels: Sequence[str] = (),
              col_labels: Sequence[str] = (), scale: int = 2, pad: int = 4) -> np.ndarray:
    """A labelled grid: ``cells[r][c]`` are HWC uint8 images (None leaves a gap).
    Small images are scaled up by an integer factor (nearest) so labels stay
    readable."""
    rows = len(cells)
    cols = max(len(r) for r in cells)
    sample = next(c for r in cells for c in r if c is not None)
    h, w = sample.shape[0] * scale, sample.shape[1] * scale
    font = label_font(12)
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


# ---------------------------------------------------------------------------
# Where outputs may go (docs/language.md, "Where outputs go").

OUTPUT_MARKER = b"styleclip"  # in every file the runtime writes: PNG text keys, GIF comment, latent format tag
_SCAN_BYTES = 1 << 16


class OutputRefused(Exception):
    """An output path the run may not write (outside the output folder, an input, a foreign file)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def written_by_styleclip(path: Path) -> bool:
    """Whether ``path`` is a file this program wrote (it carries the marker of its format):
    PNGs their ``styleclip:`` text chunks, latent files their format tag, other formats
    (GIF, video) the bytes ``styleclip`` near their start or end. Reads no pickle."""
    try:
        suffix = path.suffix.lower()
        if suffix == ".png":
            return "version" in read_png_metadata(path)
        if suffix in (".pt", ".npz") and zipfile.is_zipfile(path):
            from .latents import FORMAT as LATENT_FORMAT  # imports torch: only for an existing latent file

            with zipfile.ZipFile(path) as archive:
                if suffix == ".npz":
                    meta = np.load(io.BytesIO(archive.read("meta.npy")), allow_pickle=False)
                    return json.loads(str(meta)).get("format") == LATENT_FORMAT
                pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
                return bool(pickles) and LATENT_FORMAT.encode() in archive.read(pickles[0])
        with open(path, "rb") as handle:
            head = handle.read(_SCAN_BYTES)
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - _SCAN_BYTES))
            return OUTPUT_MARKER in head or OUTPUT_MARKER in handle.read()
    except Exception:  # unreadable or not what its name says: not ours
        return False


@dataclass
class OutputGuard:
    """Every path one run writes passes ``claim`` first (owned by that run).

    Rules: a path stays inside ``root`` (the output folder) once symbolic links are
    resolved; it is never a file the run reads (``protected``: input photos and latents,
    the recipe); an existing file is replaced only when this program wrote it (or with
    ``overwrite``); a path an earlier step of the same run wrote gets a number
    (``x.png`` -> ``x_2.png``) instead of replacing that result."""

    root: Path
    protected: set[Path] = field(default_factory=set)
    overwrite: bool = False
    claimed: set[Path] = field(default_factory=set)

    def claim(self, path: Path) -> tuple[Path, str | None]:
        """(the path to write, a notice when it was renumbered); raises OutputRefused."""
        from styleclip_dsl.save_paths import path_problem

        path = Path(path)
        root = Path(self.root).resolve()
        relative = path
        for base in (Path(self.root), root) if path.is_absolute() else ():  # the folder as given, and resolved
            try:
                relative = path.relative_to(base)
                break
            except ValueError:
                continue
        problem = path_problem(str(relative))
        if problem is not None:
            raise OutputRefused(problem, "write a relative path without '..'")
        real_parent = path.parent.resolve()
        if real_parent != root and not real_parent.is_relative_to(root):
            raise OutputRefused(f"'{path}' leads outside the output folder {root} (through a symbolic link "
                                f"to {real_parent})", "save into a real folder inside the output folder")
        notice = None
        final = real_parent / path.name
        if final in self.claimed:
            n = 2
            while real_parent / f"{path.stem}_{n}{path.suffix}" in self.claimed:
                n += 1
            path = path.with_name(f"{path.stem}_{n}{path.suffix}")
            notice = f"{final.name} was already written by this run; this result goes to {path.name}"
            final = real_parent / path.name
        self._check_replace(final, path)
        self.claimed.add(final)
        return path, notice

    def _check_replace(self, final: Path, shown: Path) -> None:
        if final.is_symlink():
            raise OutputRefused(f"'{shown}' is a symbolic link; refusing to replace it",
                                "remove the link or save elsewhere")
        if not final.exists():
            return
        if final.is_dir():
            raise OutputRefused(f"'{shown}' is a folder", "save to a file name")
        if final in self.protected or any(_same_file(final, p) for p in self.protected):
            raise OutputRefused(f"'{shown}' is a file this run reads (an input or the recipe); "
                                "refusing to overwrite it", "save into a folder of its own, e.g. out/")
        if not self.overwrite and not written_by_styleclip(final):
            raise OutputRefused(f"'{shown}' exists and was not written by styleclip; refusing to overwrite it",
                                "pass --overwrite to replace it, or save elsewhere")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
