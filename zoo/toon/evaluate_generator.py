"""Measure toon-G and the toon encoder: the figures of docs/toon.md.

``python -m styleclip_zoo.toon.evaluate_generator [--dir runtime/modelsets/toon] [--count 1000]``

Definitions (all images float32 in [-1, 1], networks in float32):

- **confident face**: the judge's top probability is >= ``CONFIDENT`` (0.5)
  for every family, except ``eyes`` when the judge reads sunglasses (the
  eyes are hidden, as the judge's own figures treat them).
- **attribute frequencies**: the share of each judged value among toon-G
  samples, against the share among renderer images drawn the way the
  renderer's training distribution draws them (``sample_attributes``), read
  by the same judge; ``worst_ratio`` is the largest factor between the two
  over all values (the bar: <= 2).
- **rule agreement**: the share of samples in which the judge reads the
  value the z rule (``train_generator.z_rule``) asks for, per family
  (``eyes`` skipped where the rule asks for sunglasses); chance is one over
  the family's size.
- **PSNR to the rule's renders**: samples ``G(mapping(z))`` against
  ``render(z_rule(z))``, over the whole image and over the detail pixels
  (``rule_render_psnr``); the judges after the first report their own rule
  agreement beside it.
- **PSNR** on toon-G samples: images mapped to [0, 1], MSE over pixels and
  channels, per image, averaged in dB.
- **judge agreement** on renders: the share of (image, family) pairs where
  the judge reads the same value on the render and on ``G(encoder(render))``,
  ``eyes`` skipped where the render shows sunglasses.
"""
from __future__ import annotations

from styleclip_runtime.modelsets.registry import BUILTIN_DIR  # the shipped sets: runtime/modelsets/

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .attributes import FAMILIES
from styleclip_runtime.models.judge import Judge, load_judge
from .pool import held_out

CONFIDENT = 0.5
DEFAULT_DIR = BUILTIN_DIR / "toon"


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> None:
    """Save images in [-1, 1] (B, 3, H, W) as one PNG, ``nrow`` per row."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    b, _, h, w = x.shape
    rows = (b + nrow - 1) // nrow
    grid = torch.zeros(3, rows * h, nrow * w, dtype=torch.uint8)
    for i in range(b):
        r, c = divmod(i, nrow)
        grid[:, r * h:(r + 1) * h, c * w:(c + 1) * w] = x[i]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(grid.permute(1, 2, 0).numpy())).save(path)


def sample_z(gen, count: int, seed: int = 2024) -> torch.Tensor:
    """The z of ``generator_samples(gen, count, seed)``."""
    return torch.randn(count, gen.style_dim, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def generator_samples(gen, count: int, seed: int = 2024, truncation: float = 1.0,
                      batch: int = 100) -> torch.Tensor:
    """``count`` samples ``G(mapping(z))`` (const noise), optionally truncated toward ``mean_latent``."""
    w = gen.mapping(sample_z(gen, count, seed))
    if truncation != 1.0:
        w = gen.truncate(w, truncation, gen.mean_latent())
    return torch.cat([gen(w[i:i + batch], noise_mode="const").clamp(-1, 1) for i in range(0, count, batch)])


@torch.no_grad()
def judge_probabilities(judge: Judge, images: torch.Tensor, batch: int = 250) -> dict[str, torch.Tensor]:
    """The judge's softmax per family over a batch of images in [-1, 1]."""
    judge = judge.eval()
    parts = [judge.probabilities(images[i:i + batch]) for i in range(0, len(images), batch)]
    return {f: torch.cat([p[f] for p in parts]) for f in FAMILIES}


def confident_mask(probs: dict[str, torch.Tensor], threshold: float = CONFIDENT) -> torch.Tensor:
    """Per image: every family read with top probability >= ``threshold`` (eyes skipped behind sunglasses)."""
    sunglasses = probs["glasses"].argmax(1) == FAMILIES["glasses"].index("sunglasses")
    ok = torch.ones(len(sunglasses), dtype=torch.bool)
    for f, p in probs.items():
        sure = p.max(1).values >= threshold
        if f == "eyes":
            sure = sure | sunglasses
        ok &= sure
    return ok


