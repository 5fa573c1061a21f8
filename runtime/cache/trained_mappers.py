"""Which prompts have a mapper trained on first use, for check-time hints, without torch.

A run on a set with ``auto_train_mappers`` trains a missing mapper and files its checkpoint in the
results cache (kind ``mapper``, under ``keys.mapper_key``), where its prompt cannot be read back
without unpickling it. So the training also files a small JSON record (kind ``mapper_prompt``,
under the same key): the prompt and the generator's digest. ``trained_prompts`` lists the records
whose mapper entry is still there (an evicted mapper is not offered), so that ``styleclip check``
knows those prompts (no ``W-new-mapper``, and did-you-mean candidates), as it knows the mappers
``styleclip train mapper`` registers. Reads only the records and checks that files exist; a local
cache folder only (an object store, ``$STYLECLIP_CACHE_STORE``, is not listed).
"""
from __future__ import annotations

import json
from pathlib import Path

from .result_cache import Cache, CacheCorrupt, _unwrap

KIND = "mapper_prompt"
MAPPER_KIND = "mapper"


def record_trained_mapper(cache: Cache, key: str, prompt: str, generator: str | None) -> None:
    """File the record of a mapper just trained for ``prompt`` on the generator with digest ``generator``
    under its checkpoint's ``key``."""
    cache.put_bytes(KIND, key, json.dumps({"prompt": prompt, "generator": generator}, sort_keys=True).encode())


def trained_prompts(results_root: Path, generator: str | None = None) -> list[str]:
    """The prompts of the mappers trained on first use in the results cache at ``results_root``, for the
    generator with digest ``generator`` (None: any), in file order; damaged records are skipped."""
    root = Path(results_root)
    folder = root / KIND
    if not folder.is_dir():
        return []
    prompts: list[str] = []
    for entry in sorted(folder.glob("*/*.entry")):
        key = entry.name[: -len(".entry")]
        if not (root / Cache._entry_name(MAPPER_KIND, key)).is_file():
            continue  # the checkpoint was evicted or cleared: a run would train again
        try:
            data = json.loads(_unwrap(entry.read_bytes()))
        except (OSError, ValueError, CacheCorrupt):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("prompt"), str):
            continue
        if generator is not None and data.get("generator") != generator:
            continue
        if data["prompt"] not in prompts:
            prompts.append(data["prompt"])
    return prompts
