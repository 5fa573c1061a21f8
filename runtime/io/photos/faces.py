"""Finding faces and their 68 landmarks with dlib, offline.

The frontal face detector is built into dlib; the 68-point shape predictor
(``shape_predictor_68_face_landmarks.dat``, iBUG 300-W layout) ships inside
the ``face_recognition_models`` wheel, so nothing is downloaded. The package
is located without importing it (its ``__init__`` needs ``pkg_resources``).

Faces are returned left to right (by the centre of their box), so that
``face=2`` means the second face from the left.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"
DETECT_MAX_SIDE = 1600  # larger photos are searched at this size (landmarks still come from full size)
UPSAMPLE_BELOW = 1000   # photos smaller than this are upsampled once to find small faces
MIN_SCORE = 0.3         # detector score below which a box is not taken for a face (astronaut's mission patch: 0.12)


class FaceFinderUnavailable(RuntimeError):
    """dlib or the landmark model is not installed."""


@dataclass(frozen=True)
class Face:
    """One face: its detector box (left, top, right, bottom) and 68 landmarks (x, y) in pixels of the photo."""

    box: tuple[int, int, int, int]
    landmarks: np.ndarray  # (68, 2) float64
    score: float = 0.0     # the detector's confidence

    def to_dict(self) -> dict[str, Any]:
        return {"box": list(self.box), "score": round(float(self.score), 3),
                "landmarks": np.round(self.landmarks, 2).tolist()}


def predictor_path() -> Path:
    """The 68-landmark model inside the installed ``face_recognition_models`` package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceFinderUnavailable("face alignment needs the package face_recognition_models "
                                    "(python -m pip install -e '.[dev]' installs it)")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / PREDICTOR_FILE
    if not path.is_file():
        raise FaceFinderUnavailable(f"the landmark model {path} is missing; reinstall face_recognition_models")
    return path


@lru_cache(maxsize=1)
def _models() -> tuple[Any, Any]:
    """(detector, shape predictor), loaded once per process; this cache is the module's only state."""
    try:
        import dlib
    except ImportError as exc:
        raise FaceFinderUnavailable("face alignment needs dlib (the dlib-bin wheel; "
                                    "python -m pip install -e '.[dev]' installs it)") from exc
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor_path()))


def find_faces(rgb: np.ndarray) -> list[Face]:
    """Every frontal face in an HWC uint8 RGB photo, left to right."""
    detector, predictor = _models()  # FaceFinderUnavailable when dlib or the model is missing
    import dlib
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = rgb if scale == 1.0 else _downscale(rgb, scale)
    upsample = 1 if max(small.shape[:2]) < UPSAMPLE_BELOW else 0
    full = np.ascontiguousarray(rgb)
    faces = []
    boxes, scores, _ = detector.run(np.ascontiguousarray(small), upsample, 0.0)
    for r, score in zip(boxes, scores):
        if score < MIN_SCORE:
            continue
        box = tuple(int(round(v / scale)) for v in (r.left(), r.top(), r.right(), r.bottom()))
        shape = predictor(full, dlib.rectangle(*box))
        points = np.array([(shape.part(i).x, shape.part(i).y) for i in range(shape.num_parts)], dtype=np.float64)
        faces.append(Face(box, points, float(score)))
    return sorted(faces, key=lambda f: (f.box[0] + f.box[2], f.box[1]))


def _downscale(rgb: np.ndarray, scale: float) -> np.ndarray:
    from PIL import Image

    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
