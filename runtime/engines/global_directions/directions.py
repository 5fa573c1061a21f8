"""Global directions in StyleSpace (StyleCLIP §3, "GetBoundary" / "SplitS").

Two halves:

1. **Preprocessing, once per (generator, CLIP)**: per-channel StyleSpace means
   and stds over sampled latents (``compute_style_stats``) and the per-channel
   CLIP relevance table "fs3" (``compute_relevance``): for every non-toRGB
   channel, push it to mean +/- k sigma on N images, embed both renders with
   CLIP, and average the normalised embedding differences. Official files
   (``S_mean_std`` pickle, ``fs3.npy``) load through ``load_official_*``.
2. **Per edit**: a text direction from neutral/target prompts (79 templates),
   channel relevance ``fs3 @ dt``, the beta threshold, normalisation by the
   strongest kept channel, per-layer std scaling, toRGB untouched, and
   ``s + alpha * delta``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ...cache.keys import GLOBAL_VERSION, STATS_SEED
from ..keep import orthogonal_part

ENGINE_VERSION = GLOBAL_VERSION  # the cache keys carry it: runtime/cache/keys.py

Progress = Callable[[int, int], None]  # (done, total)


class BetaTooHigh(ValueError):
    """No channel passes the threshold; carries the largest beta that keeps one."""

    def __init__(self, beta: float, max_beta: float, text: str) -> None:
        self.beta, self.max_beta, self.text = beta, max_beta, text
        super().__init__(
            f"beta={beta:g} keeps no StyleSpace channel for {text!r}: the most relevant channel "
            f"scores {max_beta:.4f}; use beta below that (e.g. beta={math.floor(max_beta * 100) / 100:g})")


@dataclass
class GlobalStats:
    """StyleSpace statistics and channel relevance of one generator + CLIP."""

    mean: list[torch.Tensor]          # per style layer, (C,)
    std: list[torch.Tensor]           # per style layer, (C,)
    fs3: torch.Tensor                 # (n non-toRGB channels, clip dim), unit rows (or zero rows)
    meta: dict = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        tensors = {"fs3": self.fs3.contiguous().float()}
        for i, (m, s) in enumerate(zip(self.mean, self.std)):
            tensors[f"mean_{i:02d}"] = m.contiguous().float()
            tensors[f"std_{i:02d}"] = s.contiguous().float()
        return st_save(tensors, metadata={"meta": json.dumps(self.meta, sort_keys=True)})

    @classmethod
    def from_bytes(cls, data: bytes) -> "GlobalStats":
        tensors = st_load(data)
        n = sum(1 for k in tensors if k.startswith("mean_"))
        return cls([tensors[f"mean_{i:02d}"] for i in range(n)],
                   [tensors[f"std_{i:02d}"] for i in range(n)], tensors["fs3"], _st_meta(data))

    def save(self, path: Path) -> None:
        from ...cache.result_cache import atomic_write_bytes

        atomic_write_bytes(Path(path), self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> "GlobalStats":
        return cls.from_bytes(Path(path).read_bytes())


def _st_meta(data: bytes) -> dict:
    """The JSON stored under ``meta`` in a safetensors blob's header metadata ({} if none)."""
    header_len = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8:8 + header_len]).get("__metadata__") or {}
    return json.loads(metadata["meta"]) if "meta" in metadata else {}


# ---------------------------------------------------------------------------
# Preprocessing
# ---------------------------------------------------------------------------

@torch.no_grad()
def sample_wplus(generator, n: int, seed: int, truncation: float, batch: int = 256) -> torch.Tensor:
    """n W+ codes from seeded z, truncated toward the mean latent on every
    layer (the TF GetCode recipe), as (n, L, C)."""
    gen = torch.Generator().manual_seed(seed)
    mean = generator.mean_latent(seed=seed)
    device = mean.device
    out = []
    for start in range(0, n, batch):
        z = torch.randn(min(batch, n - start), generator.config.style_dim, generator=gen).to(device)
        w = generator.truncate(generator.mapping(z), truncation, mean)
        out.append(generator.to_wplus(w))
    return torch.cat(out)


