"""Which synthesis path is fastest on this machine: measured once, cached.

Paths (all compute the same function; see :mod:`.synthesis_fused`):

- ``fast``: the generator's own fast path in float32 (styles scale the maps);
- ``fused-fp32``: styles folded into the weights, float32 (same numbers to ~1e-5);
- ``fused-bf16``: the same in bfloat16 (PSNR >= 35 dB against float32; pays on
  CPUs with native bf16, e.g. AMX, and loses on the others).

:func:`choose_path` times each allowed path on the generator to be used (or
a random-weight one of the FFHQ shapes; interleaved rounds, the median), rejects a bf16 path whose image is below
``MIN_PSNR_DB`` against float32, and writes the choice to
``<cache>/synthesis_path.json`` under a key made of the CPU model, its
relevant flags, the torch version and thread count, and the generator's
size and shapes: a second call, or another
process on the same machine, reads it back without measuring.
"""
from __future__ import annotations

import hashlib
import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..cache.result_cache import atomic_write_bytes
from ..execution.expect_metrics import psnr
from ..execution.render_path import CACHE_FILE, CPU_FLAGS, cpu_flags_and_model  # noqa: F401 (re-exported)
from .stylegan2 import SYNTHESIS_PATHS as PATHS

MIN_PSNR_DB = 35.0
MEASURE_SIZE = 256
MEASURE_ROUNDS = 3


@dataclass(frozen=True)
class PathChoice:
    """The chosen path, the key it is stored under and what was measured."""

    path: str
    key: str
    seconds: dict[str, float]  # median s/img per measured path
    psnr_bf16: float | None  # fused-bf16 against float32, when measured
    size: int  # the generator size measured
    measured_at: str


def cpu_description() -> dict[str, object]:
    """CPU model, the flags that decide the path, torch version and threads."""
    model, flags = cpu_flags_and_model()
    return {"cpu": model, "machine": platform.machine(), "flags": flags,
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def machine_key(description: dict[str, object] | None = None) -> str:
    desc = cpu_description() if description is None else description
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    from ..modelsets.registry import cache_root

    return cache_root()


def render(generator: torch.nn.Module, styles: list[torch.Tensor], noise: list, path: str) -> torch.Tensor:
    """One synthesis on ``path`` (inference), as a run would do it (``Generator.synthesize``)."""
    with torch.inference_mode():
        return generator.synthesize(styles, noise=noise, path=path)


def measure_paths(paths: tuple[str, ...] = PATHS, size: int = MEASURE_SIZE, rounds: int = MEASURE_ROUNDS,
                  generator: torch.nn.Module | None = None) -> tuple[dict[str, float], float | None]:
    """Median s/img of each path at batch 1 (one warm-up, ``rounds`` interleaved
    rounds) and fused-bf16's PSNR against the float32 fast path (None if not run),
    on ``generator`` or, without one, random weights of the FFHQ shapes at ``size`` (drawn from
    seed 0 without touching the caller's global RNG)."""
    from .stylegan2 import Generator

    if generator is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            g = Generator(size, 512, 8, channel_multiplier=2).eval()
    else:
        g = generator
    with torch.inference_mode():
        z = torch.randn(1, g.style_dim, generator=torch.Generator().manual_seed(1))
        styles = g.styles(g.mapping(z.to(g.input.input.device, g.input.input.dtype)))
    noise = g.noise_inputs(1)
    images = {p: render(g, styles, noise, p) for p in paths}  # warm-up (caches weights)
    times: dict[str, list[float]] = {p: [] for p in paths}
    for _ in range(rounds):
        for p in paths:
            start = time.perf_counter()
            render(g, styles, noise, p)
            times[p].append(time.perf_counter() - start)
    quality = None
    if "fused-bf16" in images:
        ref = images["fast"] if "fast" in images else render(g, styles, noise, "fast")
        quality = float(psnr(images["fused-bf16"].float(), ref.float()).min())
    return {p: statistics.median(t) for p, t in times.items()}, quality


def _read(file: Path) -> dict:
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def choose_path(allow_bf16: bool = True, cache_dir: Path | None = None, size: int = MEASURE_SIZE,
                rounds: int = MEASURE_ROUNDS, generator: torch.nn.Module | None = None,
                key: str | None = None) -> PathChoice:
    """The fastest path on this machine for ``generator``'s shapes (or the FFHQ
    shapes at ``size``), from the cache or measured once and cached (which path
    wins depends on the size: at 256 px ``fast`` fp32 can beat ``fused-fp32``).
    ``allow_bf16=False`` keeps to the float32 paths (a separate cache entry). ``key``: store the
    choice under this key instead (the runtime's torch-free ``render_path.choice_key``)."""
    file = Path(cache_dir if cache_dir is not None else default_cache_dir()) / CACHE_FILE
    if generator is not None:
        size = generator.config.size
        shapes = json.dumps(generator.config.to_dict(), sort_keys=True)
    else:
        shapes = json.dumps({"size": size, "ffhq": True})
    shape_key = hashlib.sha256(shapes.encode()).hexdigest()[:8]
    key = key or f"{machine_key()}-{size}px-{shape_key}-{'bf16' if allow_bf16 else 'fp32'}"
    stored = _read(file).get(key)
    if isinstance(stored, dict) and stored.get("path") in PATHS:
        try:
            return PathChoice(**{name: stored[name] for name in PathChoice.__dataclass_fields__})
        except (KeyError, TypeError):
            pass  # a record of another shape: measure again
    paths = PATHS if allow_bf16 else tuple(p for p in PATHS if p != "fused-bf16")
    seconds, quality = measure_paths(paths, size, rounds, generator)
    eligible = [p for p in paths if p != "fused-bf16" or (quality is not None and quality >= MIN_PSNR_DB)]
    best = min(eligible, key=lambda p: seconds[p])
    choice = PathChoice(best, key, seconds, quality, size, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    data = _read(file)
    data[key] = asdict(choice) | {"machine": cpu_description()}
    atomic_write_bytes(file, json.dumps(data, indent=2, sort_keys=True).encode())
    return choice
