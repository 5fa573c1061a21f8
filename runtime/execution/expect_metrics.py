"""Metrics for ``expect``: each maps (result images, source images) to one
number (or string) per item.

| metric | value |
| --- | --- |
| clip(text) | cosine similarity of the result to the text (79-template average) |
| clip_delta(text) | clip(text) of the result minus that of its source |
| id_sim() | identity similarity to the source: ArcFace where the model set has one; in toon (no face-recognition network), the cosine similarity of the e4e encoder's codes of the two images, relative to the average latent (what the image is, beyond the mean face) |
| distance() | mean absolute pixel difference to the source, in [-1, 1] units (0..2) |
| psnr() | PSNR to the source in dB (images in [0, 1]) |
| golden(path, tol=T) | mean absolute difference to a golden image, in [0, 1] units (0..1), over every channel value of the saved 8-bit result; each difference of at most ``tol`` (default 0) counts as zero, so rounding noise can be ignored (1/255 ~ 0.004 is one 8-bit step) |
| attribute(family) | the judge's most likely value for that family (a string); where the set has two judges (toon), each reads the image and the expectation passes only if it holds for both: the value then shows both readings where they differ, e.g. `smile (judge) / neutral (judge2)` |

Golden paths may hold the save-path placeholders (``{name}``, ``{subject}``,
``{index}``, a swept parameter such as ``{alpha}``): each item is compared
with its own file. A path that would give several items one file is an error.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

OPS: dict[str, Callable] = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
                            "==": operator.eq, "!=": operator.ne}


class MetricError(ValueError):
    pass


@dataclass
class Measured:
    item: str
    value: float | str
    passed: bool


def _clip_sim(models, images: torch.Tensor, text: str) -> torch.Tensor:
    with torch.no_grad():
        emb = models.clip.encode_images(images.to(models.device)).float().cpu()
        t = models.clip.encode_text_templates(text).float().cpu()
    return emb @ t


def identity_similarity(models, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        if models.identity is not None:
            ea = models.identity.embed(a.to(models.device)).float().cpu()
            eb = models.identity.embed(b.to(models.device)).float().cpu()
            return (ea * eb).sum(-1)
        size = models.encoder_input_size
        if a.shape[-1] != size:
            a = torch.nn.functional.interpolate(a, size=(size, size), mode="area")
            b = torch.nn.functional.interpolate(b, size=(size, size), mode="area")
        # toon has no face-recognition network: its identity is the encoder's
        # code relative to the average (what the image is, beyond the mean face)
        enc = models.encoder.encoder
        ca = enc(a.to(models.device)).flatten(1).float().cpu()
        cb = enc(b.to(models.device)).flatten(1).float().cpu()
        return torch.nn.functional.cosine_similarity(ca, cb, dim=-1)


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    x = ((a.clamp(-1, 1) + 1) / 2)
    y = ((b.clamp(-1, 1) + 1) / 2)
    mse = ((x - y) ** 2).flatten(1).mean(1).clamp_min(1e-12)
    return 10 * torch.log10(1.0 / mse)


def read_golden(path: Path) -> np.ndarray:
    """A golden image as HWC uint8 RGB."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def golden_distance(image_u8: np.ndarray, golden: Path, tol: float = 0.0) -> float:
    """Mean absolute difference of ``image_u8`` (HWC uint8) to the golden image, in [0, 1]
    units; differences of at most ``tol`` count as zero."""
    ref = read_golden(golden)
    if ref.shape != image_u8.shape:
        raise MetricError(f"golden image {golden} is {ref.shape[1]}x{ref.shape[0]}; the result is "
                          f"{image_u8.shape[1]}x{image_u8.shape[0]} (refresh it with --update-golden)")
    diff = np.abs(ref.astype(np.float32) - image_u8.astype(np.float32)) / 255.0
    if tol > 0:
        # compare in whole 8-bit steps so that tol=1/255 forgives exactly one step
        diff[diff <= tol + 1e-6] = 0.0
    return float(diff.mean())


def golden_paths(template: str, labels: list[dict], base: Path | None) -> list[Path]:
    """One golden file per item: placeholders filled like save paths, relative to ``base``."""
    from .executor import fill  # the save paths' placeholder rules (imported late: executor imports us)

    paths = []
    for lab in labels:
        p = Path(fill(template, lab))
        paths.append(p if p.is_absolute() or base is None else base / p)
    if len(set(paths)) < len(paths):
        raise MetricError(f"golden({template!r}) gives {len(paths)} items one file; put a placeholder such as "
                          "{name} (or the swept parameter, e.g. {alpha}) in the path")
    return paths


