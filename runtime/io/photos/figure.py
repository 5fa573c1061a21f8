"""The README's alignment figure: a photo with its 68 landmarks and FFHQ quad, beside the aligned
crop with FFHQ's eye positions marked. ``python -m styleclip_runtime.io.photos.figure OUT.jpg [PHOTO]``
(default photo: scikit-image's astronaut, which ships in its wheel)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .align import FFHQ_EYES, align_face
from .decode import decode_photo
from .faces import find_faces


def alignment_figure(rgb: np.ndarray, side: int = 512) -> Image.Image:
    """The figure for the first face of ``rgb`` (HWC uint8); ValueError when it has none."""
    faces = find_faces(rgb)
    if not faces:
        raise ValueError("no face found")
    aligned = align_face(rgb, faces[0].landmarks, side)
    photo = Image.fromarray(rgb).copy()
    draw = ImageDraw.Draw(photo)
    corners = [tuple(p) for p in aligned.quad]
    draw.line(corners + [corners[0]], fill=(255, 220, 0), width=2)
    for x, y in faces[0].landmarks:
        draw.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=(0, 255, 120))
    photo.thumbnail((10 * side, side))
    crop = Image.fromarray(aligned.pixels)
    marks = ImageDraw.Draw(crop)
    for ex, ey in FFHQ_EYES:
        x, y = ex * side, ey * side
        marks.line((x - 8, y, x + 8, y), fill=(255, 220, 0), width=2)
        marks.line((x, y - 8, x, y + 8), fill=(255, 220, 0), width=2)
    canvas = Image.new("RGB", (photo.width + 8 + side, side), (255, 255, 255))
    canvas.paste(photo, (0, 0))
    canvas.paste(crop, (photo.width + 8, 0))
    return canvas


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    if len(argv) > 1:
        rgb = decode_photo(Path(argv[1]))
    else:
        from skimage import data

        rgb = data.astronaut()
    alignment_figure(rgb).save(out, quality=90)


if __name__ == "__main__":
    main(sys.argv[1:])
