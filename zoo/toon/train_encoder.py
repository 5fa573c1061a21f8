"""Train the toon encoder: the project's e4e (``Encoder4Editing``) inverting toon-G.

Targets (codes are W+ rows; the encoder predicts offsets from ``latent_avg``,
as e4e does):

- **toon-G samples**: ``w = G.mapping(z)`` and its image ``G(w)``; the encoder
  reads the image and is pulled toward ``w`` on every row (latent L2);
- **renders** (the "photos" of this world, any layout): the w that toon-G's
  rule gives the same attributes in the rule layout nearest to the render's
  geometry (``G.mapping(z_for(attrs, layout))``), again on every row; so a
  photo inverts to the sample that shows its attributes.

Latent regression needs no synthesis, so a step costs only the encoder. The
last ``image_steps`` steps add the e4e image loss on G samples (L1 between
``G(encoder(x))`` and ``x``), which lets the W+ rows refine what one w cannot
reach. e4e's delta regulariser keeps rows 1.. near row 0, so codes stay
close to W (editable).

Pools: ``n_g`` generator samples (a quarter truncated with psi 0.7, as
``generate`` does by default) and a refreshed pool of renders, built once.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from styleclip_runtime.models.e4e import E4EConfig, Encoder4Editing, save_e4e_checkpoint
from styleclip_runtime.models.stylegan2 import Generator
from .attributes import Attributes
from .pool import RenderPool
from .renderer import layout_geometry
from .train_generator import (CurveLog, _load, _save, image_loss, lr_at, rule_nuisance_seeds, to_signed,
                              z_for)

TOON_E4E_CONFIG = E4EConfig(input_size=64, n_styles=10, style_dim=128, stage_units=(1, 1, 1, 1),
                            widths=(16, 32, 64, 128))


@dataclass(frozen=True)
class EncoderTraining:
    """Hyper-parameters of the encoder run (the defaults are the shipped run)."""

    seed: int = 0
    steps: int = 700
    image_steps: int = 60
    batch: int = 32
    image_batch: int = 8
    lr: float = 1e-3
    warmup: int = 50
    n_g: int = 2_000
    pool_size: int = 2_000
    render_fraction: float = 0.5
    delta_weight: float = 2e-3
    image_weight: float = 1.0
    ckpt_every: int = 100
    threads: int = 1  # measured: two threads beside another trainer ran several times slower than one


@torch.no_grad()
def generator_pool(gen: Generator, n: int, seed: int, batch: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` samples (images in [-1, 1], their w); the last quarter truncated (psi 0.7)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, gen.style_dim, generator=g)
    w = gen.mapping(z)
    mean = gen.mean_latent()
    cut = n - n // 4
    w[cut:] = gen.truncate(w[cut:], 0.7, mean)
    images = torch.cat([gen(w[i:i + batch], noise_mode="const").clamp(-1, 1) for i in range(0, n, batch)])
    return images, w


def nearest_rule_layout(seed: int, n_nuisance: int = 8) -> int:
    """The index of the rule layout whose geometry is closest to nuisance seed ``seed``'s."""
    rule = np.stack([layout_geometry(s) for s in rule_nuisance_seeds(n_nuisance)])
    return int(np.abs(rule - layout_geometry(seed)).sum(1).argmin())


@torch.no_grad()
def rule_codes(gen: Generator, attrs: list[Attributes], seeds: list[int], generator: torch.Generator) -> torch.Tensor:
    """(B, style_dim): the w toon-G's rule draws each face with, in its nearest rule layout."""
    z = z_for(attrs, [nearest_rule_layout(s) for s in seeds], generator, style_dim=gen.style_dim)
    return gen.mapping(z)