@torch.no_grad()
def compute_style_stats(generator, n: int = 100_000, seed: int = STATS_SEED, truncation: float = 0.7,
                        batch: int = 512) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per-channel mean and std of every style layer over ``n`` sampled codes
    (streaming sums in float64, so 100k x 9088 never sits in memory)."""
    sums: list[torch.Tensor] | None = None
    sq: list[torch.Tensor] = []
    gen = torch.Generator().manual_seed(seed)
    mean_w = generator.mean_latent(seed=seed)
    for start in range(0, n, batch):
        z = torch.randn(min(batch, n - start), generator.config.style_dim, generator=gen).to(mean_w.device)
        w = generator.truncate(generator.mapping(z), truncation, mean_w)
        styles = generator.styles(generator.to_wplus(w))
        if sums is None:
            sums = [torch.zeros(s.shape[1], dtype=torch.float64) for s in styles]
            sq = [torch.zeros(s.shape[1], dtype=torch.float64) for s in styles]
        for i, s in enumerate(styles):
            s64 = s.detach().double().cpu()
            sums[i] += s64.sum(0)
            sq[i] += (s64 * s64).sum(0)
    assert sums is not None
    means = [(s / n) for s in sums]
    stds = [((q / n) - m * m).clamp_min(0).sqrt() for q, m in zip(sq, means)]
    return [m.float() for m in means], [s.float() for s in stds]


@torch.no_grad()
def compute_relevance(generator, clip, mean: Sequence[torch.Tensor], std: Sequence[torch.Tensor],
                      n_images: int, k: float, seed: int = STATS_SEED, truncation: float = 0.7,
                      batch_size: int = 128, progress: Progress | None = None,
                      partial: dict[int, torch.Tensor] | None = None,
                      on_layer_done: Callable[[int, torch.Tensor], None] | None = None) -> torch.Tensor:
    """The fs3 table: (n non-toRGB channels, clip dim).

    For each non-toRGB channel c of layer l and each of ``n_images`` codes:
    set s_l[c] to mean_c - k*std_c and mean_c + k*std_c (other channels keep
    the image's own values, as in the published code), render both, embed
    with CLIP (unit vectors), take the difference, normalise it; average over
    images and normalise again. Work is batched over (channel, sign, image)
    triples; ``partial`` (layer index -> rows) resumes an interrupted run and
    ``on_layer_done`` is called after each layer so a caller can checkpoint.
    """
    layout = generator.layout
    codes = sample_wplus(generator, n_images, seed, truncation)
    base = [s.detach() for s in generator.styles(codes)]
    device = base[0].device
    rows: dict[int, torch.Tensor] = dict(partial or {})
    conv_layers = [layer for layer in layout if not layer.is_torgb]
    total = sum(layer.width for layer in conv_layers)
    done = sum(layer.width for layer in conv_layers if layer.index in rows)
    per_batch = max(1, batch_size // (2 * n_images))  # channels per forward
    for layer in conv_layers:
        if layer.index in rows:
            continue
        li = layer.index
        out = torch.zeros(layer.width, clip_dim(clip), dtype=torch.float32)
        lo = (mean[li] - k * std[li]).to(device)
        hi = (mean[li] + k * std[li]).to(device)
        for c0 in range(0, layer.width, per_batch):
            chans = torch.arange(c0, min(layer.width, c0 + per_batch), device=device)
            m = len(chans)
            # batch layout: [channel][sign][image]
            styles = [s.repeat(2 * m, 1) for s in base]
            target = styles[li].view(m, 2, n_images, -1)
            idx = torch.arange(m, device=device)
            target[idx, 0, :, chans] = lo[chans][:, None]
            target[idx, 1, :, chans] = hi[chans][:, None]
            images = generator.synthesize(styles)
            emb = clip.encode_images(images).float().view(m, 2, n_images, -1)
            diff = emb[:, 1] - emb[:, 0]
            diff = diff / diff.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            avg = diff.mean(1)
            avg = avg / avg.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            out[c0:c0 + m] = avg.cpu()
            done += m
            if progress:
                progress(done, total)
        rows[li] = out
        if on_layer_done:
            on_layer_done(li, out)
    return torch.cat([rows[layer.index] for layer in conv_layers])


def clip_dim(clip) -> int:
    return int(clip.encode_text(["a"]).shape[-1])


# ---------------------------------------------------------------------------
# Official files
# ---------------------------------------------------------------------------

def load_official_s_mean_std(path: Path, layout) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """StyleCLIP's ``S_mean_std``: a pickle of [means(26), stds(26)] float32
    arrays, read with an allow-list unpickler (no arbitrary objects)."""
    from ...io.safe_pickle import load_restricted

    obj = load_restricted(Path(path).read_bytes())
    if not (isinstance(obj, (list, tuple)) and len(obj) == 2):
        raise ValueError(f"{path}: expected a pickle of [means, stds]")
    means, stds = obj
    if len(means) != len(layout) or len(stds) != len(layout):
        raise ValueError(f"{path}: {len(means)} style layers; this generator has {len(layout)}")
    out_m, out_s = [], []
    for layer, m, s in zip(layout, means, stds):
        m = torch.as_tensor(np.asarray(m, dtype=np.float32)).reshape(-1)
        s = torch.as_tensor(np.asarray(s, dtype=np.float32)).reshape(-1)
        if m.numel() != layer.width or s.numel() != layer.width:
            raise ValueError(f"{path}: layer {layer.index} has {m.numel()} channels; expected {layer.width}")
        out_m.append(m)
        out_s.append(s)
    return out_m, out_s


def load_official_fs3(path: Path, layout) -> torch.Tensor:
    """``fs3.npy``: (rows, 512) unit rows, one per non-toRGB channel in S
    order. Shorter files (5376 rows: layers up to 128 px) are zero-padded,
    as the official SplitS does. fp16 files are cast to float32."""
    arr = np.load(Path(path), allow_pickle=False)
    total = sum(layer.width for layer in layout if not layer.is_torgb)
    if arr.ndim != 2 or arr.shape[0] > total:
        raise ValueError(f"{path}: fs3 of shape {arr.shape} does not fit {total} non-toRGB channels")
    fs3 = torch.from_numpy(arr.astype(np.float32))
    if fs3.shape[0] < total:
        valid_ends = set()
        acc = 0
        for layer in layout:
            if not layer.is_torgb:
                acc += layer.width
                valid_ends.add(acc)
        if fs3.shape[0] not in valid_ends:
            raise ValueError(f"{path}: {fs3.shape[0]} rows do not end on a layer boundary")
        fs3 = torch.cat([fs3, torch.zeros(total - fs3.shape[0], fs3.shape[1])])
    return fs3


# ---------------------------------------------------------------------------
# Per-edit direction
# ---------------------------------------------------------------------------

def text_direction(clip, target: str, neutral: str) -> torch.Tensor:
    """dt = normalise(e(target) - e(neutral)), each e averaged over the 79
    ImageNet templates (StyleCLIP GetDt)."""
    e_t = clip.encode_text_templates(target).float()
    e_n = clip.encode_text_templates(neutral).float()
    dt = e_t - e_n
    return dt / dt.norm().clamp_min(1e-12)


@dataclass
class Direction:
    """A StyleSpace edit direction: per layer (C,), zero on toRGB layers."""

    delta: list[torch.Tensor]
    n_channels: int
    beta: float
    max_relevance: float
    channels_per_layer: dict[int, int]

    def channel_mask(self) -> list[torch.Tensor]:
        """Per layer, 1.0 on the channels this direction changes and 0.0 elsewhere
        (``optimize space=s beta=B`` moves only these)."""
        return [(d != 0).float() for d in self.delta]

    def to_bytes(self) -> bytes:
        tensors = {f"delta_{i:02d}": d.contiguous().float() for i, d in enumerate(self.delta)}
        meta = {"n_channels": self.n_channels, "beta": self.beta, "max_relevance": self.max_relevance,
                "channels_per_layer": {str(k): v for k, v in self.channels_per_layer.items()}}
        return st_save(tensors, metadata={"meta": json.dumps(meta)})

    @classmethod
    def from_bytes(cls, data: bytes) -> "Direction":
        tensors = st_load(data)
        meta = _st_meta(data)
        n = len(tensors)
        return cls([tensors[f"delta_{i:02d}"] for i in range(n)], meta["n_channels"], meta["beta"],
                   meta["max_relevance"], {int(k): v for k, v in meta["channels_per_layer"].items()})


def relevance(fs3: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
    return fs3.float() @ dt.float().to(fs3.device)


def relevance_without(rel: torch.Tensor, kept: Sequence[torch.Tensor]) -> torch.Tensor:
    """Conditional editing (InterFaceGAN's ``project_boundary``, on StyleCLIP's channel relevance):
    the part of ``rel`` orthogonal to every relevance vector in ``kept`` (``keep.py``).

    A channel whose change CLIP reads as the target and also as a kept attribute
    loses the kept share of its relevance, so the threshold beta then selects the
    channels that move the target without moving what is kept. ``kept`` may be
    linearly dependent (the projection is onto their span)."""
    return orthogonal_part(rel, kept)


def direction_from_relevance(rel: torch.Tensor, layout, std: Sequence[torch.Tensor], beta: float,
                             text: str = "") -> Direction:
    """Threshold, normalise by the strongest kept channel, split per layer,
    scale by each layer's std; toRGB layers get zeros."""
    if beta < 0:
        raise ValueError("beta must be >= 0")
    keep = rel.abs() >= beta
    n = int(keep.sum())
    max_rel = float(rel.abs().max()) if rel.numel() else 0.0
    if n == 0 or max_rel == 0.0:
        raise BetaTooHigh(beta, max_rel, text)
    flat = torch.where(keep, rel, torch.zeros_like(rel))
    flat = flat / flat.abs().max()
    deltas: list[torch.Tensor] = []
    per_layer: dict[int, int] = {}
    for layer in layout:
        if layer.is_torgb:
            deltas.append(torch.zeros(layer.width))
            continue
        part = flat[layer.flat_offset:layer.flat_offset + layer.width]
        deltas.append(part.cpu() * std[layer.index].cpu())
        kept = int((part != 0).sum())
        if kept:
            per_layer[layer.index] = kept
    return Direction(deltas, n, beta, max_rel, per_layer)


def apply_direction(styles: Sequence[torch.Tensor], direction: Direction,
                    alpha: torch.Tensor | float) -> list[torch.Tensor]:
    """s_edit = s + alpha * delta, per layer; alpha is a scalar or (B,)."""
    out = []
    for s, d in zip(styles, direction.delta):
        a = alpha if not torch.is_tensor(alpha) else alpha.to(s.device).view(-1, 1)
        out.append(s + a * d.to(s.device, s.dtype))
    return out


def offset_of(direction: Direction, alpha: torch.Tensor | float, batch: int) -> list[torch.Tensor]:
    """The StyleSpace offset alpha * delta as (B, C) per layer."""
    out = []
    for d in direction.delta:
        a = alpha.view(-1, 1) if torch.is_tensor(alpha) else torch.full((batch, 1), float(alpha))
        out.append(a.to(d.dtype) * d[None])
    return out
