"""Train toon-CLIP contrastively on rendered faces and their captions.

``python -m styleclip_zoo.toon.train_clip --seed 0``

Each step draws a batch of renders from a refreshed pool, augments them (the
runtime's preprocessing follows: [-1, 1] -> [0, 1] -> OPENAI mean/std) and
writes one caption per face (``captions.describe``). Captions often mention
only part of a face ("smile"), so several images in a batch can fit one text:
the loss is CLIP's symmetric cross-entropy with *soft* targets, spread evenly
over every pair whose caption fits the image (the diagonal always does).
An auxiliary loss speeds up the image tower: linear probes on the image
embedding predict each attribute family (cross-entropy, weight
``aux_weight``); the probes are training-only and are not exported, the
shipped model is a plain open_clip CLIP. (Without them the first, ViT, tower learned too
slowly for this machine's budget: chance accuracy on 4 families after 100
steps.) AdamW (float32 master weights) with warm-up and cosine decay, gradient
clipping; bf16 autocast optional (``bf16``): on a CPU without AMX it is
slower than float32, so it is off by default. Every ``eval_every`` steps it measures zero-shot
accuracy on held-out renders and stops early once every family but skin
passes ``target``. Checkpoints to ``work_dir/clip_ckpt.pt`` (resumable),
curves to ``work_dir/clip_curves.csv``.
"""
from __future__ import annotations

from styleclip_runtime.modelsets.registry import BUILTIN_DIR  # the shipped sets: runtime/modelsets/

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .attributes import FAMILIES, Attributes
from .augment import augment, augment_generator_look
from .captions import Caption, describe
from .clip import CLIP_CONFIG, build_clip, load_clip, preprocess, tokenize
from .pool import RenderPool
from .training import (CurveLog, attribute_cross_entropy, export_fp16, load_checkpoint, save_checkpoint,
                       warmup_cosine)

DEFAULT_OUT = BUILTIN_DIR / "toon"


def fit_matrix(attrs: list[Attributes], caps: list[Caption]) -> torch.Tensor:
    """(B_images, B_texts) float: 1 where caption j fits image i."""
    return torch.tensor([[c.fits(a) for c in caps] for a in attrs], dtype=torch.float32)


def soft_clip_loss(img: torch.Tensor, txt: torch.Tensor, scale: torch.Tensor, fits: torch.Tensor) -> torch.Tensor:
    """Symmetric contrastive loss with targets spread over all fitting pairs."""
    logits = scale * F.normalize(img.float(), dim=-1) @ F.normalize(txt.float(), dim=-1).T
    to_text = fits / fits.sum(1, keepdim=True)
    to_image = fits / fits.sum(0, keepdim=True)
    loss_i = -(to_text * logits.log_softmax(1)).sum(1).mean()
    loss_t = -(to_image * logits.log_softmax(0)).sum(0).mean()
    return (loss_i + loss_t) / 2


def probe_loss(probes: torch.nn.ModuleDict, img: torch.Tensor, attrs: list[Attributes],
               weights: dict[str, float] | None = None) -> torch.Tensor:
    """Weighted mean cross-entropy of linear attribute probes on image embeddings.

    ``weights``: per-family weights (default 1); hidden eyes are not scored.
    """
    return attribute_cross_entropy({f: probe(img.float()) for f, probe in probes.items()}, attrs, weights)


def copy_text_tower(source: torch.nn.Module, target: torch.nn.Module) -> list[str]:
    """Copy every weight outside ``visual.`` (text tower, projections, logit scale); returns the keys."""
    theirs = source.state_dict()
    mine = target.state_dict()
    keys = [k for k in mine if not k.startswith("visual.")]
    for k in keys:
        if k not in theirs or theirs[k].shape != mine[k].shape:
            raise ValueError(f"the text tower of the init model does not match at {k}")
        mine[k] = theirs[k].to(mine[k].dtype)
    target.load_state_dict(mine)
    return keys


