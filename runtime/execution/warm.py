"""Warm models: one model set loaded once per process, plus the expensive
things derived from it (global statistics, directions, mappers, text
embeddings), memoised in memory and in the on-disk cache.

The executor and the REPL share one ``WarmModels``; nothing here knows about
recipe syntax.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import torch

from .batching import AdaptiveBatch
from ..cache.result_cache import Cache
from ..cache.keys import STATS_SEED, direction_key, mapper_key, stats_identity, stats_key
from ..cache.trained_mappers import record_trained_mapper
from ..engines import global_directions as gd
from ..engines import keep as keep_engine
from ..engines import mapper as mapper_engine
from .errors import StepError
from . import render_path
from .render_path import MEASURE, SETTINGS, RenderPath
from .memory_estimate import backward_estimate, format_bytes


class WarmModels:
    def __init__(self, modelset, cache: Cache, device: str | torch.device = "cpu",
                 notify: Callable[[str], None] = lambda m: None, synthesis_setting: str | None = None) -> None:
        """``synthesis_setting``: how the results' renders choose their synthesis path (a path, or
        ``measure``: ``render_path.py``; ``open_executor`` passes ``$STYLECLIP_SYNTHESIS_PATH``);
        None (models built by hand: evaluations, tests) renders on ``fast``."""
        if synthesis_setting is not None and synthesis_setting not in SETTINGS:
            raise ValueError(f"synthesis_setting must be one of {SETTINGS}, got {synthesis_setting!r}")
        self.modelset = modelset
        self.cache = cache
        self.device = torch.device(device)
        self.notify = notify
        self._mean_latent: torch.Tensor | None = None
        self._stats: gd.GlobalStats | None = None
        self._directions: dict[tuple, gd.Direction] = {}
        self._mappers: dict[str, torch.nn.Module] = {}
        self._text: dict[str, torch.Tensor] = {}
        self._text_directions: dict[tuple[str, str], torch.Tensor] = {}
        self._fps: dict[str, str] | None = None
        self._style_std: list[torch.Tensor] | None = None
        # subjects optimised together; halves on out-of-memory and stays halved for the session
        self.optimize_batch = AdaptiveBatch(modelset.optimize_batch_size(), notify)
        self.free_device_memory: Callable[[], int | None] = self._free_cuda_memory
        self._batch_fitted = False
        self._synthesis_setting = synthesis_setting
        self._render_path: RenderPath | None = None

    # -- device memory ---------------------------------------------------------------
    def _free_cuda_memory(self) -> int | None:
        """Free bytes on this session's CUDA device; None on other devices."""
        if self.device.type != "cuda" or not torch.cuda.is_available():
            return None
        return int(torch.cuda.mem_get_info(self.device)[0])

    def fit_optimize_batch(self) -> None:
        """Before the first optimization: start its chunks at what the free device memory holds by
        the estimate (``memory_estimate``, with a fifth kept for what it leaves out), rather than
        running out of memory to find out. Once per session; no-op where the free memory is unknown
        (the CPU). Out-of-memory halving still applies after it."""
        if self._batch_fitted:
            return
        self._batch_fitted = True
        free = self.free_device_memory()
        estimate = backward_estimate(self.modelset, 1) if free is not None else None
        if estimate is None or not estimate.per_image:
            return
        fits = max(1, int(0.8 * free) // estimate.per_image)
        if fits < self.optimize_batch.size:
            self.notify(f"optimization in chunks of {fits}: {format_bytes(free)} of free device memory holds "
                        f"about {fits} images at {format_bytes(estimate.per_image)} each")
            self.optimize_batch.size = fits

    # -- the networks -----------------------------------------------------------
    @property
    def name(self) -> str:
        return self.modelset.name

    @property
    def generator(self):
        return self.modelset.generator

    @property
    def encoder(self):
        return self.modelset.encoder

    @property
    def encoder_input_size(self) -> int:
        return int(self.modelset.encoder.input_size)

    @property
    def clip(self):
        return self.modelset.clip

    @property
    def identity(self):
        return self.modelset.identity

    @property
    def judge(self):
        return self.modelset.judge

    @property
    def judges(self) -> list[tuple[str, object]]:
        """(role, judge) of every attribute judge of the set (``ModelSet.judges``)."""
        return self.modelset.judges

    # -- the synthesis path of the results' renders (render_path.py) ---------------------
    @property
    def render_path(self) -> RenderPath:
        """Chosen on first use, once per process: pinned, read back for this machine and generator,
        or measured now (on a CPU; another device takes ``fast``) and stored for the next process."""
        if self._render_path is None:
            self._render_path = self._choose_render_path()
        return self._render_path

    @property
    def synthesis_path(self) -> str:
        """The path ``state.render`` takes for results (saves, grids, animations, expectations)."""
        return self.render_path.path

    def _choose_render_path(self) -> RenderPath:
        if self._synthesis_setting is None:
            return RenderPath("fast", "default")
        if self._synthesis_setting != MEASURE:
            return RenderPath(self._synthesis_setting, "pinned")
        from ..modelsets.registry import cache_root

        folder = cache_root(getattr(self.modelset, "_env", None))
        digest = self.fingerprints().get("generator", "")
        key = render_path.choice_key(digest)
        stored = render_path.stored_path(folder, key)
        if self.device.type != "cpu":  # the fused paths are measured for CPUs (bench/gpu_check.sh: GPUs)
            if stored is None:  # what a replay on this machine then looks up
                render_path.store(folder, key, {"path": "fast", "reason": f"device {self.device.type}: not measured"})
            return RenderPath("fast", "device", key)
        if stored is not None and not render_path.stored_choices(folder)[key].get("reason"):
            return RenderPath(stored, "stored", key)
        size = self.generator.config.size
        if size < render_path.MIN_MEASURED_SIZE:
            if stored is None:  # what a replay on this machine then looks up
                render_path.store(folder, key, {"path": "fast", "reason": f"{size} px: below "
                                                f"{render_path.MIN_MEASURED_SIZE} px, not measured"})
            return RenderPath("fast", "small", key)
        from ..models.synthesis_path import choose_path

        self.notify("choosing the fastest synthesis path for this machine and generator (once; "
                    f"{render_path.ENV} pins one)")
        choose_path(generator=self.generator, cache_dir=folder, key=key)
        return RenderPath(render_path.stored_path(folder, key) or "fast", "measured", key)

    def fingerprints(self) -> dict[str, str]:
        if self._fps is None:
            self._fps = dict(self.modelset.fingerprints())
        return self._fps

    def mean_latent(self) -> torch.Tensor:
        if self._mean_latent is None:
            with torch.no_grad():
                self._mean_latent = self.generator.mean_latent()
        return self._mean_latent

    @torch.no_grad()
    def invert(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] at the encoder's input size -> W+ codes (the
        model set's encoder is an ``Inverter``: e4e codes + its latent_avg)."""
        if self.encoder is None:
            raise RuntimeError(f"model set '{self.name}' has no encoder: it cannot invert images")
        return self.encoder(images.to(self.device))

    # -- text ------------------------------------------------------------------------
    def text_embedding(self, text: str) -> torch.Tensor:
        if text not in self._text:
            with torch.no_grad():
                self._text[text] = self.clip.encode_text([text])[0].float()
        return self._text[text]

    def text_direction(self, text: str, neutral: str) -> torch.Tensor:
        """``gd.text_direction`` (79 templates each side), memoised: every sweep variant and every
        direction or optimization that keeps ``text`` asks for it again."""
        key = (text, neutral)
        if key not in self._text_directions:
            with torch.no_grad():
                self._text_directions[key] = gd.text_direction(self.clip, text, neutral).float()
        return self._text_directions[key]

    def edit_target(self, text: str, neutral: str, keep: tuple[str, ...] = ()) -> torch.Tensor:
        """CLIP's target for an optimization toward ``text``: its embedding, made orthogonal to
        each kept text's direction from ``neutral`` when ``keep`` names any (``keep.conditional_target``)."""
        return keep_engine.conditional_target(self.clip, self.text_embedding(text), keep, neutral,
                                              self.text_direction)

    # -- global directions -------------------------------------------------------------
    def global_stats(self) -> gd.GlobalStats:
        if self._stats is not None:
            return self._stats
        shipped = self.modelset.shipped_global_stats()
        if shipped:
            self._stats = _load_shipped_stats(shipped, self.generator.layout)
            return self._stats
        from .explain import missing_stats_files
        from ..modelsets.registry import MissingModelFile

        missing = missing_stats_files(self.modelset)  # listed in the YAML: fetched, never recomputed
        if missing:
            raise MissingModelFile("\n".join(missing))
        n_samples, n_images, k = self.modelset.global_stats_settings()
        fps = self.fingerprints()
        key = stats_key(fps, n_samples, n_images, k)

        def compute() -> bytes:
            self.notify(f"computing global-direction statistics for '{self.name}' "
                        f"({n_samples} samples, {n_images} images per channel); this runs once")
            return compute_global_stats(self.generator, self.clip, n_samples, n_images, k,
                                        cache=self.cache, key=key).to_bytes()

        self._stats, _ = self.cache.get_or_compute("global-stats", key, compute, gd.GlobalStats.from_bytes)
        return self._stats

    def stats_identity(self) -> str:
        """Which global-direction statistics this set uses (``cache_keys.stats_identity``)."""
        return stats_identity(self.fingerprints(), *self.modelset.global_stats_settings())

    def style_std(self) -> list[torch.Tensor]:
        """Per style layer (C,): the StyleSpace stds, from the global-direction statistics when the
        set ships them, else from 10,000 sampled codes (mapping and affines only: seconds). Never
        from statistics that happen to be cached: a result must not depend on what ran before."""
        if self._style_std is None:
            if self.modelset.shipped_global_stats():
                self._style_std = list(self.global_stats().std)
            else:
                with torch.no_grad():
                    self._style_std = gd.compute_style_stats(self.generator, n=10_000)[1]
        return self._style_std

    def style_std_identity(self) -> str:
        """Where ``style_std`` comes from, for the keys of results that depend on it."""
        return self.stats_identity() if self.modelset.shipped_global_stats() else "sampled-10000-seed-5"

    def direction(self, text: str, neutral: str, beta: float,
                  keep: tuple[str, ...] = ()) -> tuple[gd.Direction, bool]:
        """The global direction neutral -> ``text`` at threshold ``beta``; with ``keep``, made
        orthogonal to the relevance of each kept text (from the same neutral) before the
        threshold (``gd.relevance_without``)."""
        memo_key = (text, neutral, beta, keep)
        if memo_key in self._directions:
            return self._directions[memo_key], True
        fps = self.fingerprints()
        key = direction_key(fps, text, neutral, beta, self.stats_identity(), keep)

        def compute() -> bytes:
            stats = self.global_stats()
            with torch.no_grad():
                rel = gd.relevance(stats.fs3, self.text_direction(text, neutral).cpu())
                kept = [gd.relevance(stats.fs3, self.text_direction(k, neutral).cpu()) for k in keep]
            rel = gd.relevance_without(rel, kept)
            return gd.direction_from_relevance(rel, self.generator.layout, stats.std, beta, text).to_bytes()

        direction, hit = self.cache.get_or_compute("direction", key, compute, gd.Direction.from_bytes)
        self._directions[memo_key] = direction
        return direction, hit

    # -- mappers ---------------------------------------------------------------------
    def mapper(self, text: str, step: dict | None, notify: Callable[[str], None],
               progress=None, should_stop=None, training: mapper_engine.MapperTraining | None = None):
        if text in self._mappers:
            return self._mappers[text]
        from ..models.mapper import load_mapper_checkpoint

        path = self.modelset.mapper_path(text) or self.user_mapper_path(text, must_exist=True)
        if path is not None:
            mapper = load_mapper_checkpoint(path)
        elif self.modelset.defaults.get("auto_train_mappers", False):
            mapper = self._trained_mapper(text, notify, progress, should_stop, training)
        else:
            raise StepError(
                f"model set '{self.name}' has no mapper for {text!r}", step,
                hint=f"train one with `styleclip train mapper {text!r} --models {self.name}`, or add the "
                     f"official checkpoint under `mappers:` in the model set's YAML")
        mapper = mapper.to(self.device).eval()
        self._mappers[text] = mapper
        return mapper

    def user_mapper_path(self, text: str, must_exist: bool = False) -> Path | None:
        """``ModelSet.user_mapper_path``; with ``must_exist``, None when no mapper was trained there."""
        path = self.modelset.user_mapper_path(text)
        return path if (path.exists() or not must_exist) else None

    def _trained_mapper(self, text, notify, progress, should_stop, training):
        from ..engines.mapper import train_mapper
        from ..models.mapper import load_mapper_checkpoint, save_mapper_checkpoint

        cfg = training or mapper_engine.MapperTraining.from_defaults(self.modelset.defaults)
        fps = self.fingerprints()
        key = mapper_key(fps, text, cfg.as_opts(text))

        def compute() -> bytes:
            notify(f"no mapper for {text!r} in '{self.name}': training one now ({cfg.steps} steps); "
                   f"it is cached for next time")
            mapper, metrics = train_mapper(
                self.generator, self.clip, text, cfg, identity=self.identity,
                progress=(lambda d, t, m: progress(d, t, f"clip {m['clip']:.3f}")) if progress else None,
                should_stop=should_stop, style_std=self.style_std() if cfg.smooth else None)
            if should_stop and should_stop():
                from .errors import Interrupted
                raise Interrupted()
            # its prompt, readable without torch: `styleclip check` knows the mapper (cache/trained_mappers.py)
            record_trained_mapper(self.cache, key, text, fps.get("generator"))
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "mapper.pt"
                save_mapper_checkpoint(mapper, path, cfg.as_opts(text))
                return path.read_bytes()

        def decode(payload: bytes):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "mapper.pt"
                path.write_bytes(payload)
                return load_mapper_checkpoint(path)

        mapper, _ = self.cache.get_or_compute("mapper", key, compute, decode)
        return mapper


def _load_shipped_stats(shipped: dict[str, Path], layout) -> gd.GlobalStats:
    """The set's own statistics file, or the official ``S_mean_std`` + ``fs3`` pair; a file that
    cannot be read is a ValueError naming it."""
    key = "stats" if "stats" in shipped else "s_mean_std"
    try:
        if key == "stats":  # our own format: means, stds and fs3 in one safetensors file
            return gd.GlobalStats.load(shipped["stats"])
        mean, std = gd.load_official_s_mean_std(shipped["s_mean_std"], layout)
        key = "fs3"
        fs3 = gd.load_official_fs3(shipped["fs3"], layout)
        return gd.GlobalStats(mean, std, fs3, {"source": "official files"})
    except Exception as exc:
        from ..io.safe_pickle import first_line

        message = first_line(exc)
        if str(shipped[key]) not in message:
            message = f"{shipped[key]}: cannot read the global-direction statistics ({exc.__class__.__name__}: {message})"
        raise ValueError(message) from exc


def compute_global_stats(generator, clip, n_samples: int, n_images: int, k: float, seed: int = STATS_SEED,
                         cache: Cache | None = None, key: str | None = None,
                         progress=None) -> gd.GlobalStats:
    """Means/stds and fs3, resumable layer by layer through the cache."""
    mean, std = gd.compute_style_stats(generator, n=n_samples, seed=seed)
    partial: dict[int, torch.Tensor] = {}
    if cache is not None and key is not None:
        from safetensors.torch import load as st_load

        partial = cache.get("global-partial", key,
                            lambda blob: {int(k_[1:]): v for k_, v in st_load(blob).items()}) or {}

    def checkpoint(layer: int, rows: torch.Tensor) -> None:
        partial[layer] = rows
        if cache is not None and key is not None:
            from safetensors.torch import save as st_save

            cache.put_bytes("global-partial", key, st_save({f"l{i}": t.contiguous() for i, t in partial.items()}))

    with torch.no_grad():
        fs3 = gd.compute_relevance(generator, clip, mean, std, n_images=n_images, k=k, seed=seed,
                                   partial=partial, on_layer_done=checkpoint, progress=progress)
    return gd.GlobalStats(mean, std, fs3, {"n_samples": n_samples, "n_images": n_images, "k": k, "seed": seed})