def delta_penalty(codes: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of W+ rows 1.. from row 0 (e4e's delta regulariser)."""
    return (codes[:, 1:] - codes[:, :1]).square().sum(-1).mean()


def train_encoder(gen: Generator, work: Path, cfg: EncoderTraining = EncoderTraining(),
                  log: Callable[[str], None] = print) -> tuple[Encoder4Editing, torch.Tensor]:
    """Train; returns ``(encoder in eval mode, latent_avg (n_styles, style_dim))``. Resumes from ``work``."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    gen = gen.eval()
    for p in gen.parameters():
        p.requires_grad_(False)
    torch.manual_seed(cfg.seed)
    enc = Encoder4Editing(TOON_E4E_CONFIG)
    avg = gen.mean_latent().expand(TOON_E4E_CONFIG.n_styles, -1).clone()
    opt = torch.optim.Adam(enc.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    start = 0
    ckpt = _load(work / "encoder.pt")
    if ckpt is not None:
        enc.load_state_dict(ckpt["enc"])
        opt.load_state_dict(ckpt["opt"])
        start = int(ckpt["step"])
        log(f"encoder: resuming at step {start}")
    if start >= cfg.steps:
        return enc.eval(), avg
    t0 = time.time()
    g_img, g_w = generator_pool(gen, cfg.n_g, seed=cfg.seed * 31 + 5)
    pool = RenderPool(cfg.pool_size, np.random.default_rng([cfg.seed, 0xE, start]))
    log(f"encoder: pools ready in {time.time() - t0:.0f}s")
    curve = CurveLog(work / "encoder.csv", ["step", "latent", "image", "delta", "lr", "seconds"])
    rng = torch.Generator().manual_seed(cfg.seed * 31 + 6 + start)
    n_r = int(round(cfg.batch * cfg.render_fraction))
    enc.train()
    for step in range(start, cfg.steps):
        lr = lr_at(step, cfg.steps, cfg.lr, cfg.warmup)
        for group in opt.param_groups:
            group["lr"] = lr
        if step % 20 == 0 and step > start:
            pool.refresh(64)
        idx = torch.randint(0, cfg.n_g, (cfg.batch - n_r,), generator=rng)
        r01, r_attrs, r_seeds = pool.sample_with_seeds(n_r)
        r = to_signed(r01)
        r_w = rule_codes(gen, r_attrs, r_seeds, rng)
        x = torch.cat([g_img[idx], r])
        target = torch.cat([g_w[idx], r_w])
        codes = enc(x) + avg
        latent = (codes - target[:, None]).square().sum(-1).mean() / gen.style_dim
        delta = delta_penalty(codes)
        loss = latent + cfg.delta_weight * delta
        img_l = torch.zeros(())
        if step >= cfg.steps - cfg.image_steps:
            k = cfg.image_batch
            img_l = image_loss(gen(codes[:k], noise_mode="const"), x[:k], 0.0)
            loss = loss + cfg.image_weight * img_l
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(enc.parameters(), 1.0)
        opt.step()
        if step % 20 == 0 or step == cfg.steps - 1:
            lat, img_v, dlt = float(latent.detach()), float(img_l.detach()), float(delta.detach())
            curve.write(step=step, latent=lat, image=img_v, delta=dlt, lr=lr, seconds=round(time.time() - t0, 1))
            log(f"encoder step {step} latent {lat:.4f} image {img_v:.4f} delta {dlt:.3f} {time.time() - t0:.0f}s")
        done = step + 1
        if done % cfg.ckpt_every == 0 or done == cfg.steps:
            _save(work / "encoder.pt", {"enc": enc.state_dict(), "opt": opt.state_dict(), "step": done})
    return enc.eval(), avg


def save_shipped_encoder(enc: Encoder4Editing, latent_avg: torch.Tensor, path: Path) -> None:
    """The fp16 safetensors file in e4e's layout (``encoder.*`` keys, ``latent_avg``, opts as metadata)."""
    half = Encoder4Editing(enc.config)
    half.load_state_dict(enc.state_dict())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_e4e_checkpoint(half.half(), latent_avg.half(), path, opts={"dataset_type": "toon"})


def main(argv: list[str] | None = None) -> None:
    import argparse

    from styleclip_runtime.models.checkpoints import load_generator_checkpoint

    p = argparse.ArgumentParser(description="Train the toon e4e encoder on a trained toon-G.")
    p.add_argument("--work", type=Path, required=True, help="checkpoint folder")
    p.add_argument("--generator", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="encoder.safetensors to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=EncoderTraining.steps)
    p.add_argument("--image-steps", type=int, default=EncoderTraining.image_steps)
    args = p.parse_args(argv)
    gen, _ = load_generator_checkpoint(args.generator)
    cfg = EncoderTraining(seed=args.seed, steps=args.steps, image_steps=args.image_steps)
    enc, avg = train_encoder(gen, args.work, cfg)
    save_shipped_encoder(enc, avg, args.out)


if __name__ == "__main__":
    main()
