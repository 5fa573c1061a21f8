"""Measure the toon judge and toon-CLIP on held-out renders.

``python -m styleclip_zoo.toon.evaluate [--dir runtime/modelsets/toon] [--count 1000]``

Held-out faces come from ``pool.held_out`` (a generator seeded apart from
training). Figures:

- judge: accuracy per family on clean renders and on augmented renders
  (blur, noise, shifts: a stand-in for generator samples). ``hair_color`` is
  also reported on faces with hair (on a bald head only the eyebrows show it)
  and ``eyes`` is scored on faces without sunglasses (hidden eyes); mean
  absolute background hue error (circular).
- CLIP: zero-shot accuracy per family, prompts "a face with {phrase}" with
  the canonical phrase of each value; same conventions for hair_color/eyes.
"""
from __future__ import annotations

from styleclip_runtime.modelsets.registry import BUILTIN_DIR  # the shipped sets: runtime/modelsets/

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from .attributes import FAMILIES, Attributes, labels
from .augment import augment, augment_generator_look, gaussian_blur
from .captions import zero_shot_prompts
from .clip import encode_images, encode_texts, load_clip
from styleclip_runtime.models.judge import load_judge
from .pool import held_out

DEFAULT_DIR = BUILTIN_DIR / "toon"
BLUR_SIGMA = 1.5  # issue #25: expression must hold on renders blurred this much


def _masks(attrs: list[Attributes]) -> dict[str, np.ndarray]:
    """Which faces each family is scored on (all, except the undefined cases)."""
    n = len(attrs)
    m = {f: np.ones(n, dtype=bool) for f in FAMILIES}
    m["eyes"] = np.array([a.glasses != "sunglasses" for a in attrs])
    return m


def accuracy_table(pred: dict[str, np.ndarray], attrs: list[Attributes]) -> dict[str, float]:
    """Per-family accuracy of predicted class indices against the true attributes."""
    lab, masks = labels(attrs), _masks(attrs)
    out = {}
    for f in FAMILIES:
        ok = pred[f] == lab[f]
        out[f] = float(ok[masks[f]].mean())
    with_hair = np.array([a.hair_style != "bald" for a in attrs])
    out["hair_color_with_hair"] = float((pred["hair_color"] == lab["hair_color"])[with_hair].mean())
    return out


@torch.no_grad()
def evaluate_judge(directory: Path = DEFAULT_DIR, count: int = 1000, batch: int = 250,
                   name: str = "judge") -> dict[str, float]:
    """Judge accuracy per family on ``count`` held-out renders: clean, augmented (the first judge's
    augmentation), blurred at sigma ``BLUR_SIGMA`` and in toon-G's look (the second judge's)."""
    judge = load_judge(Path(directory) / f"{name}.safetensors")
    images, attrs = held_out(count)
    gen = torch.Generator().manual_seed(12345)
    result: dict[str, float] = {}
    versions = (("clean", images), ("augmented", augment(images, gen)), ("blur1.5", gaussian_blur(images, BLUR_SIGMA)),
                ("g_look", augment_generator_look(images, torch.Generator().manual_seed(12346))))
    for version, imgs in versions:
        preds: dict[str, list[np.ndarray]] = {f: [] for f in FAMILIES}
        hues = []
        for i in range(0, count, batch):
            x = imgs[i:i + batch] * 2 - 1
            for f, p in judge.probabilities(x).items():
                preds[f].append(p.argmax(-1).numpy())
            hues.append(judge.background_hue(x).numpy())
        table = accuracy_table({f: np.concatenate(v) for f, v in preds.items()}, attrs)
        err = np.abs(np.concatenate(hues) - labels(attrs)["background"])
        table["hue_mae"] = float(np.minimum(err, 1 - err).mean())
        result.update({f"{name}/{version}/{k}": v for k, v in table.items()})
    return result


@torch.no_grad()
def evaluate_clip(directory: Path = DEFAULT_DIR, count: int = 1000, batch: int = 250,
                  model: torch.nn.Module | None = None) -> dict[str, float]:
    """Zero-shot accuracy per family with prompts "a face with {phrase}"."""
    model = model if model is not None else load_clip(directory)
    was_training = model.training
    model.eval()
    images, attrs = held_out(count)
    feats = torch.cat([encode_images(model, images[i:i + batch] * 2 - 1) for i in range(0, count, batch)])
    preds = {}
    for f in FAMILIES:
        text = encode_texts(model, zero_shot_prompts(f))
        preds[f] = (feats @ text.T).argmax(-1).numpy()
    model.train(was_training)
    return {f"clip/{k}": v for k, v in accuracy_table(preds, attrs).items()}


def main() -> None:
    p = argparse.ArgumentParser(description="toon judge and CLIP figures on held-out renders")
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--only", choices=["judge", "clip"], default=None)
    a = p.parse_args()
    torch.set_num_threads(2)
    metrics: dict[str, float] = {}
    if a.only in (None, "judge"):
        metrics.update(evaluate_judge(a.dir, a.count))
    if a.only in (None, "clip"):
        metrics.update(evaluate_clip(a.dir, a.count))
    print(json.dumps(metrics, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