def value_frequencies(probs: dict[str, torch.Tensor]) -> dict[str, dict[str, float]]:
    """Share of each judged value per family."""
    out = {}
    for f, p in probs.items():
        counts = torch.bincount(p.argmax(1), minlength=len(FAMILIES[f])).float()
        out[f] = {v: float(c) for v, c in zip(FAMILIES[f], counts / counts.sum())}
    return out


def worst_frequency_ratio(a: dict[str, dict[str, float]], b: dict[str, dict[str, float]]) -> tuple[float, str]:
    """The largest factor max(a/b, b/a) over all values, and which value it is (inf when one is 0)."""
    worst, which = 1.0, ""
    for f, values in a.items():
        for v, fa in values.items():
            fb = b[f][v]
            ratio = float("inf") if min(fa, fb) == 0 else max(fa / fb, fb / fa)
            if ratio > worst:
                worst, which = ratio, f"{f}={v}"
    return worst, which


def generator_figures(gen, judge: Judge, count: int = 1000, truncation: float = 1.0,
                      samples: torch.Tensor | None = None) -> dict:
    """Confident-face share and frequency ratios of ``count`` toon-G samples against renders
    (``samples``: those samples, when the caller already drew them)."""
    if samples is None:
        samples = generator_samples(gen, count, truncation=truncation)
    probs = judge_probabilities(judge, samples)
    renders, _ = held_out(count)
    ref = value_frequencies(judge_probabilities(judge, renders * 2 - 1))
    freqs = value_frequencies(probs)
    worst, which = worst_frequency_ratio(freqs, ref)
    return {"count": count, "truncation": truncation, "rule_agreement": rule_agreement(probs, sample_z(gen, count)),
            "confident_faces": float(confident_mask(probs).float().mean()),
            "confident_faces_renders": float(confident_mask(judge_probabilities(judge, renders * 2 - 1))
                                             .float().mean()),
            "worst_frequency_ratio": worst, "worst_value": which, "frequencies": freqs,
            "render_frequencies": ref}


def rule_agreement(probs: dict[str, torch.Tensor], z: torch.Tensor) -> dict[str, float]:
    """Per family, the share of samples ``G(mapping(z))`` (judged ``probs``)
    showing the value that ``z_rule(z)`` asks for."""
    from .train_generator import z_rule

    attrs, _ = z_rule(z)
    asked_sunglasses = torch.tensor([a.glasses == "sunglasses" for a in attrs])
    out = {}
    for family, values in FAMILIES.items():
        hit = probs[family].argmax(1) == torch.tensor([values.index(a.value(family)) for a in attrs])
        if family == "eyes":
            hit = hit[~asked_sunglasses]
        out[family] = float(hit.float().mean())
    return out


@torch.no_grad()
def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of images in [-1, 1] (peak 1 after mapping to [0, 1])."""
    mse = (((a.float().clamp(-1, 1) - b.float().clamp(-1, 1)) / 2) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


@torch.no_grad()
def rule_render_psnr(gen, count: int = 500, seed: int = 2024) -> dict[str, float]:
    """How close samples ``G(mapping(z))`` come to the faces the z rule asks for, ``render(z_rule(z))``:
    PSNR over the whole image and over the detail pixels (eyes, brows, mouth; ``detail_mask``), in dB.
    Phase C's objective; a sharper toon-G scores higher."""
    from .detail_mask import detail_weights
    from .renderer import render_batch
    from .train_generator import z_rule

    z = sample_z(gen, count, seed)
    attrs, seeds = z_rule(z)
    target = torch.from_numpy(render_batch(attrs, seeds)).permute(0, 3, 1, 2).float() / 127.5 - 1
    fake = torch.cat([gen(gen.mapping(z[i:i + 100]), noise_mode="const").clamp(-1, 1)
                      for i in range(0, count, 100)])
    weight = detail_weights(seeds, gen.size, 8.0) > 1.0  # the detail pixels (weight 1 + 8 there)
    err = ((fake - target) / 2) ** 2
    detail = (err * weight).flatten(1).sum(1) / (weight.expand_as(err).flatten(1).sum(1)).clamp_min(1)
    return {"psnr": float(psnr(fake, target).mean()),
            "psnr_detail": float((10 * torch.log10(1.0 / detail.clamp_min(1e-10))).mean())}


