"""Encoding a sweep's frames as an animation: MP4 (H.264), GIF or WebP, chosen by the file's extension.

``save animation PATH duration=S size=PX labels=true pingpong=false`` (the
plan lists every parameter; ``styleclip_dsl.defaults.ANIMATION_PARAMS`` is
the table): each frame shows ``duration`` seconds, is ``size`` pixels square
(default: the image scaled up by a whole factor to at least 256, nearest
neighbour so that small images stay sharp), carries its swept value in a
corner when ``labels`` is on, and the sequence plays forward once per loop
unless ``pingpong`` asks for forward-then-back.

MP4 goes through the ffmpeg binary that the ``imageio-ffmpeg`` wheel ships
(libx264, yuv420p, so every player reads it; H.264 wants even sizes, so an
odd size is rounded up by one). Encoders return bytes; the caller writes
them atomically.
"""
from __future__ import annotations

import io
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

from .outputs import label_font

FORMATS: tuple[str, ...] = (".mp4", ".gif", ".webp")
MIN_DEFAULT_SIZE = 256


@dataclass(frozen=True)
class AnimationOptions:
    """How the frames are written (the plan's save-step ``params``)."""

    duration: float = 0.4        # seconds per frame
    size: int | None = None      # frame width and height; None: scaled up to at least 256
    labels: bool = True          # the swept value drawn on each frame
    pingpong: bool = False       # forward, then back

    @staticmethod
    def from_params(params: Mapping[str, object] | None) -> "AnimationOptions":
        p = dict(params or {})
        size = p.get("size")
        return AnimationOptions(duration=float(p.get("duration", 0.4)),  # type: ignore[arg-type]
                                size=int(size) if size is not None else None,  # type: ignore[call-overload]
                                labels=bool(p.get("labels", True)), pingpong=bool(p.get("pingpong", False)))


class AnimationFormatError(ValueError):
    """An extension no encoder writes (the checker rejects it first; plans written by hand may not)."""


def frame_size(image_size: int, requested: int | None) -> int:
    """The frames' side: as asked, else the image scaled up by a whole factor to at least 256."""
    if requested is not None:
        return int(requested)
    return image_size * max(1, math.ceil(MIN_DEFAULT_SIZE / image_size))


def prepare_frames(frames: Sequence[np.ndarray], labels: Sequence[str], options: AnimationOptions,
                   even: bool = False) -> list[Image.Image]:
    """HWC uint8 frames -> resized, labelled PIL images, in playing order."""
    if not frames:
        raise ValueError("an animation needs at least one frame")
    side = frame_size(frames[0].shape[1], options.size)
    if even and side % 2:
        side += 1
    font = label_font(max(10, side // 18))
    images = []
    for pixels, label in zip(frames, list(labels) + [""] * (len(frames) - len(labels))):
        image = Image.fromarray(pixels).convert("RGB").resize((side, side), Image.NEAREST)
        if options.labels and label:
            draw = ImageDraw.Draw(image)
            left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
            pad = max(2, side // 64)
            draw.rectangle((0, 0, right - left + 2 * pad, bottom - top + 2 * pad), fill=(255, 255, 255))
            draw.text((pad - left, pad - top), label, fill=(0, 0, 0), font=font)
        images.append(image)
    if options.pingpong and len(images) > 2:
        images = images + images[-2:0:-1]
    return images


def encode_animation(suffix: str, frames: Sequence[np.ndarray], labels: Sequence[str] = (),
                     options: AnimationOptions = AnimationOptions(), comment: str = "") -> bytes:
    """The file's bytes in the format of ``suffix`` (``.mp4``, ``.gif`` or ``.webp``)."""
    suffix = suffix.lower()
    if suffix == ".mp4":
        return encode_mp4(prepare_frames(frames, labels, options, even=True), options.duration, comment)
    images = prepare_frames(frames, labels, options)
    milliseconds = max(20, round(options.duration * 1000))
    buf = io.BytesIO()
    if suffix == ".gif":
        images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=milliseconds,
                       loop=0, comment=comment.encode("utf-8")[:255] if comment else b"")
    elif suffix == ".webp":
        marker = {"xmp": comment.encode("utf-8")} if comment else {}  # how a later run knows the file is ours
        images[0].save(buf, format="WEBP", save_all=True, append_images=images[1:], duration=milliseconds,
                       loop=0, lossless=True, **marker)
    else:
        raise AnimationFormatError(f"cannot write an animation as {suffix!r}: use " + ", ".join(FORMATS))
    return buf.getvalue()


def encode_mp4(images: Sequence[Image.Image], duration: float, comment: str = "") -> bytes:
    """H.264 in an MP4 container through imageio-ffmpeg's bundled ffmpeg (yuv420p, fast start)."""
    import imageio_ffmpeg

    width, height = images[0].size
    output_params = ["-movflags", "+faststart", "-threads", "1"]
    if comment:
        output_params += ["-metadata", f"comment={comment}"]
    with tempfile.TemporaryDirectory(prefix="styleclip-mp4-") as folder:
        target = Path(folder) / "animation.mp4"
        writer = imageio_ffmpeg.write_frames(str(target), (width, height), fps=1.0 / duration, codec="libx264",
                                             pix_fmt_in="rgb24", pix_fmt_out="yuv420p", quality=8,
                                             macro_block_size=1, output_params=output_params,
                                             ffmpeg_log_level="error")
        writer.send(None)  # start ffmpeg
        try:
            for image in images:
                writer.send(np.ascontiguousarray(np.asarray(image, dtype=np.uint8)))
        finally:
            writer.close()
        return target.read_bytes()
