"""Rebuild the whole ``toon`` model set from a seed: ``build_toon(out_dir, seed)``.

Order (each step reads what the previous ones wrote into ``out_dir``):

1. the judge (``train_judge``), 1b. the second judge, differently built
   (``train_judge2``), 2. toon-CLIP (``train_clip``),
3. toon-G (``train_generator``: phase A autoencoding, phase B mapping,
   phase C sample fine-tuning with toon-CLIP as a teacher) ->
   ``generator.safetensors`` (fp16),
4. the toon encoder (``train_encoder``, against the fp16 generator as
   shipped) -> ``encoder.safetensors`` (fp16),
5. the global-direction statistics (``warm.compute_global_stats`` with toon-G
   and toon-CLIP) -> ``global_stats.safetensors``,
6. the shipped mappers (``train_mappers.train_toon_mappers``, one per prompt
   of ``SHIPPED_PROMPTS``) -> ``mappers/<prompt>.safetensors``,

and finally the model-set YAML with the new files' digests
(``modelset_yaml.write_toon_yaml``: the shipped ``toon.yaml`` when building
into the shipped folder, else ``out_dir/toon.yaml``).

Work files (checkpoints, CSV curves, sample grids) go to ``work_dir``
(default ``out_dir/work``); an interrupted build resumes from them: a step
that finished leaves ``<work>/<step>.done.json`` (its seed, time and
metrics) and is skipped while that marker and its files are there (``redo``
trains it again), and a step cut short resumes from its checkpoint. Every
trainer is seeded from ``seed``; on the same machine and thread count the
same seed gives the same files.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch

if TYPE_CHECKING:
    from .train_encoder import EncoderTraining
    from .train_generator import GeneratorTraining


@dataclass(frozen=True)
class GlobalStatsSettings:
    n_samples: int = 20_000
    n_images: int = 100  # as toon.yaml defaults.global_stats (the published N), so the file matches what the runtime would cache
    k: float = 5.0


@dataclass(frozen=True)
class MapperSettings:
    prompts: tuple[str, ...] | None = None  # None: train_mappers.SHIPPED_PROMPTS
    steps: int = 300
    batch: int = 8
    l2: float = 40.0


@dataclass(frozen=True)
class BuildSettings:
    """Every knob of a build (the defaults are the shipped recipe).

    ``judge`` and ``clip`` are keyword arguments of ``train_judge`` /
    ``train_clip``; ``smoke()`` is a build small enough for a test: it runs
    every step and writes every file, with networks that learn nothing much.
    """

    judge: dict = field(default_factory=dict)
    judge2: dict = field(default_factory=dict)  # keyword arguments of ``train_judge2``
    clip: dict = field(default_factory=dict)
    generator: "GeneratorTraining | None" = None  # None: GeneratorTraining(seed=seed)
    encoder: "EncoderTraining | None" = None  # None: EncoderTraining(seed=seed)
    stats: GlobalStatsSettings = GlobalStatsSettings()
    mappers: MapperSettings = MapperSettings()

    @staticmethod
    def smoke() -> "BuildSettings":
        from .train_encoder import EncoderTraining
        from .train_generator import GeneratorTraining

        return BuildSettings(
            judge={"steps": 3, "batch": 8, "pool_size": 32, "eval_count": 16, "threads": 1},
            judge2={"steps": 3, "batch": 8, "pool_size": 32, "eval_count": 16, "threads": 1},
            clip={"steps": 3, "batch": 8, "pool_size": 32, "eval_every": 3, "eval_count": 16, "threads": 1,
                  "final_eval_count": 16},
            generator=GeneratorTraining(batch=4, batch_64=2, pool_size=16,
                                        stages=((16, 2), (32, 2), (64, 2), (64, 2)), steps_b=3, batch_b=16,
                                        n_pairs_b=32, n_val_b=16, steps_c=2, batch_c=2, rule_layouts_stage=2,
                                        face_code_stage=3, n_fit_face=64, detail_weight=8.0, clip_weight_c=0.5),
            encoder=EncoderTraining(steps=3, image_steps=1, batch=4, image_batch=2, n_g=8, pool_size=8),
            stats=GlobalStatsSettings(n_samples=64, n_images=1),
            mappers=MapperSettings(prompts=("smile",), steps=2, batch=2),
        )


@dataclass
class BuildReport:
    """What a build wrote and how long each step took (seconds)."""

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, object] = field(default_factory=dict)


BUILD_STEPS: tuple[str, ...] = ("judge", "judge2", "clip", "generator", "encoder", "global_stats", "mappers")

# What each step leaves in out_dir; a finished step is skipped only while these are all there.
# (The mappers step needs no marker: it keeps every prompt whose file exists.)
STEP_OUTPUTS: dict[str, tuple[str, ...]] = {
    "judge": ("judge.safetensors", "judge_config.json"),
    "judge2": ("judge2.safetensors", "judge2_config.json"),
    "clip": ("clip.safetensors", "clip_config.json"),
    "generator": ("generator.safetensors",),
    "encoder": ("encoder.safetensors",),
    "global_stats": ("global_stats.safetensors",),
}


def step_marker(work_dir: Path, step: str) -> Path:
    """The file a finished step leaves in the work folder."""
    return Path(work_dir) / f"{step}.done.json"


def finished_step(out_dir: Path, work_dir: Path, step: str, seed: int) -> dict | None:
    """The marker of ``step`` when it finished with this seed and its files are still there, else None."""
    marker = step_marker(work_dir, step)
    if step not in STEP_OUTPUTS or not marker.exists():
        return None
    if not all((Path(out_dir) / name).exists() for name in STEP_OUTPUTS[step]):
        return None
    record = json.loads(marker.read_text())
    return record if record.get("seed") == seed else None


def mark_finished(work_dir: Path, step: str, seed: int, seconds: float, metrics: object) -> None:
    """Write ``step``'s marker atomically (a crash leaves either no marker or a whole one)."""
    from styleclip_runtime.cache.result_cache import atomic_write_bytes

    record = {"step": step, "seed": seed, "seconds": seconds, "metrics": metrics}
    atomic_write_bytes(step_marker(work_dir, step), json.dumps(record, indent=1, default=str).encode())


