"""Input images: finding them (paths and globs), decoding them to the
encoder's input, and remembering their digests.

Inversions are cached by the sha256 of the decoded, cropped and resized
pixels (``cache_keys.inversion_key``). Sets whose YAML says ``align: ffhq``
find every face of a photo and FFHQ-align each (``photos/``): one subject
per face, named ``{stem}_{face}`` when there are several. Both the cost estimate that opens a
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..execution.errors import StepError
from .photos.decode import PhotoError, check_regular_file, decode_photo

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


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
    for path in found:  # a FIFO or a device would block or never end: refused before anything opens it
        try:
            check_regular_file(path)
        except PhotoError as exc:
            raise StepError(str(exc), step) from exc
    return found


def read_centred(path: Path, size: int, step: dict) -> tuple[np.ndarray, dict]:
    """Decode honestly (``photos.decode``), resize to the encoder's input (a square crop of the
    centre when the image is not square): (HWC uint8, its record for run.json: the photo's size
    and the centre square used). The path of sets without ``align:``."""
    try:
        rgb = decode_photo(path)
    except PhotoError as exc:
        raise StepError(str(exc), step) from exc
    img = Image.fromarray(rgb)
    w, h = img.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    if w != h:
        img = img.crop(box)
    if img.size != (size, size):
        img = img.resize((size, size), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8), {"method": "centre-crop", "size": size, "photo_size": [w, h],
                                             "crop": list(box)}


def read_faces(path: Path, size: int, step: dict, align: str) -> list[tuple[np.ndarray, dict]]:
    """Every face of a photo, aligned (``align: ffhq``), left to right, as (HWC uint8 crop of
    ``size``, its record for run.json). No face is an error naming the file, never a centre crop."""
    from .photos.align import align_face
    from .photos.faces import FaceFinderUnavailable, find_faces

    try:
        rgb = decode_photo(path)
        faces = find_faces(rgb)
    except (PhotoError, FaceFinderUnavailable) as exc:
        raise StepError(str(exc), step) from exc
    if not faces:
        raise StepError(f"no face found in {path}", step,
                        hint=f"this model set aligns faces ({align}): the photo needs a frontal face "
                             "at least about 80 pixels wide")
    out = []
    for face in faces:
        aligned = align_face(rgb, face.landmarks, size)
        out.append((aligned.pixels, {**aligned.to_dict(), **face.to_dict(),  # the same landmarks in both
                                     "photo_size": [int(rgb.shape[1]), int(rgb.shape[0])]}))
    return out


@dataclass(frozen=True)
class Subject:
    """One image the encoder sees: a whole photo (sets without ``align:``) or one face of it."""

    path: Path
    name: str                 # the item's name: the file's stem, or stem_N for face N of several
    sha256: str               # of the pixels the encoder sees (the inversion's cache key)
    shape: tuple[int, ...]
    face: int | None = None   # 1-based, left to right; None without alignment
    faces: int | None = None  # faces found in the photo; None without alignment
    alignment: dict | None = None  # landmarks, quad, box (``Alignment.to_dict``), or the centre crop, for run.json

    @property
    def cropped(self) -> bool:
        """A centre crop that left part of the photo out (a non-square photo, sets without ``align:``)."""
        record = self.alignment or {}
        return record.get("method") == "centre-crop" and record["crop"] != [0, 0, *record["photo_size"]]


def select_faces(subjects: list[Subject], face: int | None, step: dict) -> list[Subject]:
    """All faces, or face number ``face`` (1-based, left to right)."""
    if face is None:
        return subjects
    if not subjects or subjects[0].face is None:
        raise StepError("face= needs a model set that finds faces (`align: ffhq` in its YAML); "
                        "this one centre-crops each photo", step)
    if not 1 <= face <= len(subjects):
        raise StepError(f"face={face}: {subjects[0].path} has {len(subjects)} face(s)", step,
                        hint="faces are numbered from 1, left to right")
    return [subjects[face - 1]]


class ImageDigests:
    """The subjects of each image file (digests of the decoded pixels), remembered by the file's
    path, size on disk, modification time and the alignment, and one cache of pixels keyed by
    their sha256, least recently used first out above ``max_bytes`` (so that the step after the
    estimate, a grid's photo column or ``save aligned`` of a cached inversion need not decode the
    file again). Only the crops of the latest decoded file may keep it above ``max_bytes`` (a
    photo of many faces: evicting some would decode the file once per face). Owned by one
    executor."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._subjects: dict[tuple, list[Subject]] = {}
        self._pixels: OrderedDict[str, np.ndarray] = OrderedDict()  # sha256 -> the pixels it is of
        self._bytes = 0
        self.decoded = 0  # files decoded so far (for tests and benchmarks)

    @staticmethod
    def _identity(path: Path, size: int, step: dict, align: str | None = None) -> tuple:
        try:
            check_regular_file(Path(path))
            stat = os.stat(path)
        except PhotoError as exc:
            raise StepError(str(exc), step) from exc
        except OSError as exc:
            raise StepError(f"cannot read image {path}: {exc}", step) from exc
        return (str(Path(path).resolve()), size, stat.st_size, stat.st_mtime_ns, align)

    def _decode(self, ident: tuple, path: Path, size: int, step: dict, align: str | None) -> None:
        if align is None:
            crops = [read_centred(path, size, step)]
        else:
            crops = read_faces(path, size, step, align)
        self.decoded += 1
        many = len(crops) > 1
        subjects = []
        for k, (pixels, record) in enumerate(crops):
            name = f"{Path(path).stem}_{k + 1}" if many else Path(path).stem
            subjects.append(Subject(Path(path), name, hashlib.sha256(pixels.tobytes()).hexdigest(),
                                    tuple(pixels.shape), k + 1 if align else None,
                                    len(crops) if align else None, record))
            self._hold(subjects[-1].sha256, pixels)
        self._subjects[ident] = subjects
        latest = {s.sha256 for s in subjects}
        while self._bytes > self.max_bytes and next(iter(self._pixels)) not in latest:
            _, old = self._pixels.popitem(last=False)
            self._bytes -= old.nbytes

    def _hold(self, sha: str, pixels: np.ndarray) -> None:
        if sha in self._pixels:
            self._pixels.move_to_end(sha)
            return
        self._pixels[sha] = pixels
        self._bytes += pixels.nbytes

    def subjects(self, path: Path, size: int, step: dict, align: str | None = None) -> list[Subject]:
        """The subjects of one file (one, or one per face when ``align`` is set); decodes only when not known."""
        ident = self._identity(path, size, step, align)
        if ident not in self._subjects:
            self._decode(ident, path, size, step, align)
        return self._subjects[ident]

    def subject_pixels(self, subject: Subject, size: int, step: dict, align: str | None = None) -> np.ndarray:
        """A subject's pixels (HWC uint8, not to be written to), from the cache when still held
        there; decoded again only when not (the face's current pixels when the file has changed)."""
        held = self._pixels.get(subject.sha256)
        if held is not None:
            self._pixels.move_to_end(subject.sha256)
            return held
        ident = self._identity(subject.path, size, step, align)
        self._decode(ident, subject.path, size, step, align)
        current = self._subjects[ident]
        k = (subject.face or 1) - 1
        sha = subject.sha256 if subject.sha256 in self._pixels else current[min(k, len(current) - 1)].sha256
        return self._pixels[sha]

    @property
    def held_bytes(self) -> int:
        """Bytes of decoded pixels held in the cache (the sum of the arrays held)."""
        return self._bytes

    def held(self) -> list[np.ndarray]:
        """The arrays the cache holds, least recently used first (for tests)."""
        return list(self._pixels.values())
