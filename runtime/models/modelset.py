"""``ModelSet``: the networks of one model set, each loaded once, on first use.

The YAML side (schema, cache folder, verification) is the torch-free
``styleclip_runtime.modelsets.registry``; this module turns a spec into
networks. A ``ModelSet`` owns its loaded models (its only state) and loads
each on first access of its property:

- ``generator``: ``Generator`` (through ``load_generator_checkpoint``);
- ``latent_avg``: the generator's average W as (n_latent, style_dim): the
  checkpoint's ``latent_avg`` when it has one, else ``mean_latent()``;
- ``encoder``: an ``Inverter`` (e4e + the encoder file's own ``latent_avg``),
  image -> W+ ready to render; None when the set has no encoder;
- ``clip``: ``ClipModel``; ``identity``: ``IdentityNet`` or None;
- ``judge``: the toon attribute judge or None.

A missing file raises ``MissingModelFile`` with where to put it and its URL;
a file whose bytes do not match the sha256 its YAML pins raises
``ModelFileMismatch`` naming it (checked on first use per process, remembered
by size, mtime and inode: ``modelsets/verified.py``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..modelsets import registry
from ..modelsets.registry import ComponentSpec, FileSpec, ModelSetSpec, MissingModelFile
from ..modelsets import verified
from ..modelsets.verified import DigestRecord, ModelFileMismatch, check_file

# ``defaults.global_stats`` of a set whose YAML leaves them out (toon.yaml asks for 100 images per channel,
# the published N; the default stays 16 so that statistics already cached keep their key)
GLOBAL_STATS_DEFAULTS: dict[str, float] = {"n_samples": 20000, "n_images": 16, "k": 5.0}
DEFAULT_OPTIMIZE_BATCH = 16  # ``defaults.optimize_batch`` of a set that does not say


class ModelSet:
    """Lazily loaded networks of a model set (see the module docstring)."""

    def __init__(self, spec: ModelSetSpec, device: str | torch.device = "cpu",
                 clip_store: Any | None = None, env: dict[str, str] | None = None) -> None:
        self.spec = spec
        self.device = torch.device(device)
        self.clip_store = clip_store
        self._env = env
        self._loaded: dict[str, Any] = {}
        self._digests = DigestRecord.for_cache(env)

    @classmethod
    def load(cls, name_or_path: str | Path, device: str | torch.device = "cpu",
             clip_store: Any | None = None, env: dict[str, str] | None = None) -> "ModelSet":
        """A set by name (built-in or in ``<cache>/modelsets``) or by YAML path. Loads no weights yet."""
        return cls(registry.find_spec(name_or_path, env), device=device, clip_store=clip_store, env=env)

    # -- identity of the set ---------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def cache_dir(self) -> Path:
        return registry.models_dir(self.spec.name, self._env)

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.spec.defaults)

    def path(self, f: FileSpec) -> Path:
        """Resolved path of one file of the set (``MissingModelFile`` when absent), checked against
        the sha256 and size the YAML pins (``ModelFileMismatch`` when its bytes differ)."""
        path = registry.resolve(self.spec, f, self._env)
        if f.sha256 or f.size is not None:
            check_file(f, path, self._digests.sha256(path), self.name)
        return path

    def _component(self, name: str) -> ComponentSpec:
        comp = self.spec.component(name)
        if comp is None:
            raise KeyError(f"model set '{self.name}' has no {name}")
        return comp

    def _once(self, key: str, build: Any) -> Any:
        if key not in self._loaded:
            self._loaded[key] = build()
        return self._loaded[key]

    # -- networks --------------------------------------------------------------------------------
    @property
    def generator(self) -> torch.nn.Module:
        return self._once("generator", self._load_generator)[0]

    def _load_generator(self) -> tuple[torch.nn.Module, torch.Tensor | None]:
        from .stylegan2 import GeneratorConfig, load_generator_checkpoint

        comp = self._component("generator")
        config = GeneratorConfig(**comp.config) if comp.config else None
        generator, latent_avg = load_generator_checkpoint(self.path(comp.file), device=self.device, config=config)
        for p in generator.parameters():
            p.requires_grad_(False)
        return generator, latent_avg

    @property
    def latent_avg(self) -> torch.Tensor:
        def build() -> torch.Tensor:
            generator, stored = self._once("generator", self._load_generator)
            n, d = generator.config.n_latent, generator.config.style_dim
            if stored is None:
                with torch.no_grad():
                    stored = generator.mean_latent()
            stored = stored.detach().to(self.device, torch.float32).reshape(-1, d)
            return stored.expand(n, d).clone() if stored.shape[0] == 1 else stored

        return self._once("latent_avg", build)

    @property
    def encoder(self) -> torch.nn.Module | None:
        if self.spec.encoder is None:
            return None

        def build() -> torch.nn.Module:
            from .e4e import E4EConfig, Inverter, load_e4e_checkpoint

            comp = self.spec.encoder
            config = E4EConfig(**comp.config) if comp.config else None
            encoder, latent_avg, _ = load_e4e_checkpoint(self.path(comp.file), config=config)
            for p in encoder.parameters():
                p.requires_grad_(False)
            return Inverter(encoder, latent_avg).to(self.device).eval()

        return self._once("encoder", build)

    @property
    def clip(self) -> Any:
        def build() -> Any:
            from .clip_model import ClipModel

            comp = self._component("clip")
            path = self.path(comp.file)
            if comp.arch:
                return ClipModel.from_open_clip(comp.arch, path, device=self.device, store=self.clip_store,
                                                fingerprint=comp.file.sha256)
            return ClipModel.from_config(comp.config, path, device=self.device, store=self.clip_store)

        return self._once("clip", build)

    @property
    def identity(self) -> torch.nn.Module | None:
        if self.spec.identity is None:
            return None

        def build() -> torch.nn.Module:
            from .arcface import load_arcface_checkpoint

            return load_arcface_checkpoint(self.path(self.spec.identity.file)).to(self.device)

        return self._once("identity", build)

    @property
    def judge(self) -> Any | None:
        if self.spec.judge is None:
            return None

        def build() -> Any:
            import json

            from .judge import JudgeConfig, load_judge

            raw = dict(self.spec.judge.config)
            # an empty config means: the judge_config.json beside the weights
            config = JudgeConfig.from_json(json.dumps(raw)) if raw else None
            judge = load_judge(self.path(self.spec.judge.file), config)
            return judge.to(self.device) if hasattr(judge, "to") else judge

        return self._once("judge", build)

    @property
    def judges(self) -> list[tuple[str, Any]]:
        """Every attribute judge of the set, by role (``judge``, then ``judge2`` when the set has a second):
        ``expect attribute`` passes only where they all agree. Their families must be the same."""
        out = [("judge", self.judge)] if self.judge is not None else []
        if self.spec.judge2 is not None:
            def build() -> Any:
                import json

                from .judge import JudgeConfig, load_judge

                raw = dict(self.spec.judge2.config)
                config = JudgeConfig.from_json(json.dumps(raw)) if raw else None
                judge = load_judge(self.path(self.spec.judge2.file), config)
                return judge.to(self.device) if hasattr(judge, "to") else judge

            second = self._once("judge2", build)
            first = out[0][1].config.families if out else None
            if first is not None and dict(second.config.families) != dict(first):
                raise ValueError(f"model set '{self.name}': judge2 reads other attribute families than judge "
                                 f"({', '.join(second.config.families)} against {', '.join(first)})")
            out.append(("judge2", second))
        return out

    # -- other files ----------------------------------------------------------------------------
    def mapper_path(self, prompt: str) -> Path | None:
        """The mapper file for ``prompt`` (case and spacing/underscores ignored); None if the set has none."""
        key = registry.prompt_key(prompt)
        for text, f in self.spec.mappers.items():
            if registry.prompt_key(text) == key:
                return self.path(f)
        return None

    def mapper_prompts(self) -> list[str]:
        return list(self.spec.mappers)

    def user_mapper_path(self, prompt: str) -> Path:
        """Where `styleclip train mapper` registers a mapper for this set's generator and a prompt:
        ``<cache>/models/<set>/mappers/<generator sha256, 16 hex>/<prompt>.pt`` (it may not exist).

        A mapper is trained for one generator's W space, so the folder is the generator's digest: a
        set whose generator changes under the same name (a `zoo build`, an edited YAML) does not
        find the mappers trained for the old one."""
        generator = self.fingerprints().get("generator", "no-generator")[:16]
        return Path(self.cache_dir) / "mappers" / generator / f"{registry.prompt_key(prompt)}.pt"

    def global_stat_path(self, key: str) -> Path | None:
        """Path of a precomputed file (``s_mean_std``, ``fs3``); None if the set has none."""
        f = self.spec.global_stats.get(key)
        return self.path(f) if f is not None else None

    def shipped_global_stats(self) -> dict[str, Path]:
        """The global-direction statistics files present on this machine that the runtime uses as they
        are: ``{"stats": ...}`` (this project's format), or ``{"s_mean_std": ..., "fs3": ...}`` (the
        official pair); empty when they must be computed."""
        present = {}
        for key in ("stats", "s_mean_std", "fs3"):
            try:
                path = self.global_stat_path(key)
            except MissingModelFile:
                path = None
            if path is not None:
                present[key] = path
        if "stats" in present:
            return {"stats": present["stats"]}
        return {k: present[k] for k in ("s_mean_std", "fs3")} if {"s_mean_std", "fs3"} <= set(present) else {}

    def global_stats_settings(self) -> tuple[int, int, float]:
        """(samples, images per channel, k) for computing the statistics (``defaults.global_stats``)."""
        settings = {**GLOBAL_STATS_DEFAULTS, **(self.spec.defaults.get("global_stats") or {})}
        return int(settings["n_samples"]), int(settings["n_images"]), float(settings["k"])

    def optimize_batch_size(self) -> int:
        """Subjects optimized together at first (``defaults.optimize_batch``; halved on out-of-memory)."""
        return int(self.spec.defaults.get("optimize_batch", DEFAULT_OPTIMIZE_BATCH))

    # -- fingerprints and devices ------------------------------------------------------------
    def fingerprints(self) -> dict[str, str]:
        """sha256 of every file by role (``verified.fingerprints``: of the bytes when present)."""
        return verified.fingerprints(self.spec, self._digests, self._env)

    def to(self, device: str | torch.device) -> "ModelSet":
        """Move every loaded network (and later loads) to ``device``."""
        self.device = torch.device(device)
        for key, value in list(self._loaded.items()):
            if key == "generator":
                g, avg = value
                self._loaded[key] = (g.to(self.device), None if avg is None else avg.to(self.device))
            elif isinstance(value, torch.Tensor):
                self._loaded[key] = value.to(self.device)
            elif hasattr(value, "to"):
                moved = value.to(self.device)
                self._loaded[key] = moved if moved is not None else value
        return self

    def loaded(self) -> list[str]:
        """Names of the networks loaded so far."""
        return list(self._loaded)

    def __repr__(self) -> str:
        return f"ModelSet({self.name!r}, device={self.device}, loaded={self.loaded()})"


__all__ = ["ModelSet", "MissingModelFile", "ModelFileMismatch"]
