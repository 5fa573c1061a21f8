"""What the installed model sets are called and which mapper prompts they have, for check-time hints.

``use toonz`` and ``mapper 'smiel'`` are typos the checker can catch before
anything runs, if it knows the names: the model sets ``styleclip models
list`` shows, and each set's mapper prompts (shipped in its YAML, or
trained with ``styleclip train mapper`` into ``<cache>/models/<set>/mappers/``, or trained
on first use by a run and kept in the set's results cache, as recorded there).
The judge's attribute families come from the set too (its judge config).
This reads only YAML/JSON files and folder listings (the runtime's torch-free
registry); the checker gets a ``ModelNames`` from the commands and works
without one (``api.check`` alone knows no model sets).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .defaults import DEFAULT_MODELSET
from .engines.registry import EngineDefaults


def prompt_key(prompt: str) -> str:
    """Normalised mapper prompt: "Purple hair" and "purple_hair" both give "purple_hair". The one
    definition: the runtime's registry re-exports it for mapper file names (``ModelSet.user_mapper_path``)."""
    return re.sub(r"[^a-z0-9]+", "_", prompt.lower()).strip("_")


@dataclass
class ModelNames:
    """Model-set names and, per set, mapper prompts; ``None`` where a set cannot be read."""

    modelsets: tuple[str, ...]
    default: str = DEFAULT_MODELSET
    forced: str | None = None   # `--models FILE`: the set every recipe runs on, whatever its `use` says
    _specs: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def discover(default: str | None = None, forced: str | None = None) -> "ModelNames | None":
        """The model sets this machine has (None when the registry cannot be read)."""
        try:
            from styleclip_runtime.modelsets import registry
        except Exception:  # the runtime is not installed: no model-aware checks
            return None
        try:
            names = tuple(p.stem for p in registry.available())
        except OSError:
            return None
        return ModelNames(names, default or DEFAULT_MODELSET, forced)

    def is_path(self, name: str) -> bool:
        return name.endswith((".yaml", ".yml")) or "/" in name

    def knows(self, name: str) -> bool:
        return self.is_path(name) or name in self.modelsets

    def _spec(self, modelset: str) -> Any:
        if modelset not in self._specs:
            try:
                from styleclip_runtime.modelsets import registry

                self._specs[modelset] = registry.find_spec(modelset)
            except Exception:
                self._specs[modelset] = None
        return self._specs[modelset]

    def mapper_prompts(self, modelset: str) -> list[str] | None:
        """Shipped prompts, then those trained by `styleclip train mapper` (as file stems) for the
        set's generator: the runtime looks only in ``mappers/<generator sha256, 16 hex>/``
        (``ModelSet.user_mapper_path``), so when the YAML pins the generator's digest only that
        folder counts (a mapper trained for an old generator is not used); unpinned, any folder.
        Then those a run trained on first use, for that generator, still in the results cache."""
        spec = self._spec(modelset)
        if spec is None:
            return None
        prompts = list(spec.mappers)
        known = {prompt_key(p) for p in prompts}
        trained = Path(spec.cache_dir) / "mappers"
        generator = spec.generator.file.sha256 if spec.generator is not None else None
        if trained.is_dir():
            for path in sorted(trained.glob(f"{generator[:16] if generator else '*'}/*.pt")):
                if prompt_key(path.stem) not in known:
                    prompts.append(path.stem.replace("_", " "))
                    known.add(prompt_key(path.stem))
        for prompt in _trained_on_first_use(spec, generator):
            if prompt_key(prompt) not in known:
                prompts.append(prompt)
                known.add(prompt_key(prompt))
        return prompts

    def attribute_families(self, modelset: str) -> tuple[str, ...] | None:
        """The families the set's attribute judge reads, in its order (None: the set has no judge,
        or it cannot be read); they ship with the set (``runtime/modelsets/judge_families.py``)."""
        spec = self._spec(modelset)
        if spec is None:
            return None
        try:
            from styleclip_runtime.modelsets.judge_families import judge_families
        except Exception:  # the runtime is not installed
            return None
        families = judge_families(spec)
        return None if families is None else tuple(families)

    def engine_defaults(self, modelset: str) -> EngineDefaults:
        """The set's ``engine_defaults`` (``{engine: {parameter: value}}``, checked against the
        engines' specs), which the compiler fills before the engines' own defaults; {} when the
        set has none, is not installed, or the runtime is not. Raises ValueError naming the YAML
        when the set's YAML cannot be read or its ``engine_defaults`` break a spec. Under ``--models
        FILE`` (``forced``) they are that file's, whatever the recipe's ``use`` names: the run loads it."""
        modelset = self.forced or modelset
        read = self._specs.get(modelset)
        if read is not None:  # this object read the set's YAML already (mapper prompts, families)
            return read.engine_defaults
        try:
            from styleclip_runtime.modelsets import registry
        except Exception:  # the runtime is not installed: the engines' defaults alone
            return EngineDefaults()
        path = registry.spec_path(modelset)
        if path is None or not path.is_file():
            return EngineDefaults()  # an unknown set: the checker says so when it knows the sets, the run otherwise
        stat = path.stat()
        return _engine_defaults(str(path.resolve()), stat.st_mtime_ns, stat.st_size)

    def trains_mappers(self, modelset: str) -> bool:
        """Whether a run trains a missing mapper itself (``defaults.auto_train_mappers``)."""
        spec = self._spec(modelset)
        return bool(spec is not None and spec.defaults.get("auto_train_mappers", False))


def _trained_on_first_use(spec: Any, generator: str | None) -> list[str]:
    """Prompts of the mappers a run trained on first use (``auto_train_mappers``) for the set's generator
    (any, when the YAML pins no digest) that are still in its results cache: their records, never the
    checkpoints (``styleclip_runtime.cache.trained_mappers``)."""
    try:
        from styleclip_runtime.cache.trained_mappers import trained_prompts
        from styleclip_runtime.execution.build_executor import results_cache_dir

        return trained_prompts(results_cache_dir(spec), generator)
    except Exception:  # the runtime is not installed, or the cache cannot be read: no hint from it
        return []


@functools.lru_cache(maxsize=16)
def _engine_defaults(path: str, mtime_ns: int, size: int) -> EngineDefaults:
    """One YAML's ``engine_defaults``, read once per version of the file (its mtime and size are
    in the cache key, so an edited YAML is read again)."""
    from styleclip_runtime.modelsets import registry

    return registry.read_spec(path).engine_defaults
