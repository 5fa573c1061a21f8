"""Throughput of toon training data: rendering, augmentation, captions, judge and CLIP inference.

    python bench/bench_toon_data.py [--n 512] [--threads 1]

Baseline: drawing the 256 px canvas alone (PIL primitives, no downsampling).
Reported per stage: items per second and the time per item as a ratio to that
baseline, so the figures compare across machines and loads.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from styleclip_zoo.toon import render_batch, sample_attributes
from styleclip_zoo.toon.augment import augment
from styleclip_zoo.toon.captions import describe
from styleclip_zoo.toon.renderer import draw

MODELSET = Path(__file__).resolve().parents[1] / "runtime" / "modelsets" / "toon"


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=512)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    attrs = [sample_attributes(rng) for _ in range(a.n)]
    seeds = list(range(a.n))
    base = best_of(lambda: [draw(x, s) for x, s in zip(attrs, seeds)])
    imgs = torch.from_numpy(render_batch(attrs, seeds)).permute(0, 3, 1, 2).float() / 255
    g = torch.Generator().manual_seed(0)
    stages: dict[str, float] = {
        "draw 256 px (baseline)": base,
        "render 64 px (draw + LANCZOS)": best_of(lambda: render_batch(attrs, seeds)),
        "augment": best_of(lambda: augment(imgs, g)),
        "captions": best_of(lambda: [describe(x, rng) for x in attrs]),
    }
    if (MODELSET / "judge.safetensors").exists():
        from styleclip_runtime.models.judge import load_judge

        judge = load_judge(MODELSET)
        stages["judge inference"] = best_of(lambda: judge.probabilities(imgs * 2 - 1))
    if (MODELSET / "clip.safetensors").exists():
        from styleclip_zoo.toon.clip import encode_images, load_clip

        clip = load_clip(MODELSET)
        with torch.no_grad():
            stages["clip image embedding"] = best_of(lambda: encode_images(clip, imgs * 2 - 1))
    print(f"{a.n} items, {a.threads} thread(s)")
    for name, seconds in stages.items():
        print(f"{name:32s} {a.n / seconds:10.0f} items/s   x{seconds / base:6.2f} of baseline")


if __name__ == "__main__":
    main()
