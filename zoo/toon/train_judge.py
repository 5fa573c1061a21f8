"""Train the toon judge on renders (``python -m styleclip_zoo.toon.train_judge --seed 0``).

Data: a refreshed pool of renders (``pool.RenderPool``), augmented to look
like generator samples (``augment``). Loss: cross-entropy per family (the
``eyes`` head is not trained on faces with sunglasses, where eyes are hidden)
plus a small hue regression. AdamW, warm-up + cosine, gradient clipping,
float32 (bf16 autocast is optional: for these small
convolutions it measured slower than float32 on this CPU). Checkpoints every ``ckpt_every``
steps to ``out_dir/judge_ckpt.pt`` and resumes from it; curves go to
``out_dir/judge_curves.csv``.
"""
from __future__ import annotations

from styleclip_runtime.modelsets.registry import BUILTIN_DIR  # the shipped sets: runtime/modelsets/

import argparse
import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .attributes import FAMILIES, labels
from .augment import augment
from styleclip_runtime.models.judge import JudgeConfig, build_judge, load_judge
from .pool import RenderPool
from .training import CurveLog, export_fp16, load_checkpoint, save_checkpoint, warmup_cosine

DEFAULT_OUT = BUILTIN_DIR / "toon"


def judge_loss(judge: torch.nn.Module, x: torch.Tensor, lab: dict[str, torch.Tensor],
               family_weights: dict[str, float] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Summed cross-entropies, each times its ``family_weights`` entry (default 1), + 0.2 x hue MSE;
    ``x`` in [-1, 1]."""
    logits, hue = judge(x)
    total, parts = 0.0, {}
    for f, z in logits.items():
        ce = F.cross_entropy(z.float(), lab[f], reduction="none")
        if f == "eyes":
            ce = ce * (lab["glasses"] != FAMILIES["glasses"].index("sunglasses")).float()
        parts[f] = float(ce.mean().detach())
        total = total + (family_weights or {}).get(f, 1.0) * ce.mean()
    angle = 2 * math.pi * lab["background"]
    hue_loss = F.mse_loss(hue.float(), torch.stack([angle.cos(), angle.sin()], 1))
    parts["hue"] = float(hue_loss.detach())
    return total + 0.2 * hue_loss, parts


def train_judge(
    out_dir: Path = DEFAULT_OUT,
    seed: int = 0,
    steps: int = 2500,
    batch: int = 64,
    lr: float = 2e-3,
    pool_size: int = 16000,
    refresh_every: int = 100,
    refresh_count: int = 1000,
    ckpt_every: int = 250,
    eval_count: int = 1000,
    threads: int = 2,
    bf16: bool = False,
    work_dir: Path | None = None,
    init: Path | None = None,
    config: JudgeConfig | None = None,
    augmenter: Callable[[torch.Tensor, torch.Generator], torch.Tensor] = augment,
    name: str = "judge",
    weight_decay: float = 1e-4,
    family_weights: dict[str, float] | None = None,
) -> dict[str, float]:
    """Train, export ``judge.safetensors`` + ``judge_config.json`` to ``out_dir``; returns metrics.

    ``work_dir`` (default ``out_dir``) holds the checkpoint and the CSV curves.
    ``init``: start from these judge weights (fine-tuning a shipped judge)
    instead of a random initialisation. ``config`` (default: the strided arch on every family),
    ``augmenter`` and ``name`` (the files' stem: ``<name>.safetensors``, ``<name>_config.json``,
    ``<name>_ckpt.pt``) let the second judge (``train_judge2``) share this loop.
    """
    from .evaluate import evaluate_judge

    torch.set_num_threads(threads)
    out_dir, work_dir = Path(out_dir), Path(work_dir or out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = config or JudgeConfig(families=dict(FAMILIES))
    judge = load_judge(init, config).train() if init is not None else build_judge(config)
    opt = torch.optim.AdamW(judge.parameters(), lr=lr, weight_decay=weight_decay)
    ckpt = work_dir / f"{name}_ckpt.pt"
    start = load_checkpoint(ckpt, judge, opt) if ckpt.exists() else 0
    rng = np.random.default_rng([seed, start])
    gen = torch.Generator().manual_seed(seed * 1_000_003 + start)
    pool = RenderPool(pool_size, rng)
    log = CurveLog(work_dir / f"{name}_curves.csv", ["step", "loss", "lr", "seconds"] + list(FAMILIES) + ["hue"],
                   resume=start > 0)
    t0 = time.time()
    judge.train()
    for step in range(start, steps):
        for group in opt.param_groups:
            group["lr"] = lr * warmup_cosine(step, steps, warmup=min(200, steps // 10))
        if step > start and step % refresh_every == 0:
            pool.refresh(refresh_count)
        x, attrs = pool.sample(batch)
        x = augmenter(x, gen) * 2 - 1
        lab = {k: torch.from_numpy(v) for k, v in labels(attrs).items()}
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, parts = judge_loss(judge, x, lab, family_weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(judge.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == steps - 1:
            log.write(step=step, loss=float(loss.detach()), lr=opt.param_groups[0]["lr"], seconds=time.time() - t0, **parts)
        if (step + 1) % ckpt_every == 0 and step + 1 < steps:
            save_checkpoint(ckpt, judge, opt, step + 1)
    train_seconds = time.time() - t0
    judge.eval()
    export_fp16(judge, out_dir / f"{name}.safetensors")
    (out_dir / f"{name}_config.json").write_text(config.to_json() + "\n")
    metrics = evaluate_judge(out_dir, count=eval_count, name=name)
    metrics["train_seconds_this_run"] = train_seconds
    metrics["steps"] = steps
    (work_dir / f"{name}_metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    if ckpt.exists():
        ckpt.unlink()
    return metrics


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--work", type=Path, default=None, help="checkpoint + curves folder (default: --out)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--init", type=Path, default=None, help="fine-tune from these judge weights")
    a = p.parse_args()
    metrics = train_judge(a.out, a.seed, a.steps, a.batch, a.lr, work_dir=a.work, threads=a.threads, init=a.init)
    print(json.dumps(metrics, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
