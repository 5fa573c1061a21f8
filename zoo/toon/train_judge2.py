"""Train toon's second judge (``python -m styleclip_zoo.toon.train_judge2 --seed 7``).

A judge built differently from the first, so that an edit has to convince two
networks that do not share their blind spots (``expect attribute`` passes only
when both agree): the ``pooled`` arch (coordinate channels, 5x5 and 3x3
kernels, group norm, global average + max pooling; ``runtime/models/judge.py``),
its own seed and data order, and renders made to look like toon-G's samples
(``augment.augment_generator_look``: blur sigma 0-2, blotchy texture, washed
colours, JPEG-like blocks, noise, small shifts). The loop, checkpoints (every
``ckpt_every`` steps to ``WORK/judge2_ckpt.pt``, resumed on a rerun) and curves are
``train_judge``'s. Writes ``judge2.safetensors`` + ``judge2_config.json``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from styleclip_runtime.models.judge import JudgeConfig

from .attributes import FAMILIES
from .augment import augment_generator_look
from .train_judge import DEFAULT_OUT, train_judge

NAME = "judge2"
# the two-pixel mouth and the eyes are what blurred toon-G faces hide: they weigh three times the rest
FAMILY_WEIGHTS = {"expression": 3.0, "eyes": 3.0}


def judge2_config() -> JudgeConfig:
    """The second judge's shape: 0.46 M parameters (0.9 MB in fp16), 64 -> 32 -> 16 -> 8 -> 8 px."""
    return JudgeConfig(families=dict(FAMILIES), arch="pooled", channels=(32, 64, 128, 192),
                       kernels=(5, 5, 3, 3), strides=(2, 2, 2, 1), hidden=256)


def train_judge2(out_dir: Path = DEFAULT_OUT, seed: int = 7, steps: int = 4000, batch: int = 64, lr: float = 2e-3,
                 work_dir: Path | None = None, threads: int = 2, eval_count: int = 1000,
                 pool_size: int = 16000, family_weights: dict[str, float] | None = None,
                 init: Path | None = None) -> dict[str, float]:
    """Train and export the second judge; returns its held-out figures (``evaluate.evaluate_judge``)."""
    return train_judge(out_dir, seed=seed, steps=steps, batch=batch, lr=lr, work_dir=work_dir, threads=threads,
                       eval_count=eval_count, pool_size=pool_size, config=judge2_config(), init=init,
                       augmenter=augment_generator_look, name=NAME, weight_decay=5e-4,
                       family_weights=FAMILY_WEIGHTS if family_weights is None else family_weights)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--work", type=Path, default=None, help="checkpoint + curves folder (default: --out)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--init", type=Path, default=None, help="continue from these judge2 weights (a new schedule)")
    a = p.parse_args()
    metrics = train_judge2(a.out, a.seed, a.steps, a.batch, a.lr, work_dir=a.work, threads=a.threads, init=a.init)
    print(json.dumps(metrics, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
