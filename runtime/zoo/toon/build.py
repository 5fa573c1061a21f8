"""Rebuild the whole ``toon`` model set from a seed: ``build_toon(out_dir, seed)``.

Order (each step reads what the previous ones wrote into ``out_dir``):

1. the judge (``train_judge``), 2. toon-CLIP (``train_clip``),
3. toon-G (``train_generator``: phase A autoencoding, phase B mapping) ->
   ``generator.safetensors`` (fp16),
4. the toon encoder (``train_encoder``, against the fp16 generator as
   shipped) -> ``encoder.safetensors`` (fp16),
5. the global-direction statistics (``warm.compute_global_stats`` with toon-G
   and toon-CLIP) -> ``global_stats.safetensors``.

Work files (checkpoints, CSV curves, sample grids) go to ``work_dir``
(default ``out_dir/work``); an interrupted build resumes from them. Every
trainer is seeded from ``seed``; on the same machine and thread count the
same seed gives the same files.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch


@dataclass(frozen=True)
class GlobalStatsSettings:
    n_samples: int = 20_000
    n_images: int = 16  # as toon.yaml defaults.global_stats, so the file matches what the runtime would cache
    k: float = 5.0


@dataclass
class BuildReport:
    """What a build wrote and how long each step took (seconds)."""

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, object] = field(default_factory=dict)


def load_toon_clip(out_dir: Path):
    """The runtime's ``ClipModel`` for the toon-CLIP files in ``out_dir``."""
    from ...models.clip_model import ClipModel

    config = json.loads((Path(out_dir) / "clip_config.json").read_text())
    return ClipModel.from_config(config, Path(out_dir) / "clip.safetensors")


def build_toon(out_dir: Path, seed: int = 0, work_dir: Path | None = None,
               log: Callable[[str], None] = print,
               stats: GlobalStatsSettings = GlobalStatsSettings(),
               steps: tuple[str, ...] = ("judge", "clip", "generator", "encoder", "global_stats")) -> BuildReport:
    """Train every network of the toon set into ``out_dir`` (see the module docstring)."""
    from ...models.checkpoints import load_generator_checkpoint
    from .train_clip import train_clip
    from .train_encoder import EncoderTraining, load_code_net, save_shipped_encoder, train_encoder
    from .train_generator import GeneratorTraining, save_shipped_generator, train_generator
    from .train_judge import train_judge

    out_dir = Path(out_dir)
    work = Path(work_dir) if work_dir is not None else out_dir / "work"
    out_dir.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    report = BuildReport(out_dir)

    def timed(name: str, fn: Callable[[], object]) -> object:
        log(f"[toon build] {name} ...")
        t0 = time.time()
        result = fn()
        report.seconds[name] = round(time.time() - t0, 1)
        log(f"[toon build] {name} done in {report.seconds[name]:.0f}s")
        return result

    if "judge" in steps:
        report.metrics["judge"] = timed("judge", lambda: train_judge(out_dir=out_dir, seed=seed,
                                                                      work_dir=work / "judge"))
    if "clip" in steps:
        report.metrics["clip"] = timed("clip", lambda: train_clip(out_dir=out_dir, seed=seed,
                                                                   work_dir=work / "clip"))
    g_path = out_dir / "generator.safetensors"
    if "generator" in steps:
        def generator() -> None:
            gen = train_generator(work / "generator", GeneratorTraining(seed=seed), log)
            save_shipped_generator(gen, g_path)

        timed("generator", generator)
        report.files["generator"] = g_path
    if "encoder" in steps:
        def encoder() -> None:
            gen, _ = load_generator_checkpoint(g_path)
            enc, avg = train_encoder(gen, load_code_net(work / "generator"), work / "encoder",
                                     EncoderTraining(seed=seed), log)
            save_shipped_encoder(enc, avg, out_dir / "encoder.safetensors")

        timed("encoder", encoder)
        report.files["encoder"] = out_dir / "encoder.safetensors"
    if "global_stats" in steps:
        def global_stats() -> None:
            from ...warm import compute_global_stats

            gen, _ = load_generator_checkpoint(g_path)
            with torch.no_grad():
                result = compute_global_stats(gen, load_toon_clip(out_dir), stats.n_samples, stats.n_images,
                                              stats.k)
            result.save(out_dir / "global_stats.safetensors")

        timed("global_stats", global_stats)
        report.files["global_stats"] = out_dir / "global_stats.safetensors"
    return report
