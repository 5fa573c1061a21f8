"""The FFHQ face alignment, as the FFHQ dataset was made (NVIDIA's
``recreate_aligned_images``) and as e4e and StyleCLIP align a photo before
inverting it:

1. from the 68 landmarks: the eyes' centres, the mouth's corners;
2. an oriented square ("quad") centred a tenth of the way from the eyes to
   the mouth, its half-side the larger of twice the eye-to-eye distance and
   1.8 times the eye-to-mouth distance, turned with the eye line;
3. shrink the photo when the quad is much larger than the output, crop
   around the quad with a border, pad beyond the photo's edges by
   reflection, blurred and faded towards the median colour;
4. sample the quad onto a square of ``transform_size`` pixels and resize it
   to the output size.

Where the eyes land, for an upright face: at about (0.375, 0.47) and
(0.625, 0.47) of the output side (``FFHQ_EYES``), the eye-to-eye distance a
quarter of the side. Torch-free; numpy and Pillow only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

#: where FFHQ's eyes (left, right in the image) land, as fractions of the side, when the
#: eye-to-eye term sets the quad's size (2 x eye distance >= 1.8 x eye-to-mouth)
FFHQ_EYES = ((0.375, 0.47), (0.625, 0.47))


@dataclass(frozen=True)
class Alignment:
    """One aligned face: the crop and how it was made (for run.json)."""

    pixels: np.ndarray          # (S, S, 3) uint8
    quad: np.ndarray            # (4, 2): the photo's corners mapped to the crop's top-left, bottom-left,
                                # bottom-right, top-right, in photo pixels
    landmarks: np.ndarray       # (68, 2) in photo pixels

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Photo coordinates -> crop pixels (the quad is a parallelogram: the map is affine)."""
        side = self.pixels.shape[0]
        origin, down, right = self.quad[0], self.quad[1] - self.quad[0], self.quad[3] - self.quad[0]
        basis = np.stack([right, down], axis=1)  # columns: crop x, crop y (per unit of the side)
        return np.linalg.solve(basis, (np.asarray(points, dtype=np.float64) - origin).T).T * side

    def to_dict(self) -> dict[str, Any]:
        return {"method": "ffhq", "size": int(self.pixels.shape[0]),
                "quad": np.round(self.quad, 2).tolist(), "landmarks": np.round(self.landmarks, 2).tolist()}


def ffhq_quad(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """(quad (4, 2), side length) of FFHQ's crop for 68 landmarks (iBUG layout)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    eye_left, eye_right = lm[36:42].mean(axis=0), lm[42:48].mean(axis=0)
    eye_avg = (eye_left + eye_right) * 0.5
    eye_to_eye = eye_right - eye_left
    mouth_avg = (lm[48] + lm[54]) * 0.5
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    quad = np.stack([c - x - y, c - x + y, c + x + y, c + x - y])
    return quad, float(np.hypot(*x) * 2)


def align_face(rgb: np.ndarray, landmarks: np.ndarray, output_size: int,
               transform_size: int | None = None, enable_padding: bool = True) -> Alignment:
    """FFHQ-align the face with these landmarks in an HWC uint8 RGB photo."""
    transform_size = transform_size or min(4096, 4 * output_size)
    quad, qsize = ffhq_quad(landmarks)
    photo_quad = quad.copy()
    img = Image.fromarray(np.ascontiguousarray(rgb), "RGB")

    shrink = int(np.floor(qsize / output_size * 0.5))
    if shrink > 1:
        size = (int(np.rint(img.size[0] / shrink)), int(np.rint(img.size[1] / shrink)))
        img = img.resize(size, Image.LANCZOS)
        quad, qsize = quad / shrink, qsize / shrink

    border = max(int(np.rint(qsize * 0.1)), 3)
    crop = (int(np.floor(quad[:, 0].min())), int(np.floor(quad[:, 1].min())),
            int(np.ceil(quad[:, 0].max())), int(np.ceil(quad[:, 1].max())))
    crop = (max(crop[0] - border, 0), max(crop[1] - border, 0),
            min(crop[2] + border, img.size[0]), min(crop[3] + border, img.size[1]))
    if crop[2] - crop[0] < img.size[0] or crop[3] - crop[1] < img.size[1]:
        img = img.crop(crop)
        quad = quad - crop[0:2]

    pad = (int(np.floor(quad[:, 0].min())), int(np.floor(quad[:, 1].min())),
           int(np.ceil(quad[:, 0].max())), int(np.ceil(quad[:, 1].max())))
    pad = (max(-pad[0] + border, 0), max(-pad[1] + border, 0),
           max(pad[2] - img.size[0] + border, 0), max(pad[3] - img.size[1] + border, 0))
    if enable_padding and max(pad) > border - 4:
        img, quad = _pad_blurred(img, quad, qsize, pad)

    img = img.transform((transform_size, transform_size), Image.QUAD, tuple((quad + 0.5).flatten()),
                        Image.BILINEAR)
    if output_size < transform_size:
        img = img.resize((output_size, output_size), Image.LANCZOS)
    return Alignment(np.asarray(img, dtype=np.uint8), photo_quad, np.asarray(landmarks, dtype=np.float64))


def _pad_blurred(img: Image.Image, quad: np.ndarray, qsize: float,
                 pad: tuple[int, int, int, int]) -> tuple[Image.Image, np.ndarray]:
    """Reflect-pad the photo where the quad leaves it, blur the padding and fade it to the median colour."""
    left, top, right, bottom = (int(v) for v in np.maximum(pad, int(np.rint(qsize * 0.3))))
    arr = np.pad(np.float32(img), ((top, bottom), (left, right), (0, 0)), "reflect")
    h, w, _ = arr.shape
    y, x, _ = np.ogrid[:h, :w, :1]
    mask = np.maximum(1.0 - np.minimum(np.float32(x) / left, np.float32(w - 1 - x) / right),
                      1.0 - np.minimum(np.float32(y) / top, np.float32(h - 1 - y) / bottom))
    blur = qsize * 0.02
    blurred = np.float32(Image.fromarray(np.uint8(np.clip(np.rint(arr), 0, 255)), "RGB")
                         .filter(ImageFilter.GaussianBlur(blur)))
    arr += (blurred - arr) * np.clip(mask * 3.0 + 1.0, 0.0, 1.0)
    arr += (np.median(arr, axis=(0, 1)) - arr) * np.clip(mask, 0.0, 1.0)
    return Image.fromarray(np.uint8(np.clip(np.rint(arr), 0, 255)), "RGB"), quad + [left, top]
