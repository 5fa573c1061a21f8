"""Decoding a photo honestly to 8-bit RGB.

- Only regular files are opened: a FIFO or a device matched as a photo is
  refused before anything reads it (opening a FIFO blocks for ever).
- EXIF orientation is applied (a phone's portrait photo stored sideways comes
  out upright).
- Bit depth is scaled, not clipped: integer samples by their type's full range
  (16-bit: 65535, 32-bit: 2**32 - 1, or 2**31 - 1 when signed), floating-point
  samples must lie in [0, 1]. Negative integers, floats outside [0, 1], and
  integers that use so little of their range that the 8-bit image would be one
  flat grey are refused with the range found, never run on as a white or black
  image.
- Colour TIFFs that Pillow cannot decode (32-bit float or integer samples) are
  read with ``tifffile``.
- A decompression bomb (more pixels than Pillow's limit) is refused cleanly.
- Transparency is composited over white (the colour stored under transparent
  pixels is arbitrary, often black).

Errors are ``PhotoError`` (a ``ValueError``) whose message names the file.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

TIFF_SUFFIXES = {".tif", ".tiff"}
_ORIENTATION_TAG = 274


class PhotoError(ValueError):
    """A photo that cannot be decoded honestly; the message names the file and why."""


def check_regular_file(path: Path) -> None:
    """Refuse anything but a regular file (a FIFO, socket or device would block or never end)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise PhotoError(f"cannot read image {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
                else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a directory" if stat.S_ISDIR(mode) else "not a regular file")
        raise PhotoError(f"{path} is {kind}, not an image file: refused without reading it")


def decode_photo(path: Path) -> np.ndarray:
    """The photo as upright HWC uint8 RGB (see the module docstring for what is refused)."""
    path = Path(path)
    check_regular_file(path)
    try:
        with Image.open(path) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)
            return _to_rgb8(upright, path)
    except Image.DecompressionBombError as exc:
        raise PhotoError(f"image {path} is too large to decode safely: {exc}") from exc
    except UnidentifiedImageError as exc:
        if path.suffix.lower() in TIFF_SUFFIXES:
            return _decode_tiff(path)
        raise PhotoError(f"cannot read image {path}: not an image format Pillow can decode") from exc
    except OSError as exc:
        raise PhotoError(f"cannot read image {path}: {exc}") from exc


def _to_rgb8(img: Image.Image, path: Path) -> np.ndarray:
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _gray(scale_to_uint8(np.asarray(img), path, _declared_bits(img)))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.uint8)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _declared_bits(img: Image.Image) -> int | None:
    """Significant bits per sample the file declares: a PNG's integer samples are 16-bit at most,
    a TIFF gives BitsPerSample (tag 258) and SampleFormat (tag 339; 2 = signed, one bit less)."""
    if img.format == "PNG" and img.mode.startswith("I"):
        return 16
    tags = getattr(img, "tag_v2", None)
    if tags is None or img.mode == "F":
        return None
    bits, fmt = tags.get(258), tags.get(339)
    bits = bits[0] if isinstance(bits, tuple) and bits else bits
    fmt = fmt[0] if isinstance(fmt, tuple) and fmt else fmt
    return int(bits) - (1 if fmt == 2 else 0) if bits else None


def _gray(channel: np.ndarray) -> np.ndarray:
    return np.repeat(channel[:, :, None], 3, axis=2)


def scale_to_uint8(samples: np.ndarray, path: Path, bits: int | None = None) -> np.ndarray:
    """Integer or float samples to uint8 by their nominal range (module docstring). ``bits``: the
    file's declared bits per sample, when the array's type is wider (16-bit PNGs load as int32)."""
    if samples.dtype == np.uint8:
        return samples
    if samples.dtype.kind == "f":
        lo, hi = float(np.nanmin(samples)), float(np.nanmax(samples))
        if not np.isfinite(samples).all() or lo < 0.0 or hi > 1.0:
            raise PhotoError(f"image {path} has floating-point samples from {lo:g} to {hi:g}; "
                             "only 0..1 is understood (save it as 8- or 16-bit, or scale it to 0..1)")
        return np.rint(samples.astype(np.float64) * 255.0).astype(np.uint8)
    if samples.dtype.kind not in "iu":
        raise PhotoError(f"image {path} has samples of type {samples.dtype}, which is not understood")
    if samples.dtype.kind == "i" and samples.size and int(samples.min()) < 0:
        raise PhotoError(f"image {path} has negative samples (down to {int(samples.min())}); refused")
    width = bits if bits is not None else samples.dtype.itemsize * 8 - (1 if samples.dtype.kind == "i" else 0)
    full = float(2 ** min(width, 64) - 1)
    out = np.rint(samples.astype(np.float64) * (255.0 / full)).astype(np.uint8)
    if samples.size and int(samples.max()) > int(samples.min()) and int(out.max()) == int(out.min()):
        raise PhotoError(f"image {path} has {width}-bit samples from {int(samples.min())} to {int(samples.max())}, "
                         f"under 1/255 of their range: as 8-bit it would be one flat grey; refused")
    return out


def _decode_tiff(path: Path) -> np.ndarray:
    try:
        import tifffile
    except ImportError as exc:  # pragma: no cover - tifffile is a dependency
        raise PhotoError(f"cannot read image {path}: Pillow cannot decode this TIFF and tifffile is not installed") from exc
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            orientation = page.tags.get(_ORIENTATION_TAG)
            samples = page.asarray()
            bits = page.bitspersample
    except Exception as exc:  # tifffile raises many kinds; all mean the same to the user
        raise PhotoError(f"cannot read image {path}: {exc}") from exc
    if samples.ndim == 2:
        samples = samples[:, :, None]
    if samples.ndim != 3 or samples.shape[2] not in (1, 3, 4):
        raise PhotoError(f"image {path} has shape {samples.shape}: expected gray, RGB or RGBA samples")
    signed = samples.dtype.kind == "i"
    rgb = scale_to_uint8(samples[:, :, :3] if samples.shape[2] >= 3 else samples,
                         path, bits - signed if samples.dtype.kind in "iu" else None)
    if rgb.shape[2] == 1:
        rgb = _gray(rgb[:, :, 0])
    return orient(rgb, int(orientation.value) if orientation is not None else 1)


def orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF/TIFF orientation (1..8) to HWC pixels, as ``ImageOps.exif_transpose`` does."""
    ops = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
           7: lambda a: a[::-1, ::-1].transpose(1, 0, 2), 8: lambda a: np.rot90(a, 1)}
    return np.ascontiguousarray(ops[orientation](pixels)) if orientation in ops else pixels