def write_golden(paths: list[Path], images_u8: list[np.ndarray]) -> None:
    """Store each item's result as its golden image (``--update-golden``)."""
    from ..io.outputs import save_png

    for path, px in zip(paths, images_u8):
        save_png(path, px)


class JudgedValue(str):
    """The readings of one image by several judges: the text shows the common value, or each judge's
    where they differ (``smile (judge) / neutral (judge2)``); ``compare`` holds it to every reading."""

    readings: tuple[tuple[str, str], ...]

    def __new__(cls, readings: list[tuple[str, str]]) -> "JudgedValue":
        values = [v for _, v in readings]
        text = values[0] if len(set(values)) == 1 else " / ".join(f"{v} ({name})" for name, v in readings)
        obj = super().__new__(cls, text)
        obj.readings = tuple(readings)
        return obj


def judged_values(judges: list[tuple[str, object]], images: torch.Tensor, family: str) -> list[str]:
    """Per image, every judge's most likely value of ``family`` (one ``JudgedValue`` when there are several)."""
    per_judge = [(name, attribute_values(judge, images, family)) for name, judge in judges]
    if len(per_judge) == 1:
        return per_judge[0][1]
    return [JudgedValue([(name, values[i]) for name, values in per_judge]) for i in range(len(images))]


def attribute_values(judge, images: torch.Tensor, family: str) -> list[str]:
    """The judge's most likely value of ``family`` per image (``Judge.predict`` gives ``Verdict``s)."""
    with torch.no_grad():
        verdicts = judge.predict(images.float())
    out = []
    for v in verdicts:
        readings = getattr(v, "attributes", v)
        if family not in readings:
            raise MetricError(f"unknown attribute family {family!r} (the judge knows: {', '.join(readings)})")
        value = readings[family]
        out.append(str(value[0] if isinstance(value, tuple) else value))
    return out


def evaluate(models, metric: str, args: list, kwargs: dict, results: torch.Tensor, sources: torch.Tensor,
             result_u8: list[np.ndarray] | None = None, base: Path | None = None,
             labels: list[dict] | None = None) -> list[float | str]:
    """Per-item values of ``metric``. ``results``/``sources`` are (N,3,H,W) in [-1,1];
    ``result_u8`` the saved 8-bit pixels and ``labels`` the items' placeholders (golden)."""
    if metric == "clip":
        return _clip_sim(models, results, str(args[0])).tolist()
    if metric == "clip_delta":
        return (_clip_sim(models, results, str(args[0])) - _clip_sim(models, sources, str(args[0]))).tolist()
    if metric == "id_sim":
        return identity_similarity(models, results, sources).tolist()
    if metric == "distance":
        return (results - sources).abs().flatten(1).mean(1).tolist()
    if metric == "psnr":
        return psnr(results, sources).tolist()
    if metric == "golden":
        assert result_u8 is not None
        tol = float(kwargs.get("tol") or 0.0)
        paths = golden_paths(str(args[0]), labels or [{} for _ in result_u8], base)
        for path in paths:
            if not path.exists():
                raise MetricError(f"golden image {path} does not exist (create it with "
                                  "`styleclip test --update-golden`)")
        return [golden_distance(img, path, tol) for img, path in zip(result_u8, paths)]
    if metric == "attribute":
        judges = getattr(models, "judges", None)
        if judges is None:  # a models object that knows one judge only
            judges = [("judge", models.judge)] if models.judge is not None else []
        if not judges:
            raise MetricError(f"model set '{models.name}' has no attribute judge (attribute() is a toon metric)")
        return judged_values(judges, results, str(args[0]))
    raise MetricError(f"unknown metric {metric!r}")


def compare(value: float | str, op: str, target: float | str) -> bool:
    if isinstance(target, str) or isinstance(value, str):
        if op not in ("==", "!="):
            raise MetricError(f"cannot compare text with {op}")
        if isinstance(value, JudgedValue):  # several judges: it holds only if it holds for each
            return all(OPS[op](v, str(target)) for _, v in value.readings)
        return OPS[op](str(value), str(target))
    return bool(OPS[op](float(value), float(target)))