def load_toon_clip(out_dir: Path):
    """The runtime's ``ClipModel`` for the toon-CLIP files in ``out_dir``."""
    from styleclip_runtime.models.clip_model import ClipModel

    config = json.loads((Path(out_dir) / "clip_config.json").read_text())
    return ClipModel.from_config(config, Path(out_dir) / "clip.safetensors")


def build_toon(out_dir: Path, seed: int = 0, work_dir: Path | None = None,
               log: Callable[[str], None] = print,
               settings: BuildSettings = BuildSettings(),
               steps: tuple[str, ...] = BUILD_STEPS, redo: bool = False) -> BuildReport:
    """Train every network of the toon set into ``out_dir`` (see the module docstring).

    ``steps`` picks which steps run; a chosen step that already finished with
    this seed is kept unless ``redo``.
    """
    from styleclip_runtime.models.checkpoints import load_generator_checkpoint
    from .train_clip import train_clip
    from .train_encoder import EncoderTraining, save_shipped_encoder, train_encoder
    from .train_generator import GeneratorTraining, save_shipped_generator, train_generator
    from .train_judge import train_judge
    from .train_judge2 import train_judge2

    out_dir = Path(out_dir)
    work = Path(work_dir) if work_dir is not None else out_dir / "work"
    out_dir.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    report = BuildReport(out_dir)

    def timed(name: str, fn: Callable[[], object]) -> object:
        earlier = None if redo else finished_step(out_dir, work, name, seed)
        if earlier is not None:
            report.seconds[name] = float(earlier["seconds"])
            log(f"[toon build] {name} kept: finished in an earlier run ({report.seconds[name]:.0f}s); "
                "--redo trains it again")
            return earlier["metrics"]
        log(f"[toon build] {name} ...")
        t0 = time.time()
        result = fn()
        report.seconds[name] = round(time.time() - t0, 1)
        if name in STEP_OUTPUTS:
            mark_finished(work, name, seed, report.seconds[name], result)
        log(f"[toon build] {name} done in {report.seconds[name]:.0f}s")
        return result

    if "judge" in steps:
        report.metrics["judge"] = timed("judge", lambda: train_judge(out_dir=out_dir, seed=seed, work_dir=work / "judge",
                                                                      **settings.judge))
    if "judge2" in steps:
        report.metrics["judge2"] = timed("judge2", lambda: train_judge2(
            out_dir=out_dir, seed=seed + 7, work_dir=work / "judge2", **settings.judge2))
    if "clip" in steps:
        report.metrics["clip"] = timed("clip", lambda: train_clip(out_dir=out_dir, seed=seed, work_dir=work / "clip",
                                                                   **settings.clip))
    g_path = out_dir / "generator.safetensors"
    if "generator" in steps:
        def generator() -> None:
            from .clip import load_clip

            gen = train_generator(work / "generator", settings.generator or GeneratorTraining(seed=seed), log,
                                  clip=load_clip(out_dir))
            save_shipped_generator(gen, g_path)

        timed("generator", generator)
        report.files["generator"] = g_path
    if "encoder" in steps:
        def encoder() -> None:
            gen, _ = load_generator_checkpoint(g_path)
            enc, avg = train_encoder(gen, work / "encoder", settings.encoder or EncoderTraining(seed=seed), log)
            save_shipped_encoder(enc, avg, out_dir / "encoder.safetensors")

        timed("encoder", encoder)
        report.files["encoder"] = out_dir / "encoder.safetensors"
    if "global_stats" in steps:
        def global_stats() -> None:
            from styleclip_runtime.execution.warm import compute_global_stats

            gen, _ = load_generator_checkpoint(g_path)
            with torch.no_grad():
                st = settings.stats
                result = compute_global_stats(gen, load_toon_clip(out_dir), st.n_samples, st.n_images, st.k)
            result.save(out_dir / "global_stats.safetensors")

        timed("global_stats", global_stats)
        report.files["global_stats"] = out_dir / "global_stats.safetensors"
    if "mappers" in steps:
        def mappers() -> None:
            from .train_mappers import SHIPPED_PROMPTS, train_toon_mappers

            gen, _ = load_generator_checkpoint(g_path)
            m = settings.mappers
            report.files.update({f"mapper:{k}": v for k, v in train_toon_mappers(
                gen.eval(), load_toon_clip(out_dir), out_dir / "mappers", m.prompts or SHIPPED_PROMPTS, m.steps,
                m.batch, m.l2, seed, log).items()})

        timed("mappers", mappers)
    from .modelset_yaml import write_toon_yaml

    try:
        report.files["yaml"] = write_toon_yaml(out_dir, seed)
        log(f"[toon build] wrote {report.files['yaml']}")
    except FileNotFoundError as exc:
        log(f"[toon build] no model-set YAML yet: {exc}")
    return report
