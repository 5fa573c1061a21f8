"""Which synthesis path the renders of a run's results take (#21), without torch.

``$STYLECLIP_SYNTHESIS_PATH`` says it: ``fast``, ``fused-fp32`` or ``fused-bf16`` pin a path;
``measure`` (the default) takes the path measured fastest on this machine for this generator
(from ``MIN_MEASURED_SIZE`` px up; a smaller one, toon's, renders on ``fast`` unmeasured),
stored in ``<cache>/synthesis_path.json`` under ``choice_key`` (the CPU, its flags, the torch
version, the thread setting and the generator file's sha256). Measuring happens once, in the
process that first renders with no stored choice (``WarmModels.render_path``,
``models/synthesis_path.py``); every later process reads it back.

Only the renders of results take the path: what ``save``, grids, animations and ``expect`` see
(``state.render`` with ``path=``). Everything derived and cached (global statistics, mapper
training, optimization, which back-propagates) renders on ``Generator.synthesis_path``, which the
runtime leaves at ``fast``: a cached direction or mapper never depends on the machine.

The output cache's key has the path in it (``cache.keys.with_synthesis_path``), and ``resolve``
is torch-free so that a replay looks up the entry the computed run would file; when the choice is
not known yet (``measure`` with nothing stored), the replay misses and the run computes.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV = "STYLECLIP_SYNTHESIS_PATH"
PATHS = ("fast", "fused-fp32", "fused-bf16")  # models.stylegan2.SYNTHESIS_PATHS (a test checks they agree)
MEASURE = "measure"
SETTINGS = PATHS + (MEASURE,)
DEFAULT = MEASURE
CACHE_FILE = "synthesis_path.json"
# a smaller generator (toon's 64 px) renders in milliseconds on every path: measuring would cost more
# than it could save, and its results stay on the reference path (goldens stay byte-stable)
MIN_MEASURED_SIZE = 256
CPU_FLAGS = ("amx_bf16", "amx_tile", "avx512_bf16", "avx512f", "avx2", "fma")


@dataclass(frozen=True)
class RenderPath:
    """The path of a process's result renders and how it was chosen."""

    path: str
    chosen: str  # "pinned" ($STYLECLIP_SYNTHESIS_PATH), "measured" (by this process), "stored" (measured
    #             before, read back), "device" (not a CPU: fast, not measured), "small" (below
    #             MIN_MEASURED_SIZE: fast, not measured), "default" (WarmModels built by hand)
    key: str | None = None  # where the choice is stored in <cache>/synthesis_path.json

    def record(self) -> dict[str, str | None]:
        """run.json's ``synthesis`` block."""
        return {"path": self.path, "chosen": self.chosen, "key": self.key}


def setting(env: Mapping[str, str] | None = None) -> str:
    """``$STYLECLIP_SYNTHESIS_PATH`` (``measure`` when unset); any other value is a ValueError."""
    value = (os.environ if env is None else env).get(ENV, "").strip() or DEFAULT
    if value not in SETTINGS:
        raise ValueError(f"${ENV}={value!r} is not a synthesis path: use one of {', '.join(SETTINGS)}")
    return value


def cpu_flags_and_model() -> tuple[str, list[str]]:
    """The CPU's model name and which of ``CPU_FLAGS`` it has (from /proc/cpuinfo where there is one)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name" and model in ("", platform.machine(), platform.processor()):
                model = value.strip()
            elif name.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return model, [f for f in CPU_FLAGS if f in flags]


def thread_setting(env: Mapping[str, str] | None = None) -> str:
    """What sets torch's thread count, without torch: ``$OMP_NUM_THREADS``, else the CPUs this
    process may run on."""
    env = os.environ if env is None else env
    if env.get("OMP_NUM_THREADS", "").strip():
        return f"omp={env['OMP_NUM_THREADS'].strip()}"
    try:
        return f"cpus={len(os.sched_getaffinity(0))}"
    except AttributeError:  # not Linux
        return f"cpus={os.cpu_count()}"


def machine_description(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """What the fastest path depends on besides the generator: CPU, flags, torch version, threads."""
    from .manifest import torch_version

    model, flags = cpu_flags_and_model()
    return {"cpu": model, "machine": platform.machine(), "flags": flags, "torch": torch_version(),
            "threads": thread_setting(env)}


def choice_key(generator_digest: str, env: Mapping[str, str] | None = None) -> str:
    """Where this machine's choice for the generator with sha256 ``generator_digest`` is stored."""
    text = json.dumps({"machine": machine_description(env), "generator": generator_digest}, sort_keys=True)
    return "run-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def stored_choices(cache_dir: Path) -> dict:
    """The whole ``synthesis_path.json`` ({} when absent or unreadable)."""
    try:
        data = json.loads((Path(cache_dir) / CACHE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def stored_path(cache_dir: Path, key: str) -> str | None:
    """The path stored under ``key``, None when there is none (or it is not a path)."""
    entry = stored_choices(cache_dir).get(key)
    path = entry.get("path") if isinstance(entry, dict) else None
    return path if path in PATHS else None


def store(cache_dir: Path, key: str, record: dict) -> None:
    """Add ``record`` (with its ``path``) under ``key``, atomically."""
    from ..cache.result_cache import atomic_write_bytes

    data = stored_choices(cache_dir)
    data[key] = record
    atomic_write_bytes(Path(cache_dir) / CACHE_FILE, json.dumps(data, indent=2, sort_keys=True).encode())


def resolve(cache_dir: Path, generator_digest: str, env: Mapping[str, str] | None = None) -> RenderPath | None:
    """The path a run renders its results on, when it is known without measuring: pinned by the
    variable, or stored for this machine and generator; None when it must be measured."""
    wanted = setting(env)
    if wanted != MEASURE:
        return RenderPath(wanted, "pinned")
    key = choice_key(generator_digest, env)
    path = stored_path(cache_dir, key)
    return RenderPath(path, "stored", key) if path is not None else None
