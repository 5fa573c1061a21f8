"""Metrics for ``expect``: each maps (result images, source images) to one
number (or string) per item.

| metric | value |
| --- | --- |
| clip(text) | cosine similarity of the result to the text (79-template average) |
| clip_delta(text) | clip(text) of the result minus that of its source |
| id_sim() | identity similarity to the source: ArcFace where the model set has one; in toon, the cosine similarity of the encoder's W+ codes (minus latent_avg) of the two images |
| distance() | mean absolute pixel difference to the source, in [-1, 1] units (0..2) |
| psnr() | PSNR to the source in dB (images in [0, 1]) |
| golden(path) | mean absolute difference to a golden image, in [0, 1] units |
| attribute(family) | the toon judge's verdict for that family (a string) |
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


def golden_distance(image_u8: np.ndarray, golden: Path) -> float:
    with Image.open(golden) as img:
        ref = np.asarray(img.convert("RGB"), dtype=np.float32)
    if ref.shape != image_u8.shape:
        raise MetricError(f"golden image {golden} is {ref.shape[1]}x{ref.shape[0]}; the result is "
                          f"{image_u8.shape[1]}x{image_u8.shape[0]}")
    return float(np.abs(ref - image_u8.astype(np.float32)).mean() / 255.0)


def evaluate(models, metric: str, args: list, kwargs: dict, results: torch.Tensor, sources: torch.Tensor,
             result_u8: list[np.ndarray] | None = None, base: Path | None = None) -> list[float | str]:
    """Per-item values of ``metric``. ``results``/``sources`` are (N,3,H,W) in [-1,1]."""
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
        path = Path(str(args[0]))
        path = path if path.is_absolute() or base is None else base / path
        if not path.exists():
            raise MetricError(f"golden image {path} does not exist (create it with --update-golden)")
        assert result_u8 is not None
        return [golden_distance(img, path) for img in result_u8]
    if metric == "attribute":
        judge = models.judge
        if judge is None:
            raise MetricError(f"model set '{models.name}' has no attribute judge (attribute() is a toon metric)")
        family = str(args[0])
        with torch.no_grad():
            verdicts = judge.predict(results)
        out = []
        for v in verdicts:
            if family not in v:
                raise MetricError(f"unknown attribute family {family!r}")
            value = v[family]
            out.append(value[0] if isinstance(value, tuple) else getattr(value, "value", value))
        return out
    raise MetricError(f"unknown metric {metric!r}")


def compare(value: float | str, op: str, target: float | str) -> bool:
    if isinstance(target, str) or isinstance(value, str):
        if op not in ("==", "!="):
            raise MetricError(f"cannot compare text with {op}")
        return OPS[op](str(value), str(target))
    return bool(OPS[op](float(value), float(target)))
