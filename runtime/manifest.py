"""``run.json``: what a run did and with what, written beside its outputs.

It records the recipe text and its sha256, the plan, the model files'
sha256s, package versions, device, seed and determinism settings, and per
step the time taken and the cache hits, plus every output and expectation.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

import torch

from .cache import atomic_write_bytes

PACKAGES = ("styleclip-dsl", "torch", "open_clip_torch", "numpy", "pillow", "lark", "safetensors")


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["torch"] = torch.__version__  # includes the build (+cpu, +cu130)
    return out


def manifest_dir(outputs: list[Path], out_dir: Path) -> Path:
    if not outputs:
        return out_dir
    parents = [str(p.parent.resolve()) for p in outputs]
    return Path(os.path.commonpath(parents))


def build_manifest(plan: dict, recipe_text: str, models, report, base_dir: Path | None = None) -> dict:
    """The run record. ``base_dir`` is the folder the recipe's relative paths were read from
    (recorded so that `styleclip diff --results` can find the same images later)."""
    return {
        "format": "styleclip-dsl/run-v1",
        "recipe": {"text": recipe_text, "sha256": hashlib.sha256(recipe_text.encode()).hexdigest(),
                   "source": plan.get("source_name"),
                   "folder": str(Path(base_dir).resolve()) if base_dir is not None else None},
        "plan": plan,
        "modelset": models.name,
        "models": models.fingerprints(),
        "versions": package_versions(),
        "device": {"name": str(models.device), "platform": platform.platform(),
                   "torch_threads": torch.get_num_threads(),
                   "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "seed": int(plan.get("seed") or 0),
        "steps": report.timings,
        "cache": {"root": str(models.cache.root), "hits": models.cache.stats.hits,
                  "misses": models.cache.stats.misses, "writes": models.cache.stats.writes,
                  "by_kind": models.cache.stats.by_kind},
        "outputs": [str(p) for p in report.outputs],
        "expectations": [e.as_dict() for e in report.expectations],
        "seconds": round(report.seconds, 4),
    }


def write_manifest(plan: dict, recipe_text: str, models, report, out_dir: Path,
                   base_dir: Path | None = None) -> Path:
    path = manifest_dir(report.outputs, out_dir) / "run.json"
    data = build_manifest(plan, recipe_text, models, report, base_dir)
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode())
    return path