def augment_batch(x: torch.Tensor, gen: torch.Generator, look: float = 0.0) -> torch.Tensor:
    """A batch of clean renders in [0, 1], augmented for training: the first ``round(look * B)``
    through ``augment_generator_look`` (toon-G's look), the rest through ``augment``."""
    if not 0.0 <= look <= 1.0:
        raise ValueError(f"look is a share of the batch, in [0, 1]; got {look}")
    n_look = int(round(look * len(x)))
    if n_look == 0:
        return augment(x, gen)
    if n_look == len(x):
        return augment_generator_look(x, gen)
    return torch.cat([augment_generator_look(x[:n_look], gen), augment(x[n_look:], gen)])


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        plain = p.ndim < 2 or "embedding" in name or "logit_scale" in name
        (no_decay if plain else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def train_clip(
    out_dir: Path = DEFAULT_OUT,
    seed: int = 0,
    steps: int = 6000,
    batch: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 0.1,
    pool_size: int = 10000,
    refresh_every: int = 100,
    refresh_count: int = 1000,
    ckpt_every: int = 250,
    eval_every: int = 500,
    eval_count: int = 300,
    target: float = 0.93,
    threads: int = 2,
    bf16: bool = False,
    aux_weight: float = 1.0,
    work_dir: Path | None = None,
    init: Path | None = None,
    probe_weights: dict[str, float] | None = None,
    init_text: Path | None = None,
    final_eval_count: int = 1000,
    look: float = 0.0,
) -> dict[str, float]:
    """Train toon-CLIP; export ``clip_config.json`` + fp16 ``clip.safetensors``; returns metrics.

    ``init``: a folder with ``clip_config.json`` + ``clip.safetensors`` to continue
    training from (the probes start afresh); None trains from scratch.
    ``probe_weights``: per-family weights of the probe loss (e.g. more on a
    family that lags behind).
    ``init_text``: a folder with a trained toon-CLIP (any vision tower) whose
    text tower and logit scale start this model; the vision tower starts
    afresh and learns to meet text embeddings that already mean something.
    ``look``: the share of each batch drawn through ``augment_generator_look`` (toon-G's blur,
    washed colours and pull toward the mean face, as the second judge is trained) instead of
    ``augment``; 0 trains on ``augment`` alone, as the shipped model was.
    """
    from .evaluate import evaluate_clip

    torch.set_num_threads(threads)
    out_dir, work_dir = Path(out_dir), Path(work_dir or out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = load_clip(init).train() if init is not None else build_clip(CLIP_CONFIG)
    if init_text is not None:
        copy_text_tower(load_clip(init_text), model)
    probes = torch.nn.ModuleDict({f: torch.nn.Linear(CLIP_CONFIG["embed_dim"], len(v)) for f, v in FAMILIES.items()})
    trained = torch.nn.ModuleDict({"clip": model, "probes": probes})
    opt = torch.optim.AdamW(_param_groups(trained, weight_decay), lr=lr, betas=(0.9, 0.98), eps=1e-6)
    ckpt = work_dir / "clip_ckpt.pt"
    start = load_checkpoint(ckpt, trained, opt) if ckpt.exists() else 0
    rng = np.random.default_rng([seed, start, 1])
    gen = torch.Generator().manual_seed(seed * 7_000_003 + start)
    pool = RenderPool(pool_size, rng)
    columns = ["step", "loss", "probe_loss", "lr", "logit_scale", "seconds"] + [f"acc/{f}" for f in FAMILIES]
    log = CurveLog(work_dir / "clip_curves.csv", columns, resume=start > 0)
    ctx = CLIP_CONFIG["text_cfg"]["context_length"]
    size = CLIP_CONFIG["vision_cfg"]["image_size"]
    t0, stopped_at, last_eval = time.time(), steps, {}
    model.train()
    step = start
    for step in range(start, steps):
        for group in opt.param_groups:
            group["lr"] = lr * warmup_cosine(step, steps, warmup=min(50, steps // 10))
        if step > start and step % refresh_every == 0:
            pool.refresh(refresh_count)
        x, attrs = pool.sample(batch)
        x = preprocess(augment_batch(x, gen, look) * 2 - 1, size)
        caps = [describe(a, rng) for a in attrs]
        tokens = tokenize([c.text for c in caps], ctx)
        fits = fit_matrix(attrs, caps)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            img = model.encode_image(x)
            txt = model.encode_text(tokens)
        contrast = soft_clip_loss(img, txt, model.logit_scale.exp(), fits)
        aux = probe_loss(probes, img, attrs, probe_weights)
        loss = contrast + aux_weight * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        row = {"step": step, "loss": float(contrast.detach()), "probe_loss": float(aux.detach()), "lr": opt.param_groups[0]["lr"],
               "logit_scale": float(model.logit_scale.detach().exp()), "seconds": time.time() - t0}
        done = (step + 1) % eval_every == 0 or step == steps - 1
        if done:
            last_eval = evaluate_clip(count=eval_count, model=model)
            row.update({k.replace("clip/", "acc/"): v for k, v in last_eval.items()})
            print(json.dumps({k: round(v, 4) for k, v in row.items()}), flush=True)
        if step % 25 == 0 or done:
            log.write(**row)
        if (step + 1) % ckpt_every == 0 and step + 1 < steps:
            save_checkpoint(ckpt, trained, opt, step + 1)
        if done and all(last_eval[f"clip/{f}"] >= target for f in FAMILIES if f != "skin"):
            stopped_at = step + 1
            break
    train_seconds = time.time() - t0
    model.eval()
    export_fp16(model, out_dir / "clip.safetensors")
    (out_dir / "clip_config.json").write_text(json.dumps(CLIP_CONFIG, indent=2, sort_keys=True) + "\n")
    metrics = evaluate_clip(out_dir, count=final_eval_count)
    metrics.update({"train_seconds_this_run": train_seconds, "steps": stopped_at})
    (work_dir / "clip_metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    if ckpt.exists():
        ckpt.unlink()
    return metrics


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--work", type=Path, default=None, help="checkpoint + curves folder (default: --out)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (fast only on CPUs with AMX)")
    p.add_argument("--look", type=float, default=0.0,
                   help="share of each batch through the toon-G look (augment_generator_look) instead of augment")
    p.add_argument("--target", type=float, default=0.93,
                   help="stop once every family but skin reaches this zero-shot accuracy (above 1: run every step)")
    p.add_argument("--init", type=Path, default=None, help="continue from this folder's clip weights")
    p.add_argument("--init-text", type=Path, default=None,
                   help="start the text tower from this folder's clip weights (the vision tower starts afresh)")
    p.add_argument("--aux-weight", type=float, default=1.0)
    p.add_argument("--probe-weight", action="append", default=[], metavar="FAMILY=W",
                   help="weight of one family's probe loss (repeatable)")
    a = p.parse_args()
    weights = {k: float(v) for k, v in (item.split("=", 1) for item in a.probe_weight)}
    metrics = train_clip(a.out, a.seed, a.steps, a.batch, a.lr, threads=a.threads, work_dir=a.work,
                         eval_every=a.eval_every, bf16=a.bf16, init=a.init,
                         aux_weight=a.aux_weight, probe_weights=weights or None, init_text=a.init_text,
                         target=a.target, look=a.look)
    print(json.dumps(metrics, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