@torch.no_grad()
def reconstruct(gen, inverter, images: torch.Tensor, batch: int = 100) -> torch.Tensor:
    """``G(inverter(x))`` for images in [-1, 1] (const noise)."""
    return torch.cat([gen(inverter(images[i:i + batch]), noise_mode="const").clamp(-1, 1)
                      for i in range(0, len(images), batch)])


def agreement(judge: Judge, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    """Per-family share of images where the judge reads the same value on ``a`` and ``b``, and the mean."""
    pa, pb = judge_probabilities(judge, a), judge_probabilities(judge, b)
    sunglasses = pa["glasses"].argmax(1) == FAMILIES["glasses"].index("sunglasses")
    out, total, n = {}, 0.0, 0
    for f in FAMILIES:
        same = pa[f].argmax(1) == pb[f].argmax(1)
        if f == "eyes":
            same = same[~sunglasses]
        out[f] = float(same.float().mean())
        total += float(same.float().sum())
        n += len(same)
    out["all"] = total / max(1, n)
    return out


def encoder_figures(gen, inverter, judge: Judge, count: int = 500) -> dict:
    """PSNR on toon-G samples and judge agreement on renders (held-out faces)."""
    samples = generator_samples(gen, count, seed=4048)
    p = psnr(reconstruct(gen, inverter, samples), samples)
    renders, _ = held_out(count)
    renders = renders * 2 - 1
    recon = reconstruct(gen, inverter, renders)
    return {"count": count, "psnr_g_samples": float(p.mean()), "psnr_g_samples_median": float(p.median()),
            "psnr_renders": float(psnr(recon, renders).mean()), "agreement_renders": agreement(judge, renders, recon)}


def main(argv: list[str] | None = None) -> None:
    from styleclip_runtime.models.checkpoints import load_generator_checkpoint
    from styleclip_runtime.models.e4e import Inverter, load_e4e_checkpoint

    p = argparse.ArgumentParser(description="Measure toon-G and the toon encoder.")
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--generator", type=Path, default=None,
                   help="measure this generator.safetensors instead of the folder's (e.g. a candidate; "
                        "the encoder is then not measured)")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    gen, _ = load_generator_checkpoint(args.generator or args.dir / "generator.safetensors")
    judge = load_judge(args.dir / "judge.safetensors")
    drawn = {psi: generator_samples(gen, args.count, truncation=psi) for psi in (1.0, 0.7)}
    keys = {1.0: "generator", 0.7: "generator_psi_0.7"}
    figures = {keys[psi]: generator_figures(gen, judge, args.count, psi, x) for psi, x in drawn.items()}
    figures["generator"]["rule_renders"] = rule_render_psnr(gen, min(500, args.count))
    z = sample_z(gen, args.count)
    for extra in sorted(args.dir.glob("judge[0-9]*.safetensors")):  # the other judges' rule agreement
        other = load_judge(extra)
        for psi, x in drawn.items():
            figures[keys[psi]][f"rule_agreement_{extra.stem}"] = rule_agreement(judge_probabilities(other, x), z)
    enc_path = args.dir / "encoder.safetensors"
    if enc_path.exists() and args.generator is None:
        enc, avg, _ = load_e4e_checkpoint(enc_path)
        figures["encoder"] = encoder_figures(gen, Inverter(enc, avg).eval(), judge, max(100, args.count // 2))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
