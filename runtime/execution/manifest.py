"""``run.json``: what a run did and with what, written beside its outputs.

It records the recipe text and its sha256, the plan, the model files'
sha256s, package versions, device, the synthesis path the images were rendered
on (``synthesis``), seed and determinism settings, and per step the time taken
and the cache hits, plus every output and expectation.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from ..cache.result_cache import atomic_write_bytes

PACKAGES = ("styleclip-dsl", "torch", "open_clip_torch", "numpy", "pillow", "lark", "safetensors")


def installed_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Each package's installed version ("not installed" when absent); torch's with its build
    (+cpu, +cu130), a CUDA build being another set of kernels. Torch-free."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    if "torch" in names:
        out["torch"] = torch_version()
    return out


def package_versions() -> dict[str, str]:
    return {"python": sys.version.split()[0], **installed_versions(PACKAGES)}


def torch_version() -> str:
    """``torch.__version__`` (with the build: +cpu, +cu130), read from ``torch/version.py`` when torch
    is not imported: a run served from the output cache records it without importing torch."""
    if "torch" in sys.modules:
        return sys.modules["torch"].__version__
    import importlib.util
    import re

    spec = importlib.util.find_spec("torch")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        try:
            found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", (Path(folder) / "version.py").read_text(),
                              re.MULTILINE)
        except OSError:
            continue
        if found:
            return found.group(1)
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "not installed"


def device_record(device) -> dict:
    """run.json's device block for a run that computed on ``device``."""
    import torch

    return {"name": str(device), "platform": platform.platform(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def synthesis_record(models) -> dict | None:
    """The synthesis path the run's images were rendered on and how it was chosen
    (``render_path.RenderPath.record``); None for models without one."""
    path = getattr(models, "render_path", None)
    return path.record() if path is not None else None


def manifest_dir(outputs: list[Path], out_dir: Path) -> Path:
    if not outputs:
        return out_dir
    parents = [str(p.parent.resolve()) for p in outputs]
    return Path(os.path.commonpath(parents))


def build_manifest(plan: dict, recipe_text: str, models, report, base_dir: Path | None = None,
                   device: dict | None = None) -> dict:
    """The run record. ``base_dir`` is the folder the recipe's relative paths were read from
    (recorded so that `styleclip diff --results` can find the same images later). ``device``: the
    device block when nothing ran on one (a run served from the output cache), else ``device_record``."""
    return {
        "format": "styleclip-dsl/run-v1",
        "recipe": {"text": recipe_text, "sha256": hashlib.sha256(recipe_text.encode()).hexdigest(),
                   "source": plan.get("source_name"),
                   "folder": str(Path(base_dir).resolve()) if base_dir is not None else None},
        "plan": plan,
        "modelset": models.name,
        "models": models.fingerprints(),
        "versions": package_versions(),
        "device": device if device is not None else device_record(models.device),
        "synthesis": synthesis_record(models),
        "seed": int(plan.get("seed") or 0),
        "steps": report.timings,
        "cache": {"root": str(models.cache.root), "hits": models.cache.stats.hits,
                  "misses": models.cache.stats.misses, "writes": models.cache.stats.writes,
                  "by_kind": models.cache.stats.by_kind},
        "outputs": [str(p) for p in report.outputs],
        "photos": list(getattr(report, "photos", [])),  # per inverted subject: its file, face and alignment
        "expectations": [e.as_dict() for e in report.expectations],
        "seconds": round(report.seconds, 4),
    }


def write_manifest(plan: dict, recipe_text: str, models, report, out_dir: Path,
                   base_dir: Path | None = None, device: dict | None = None) -> Path:
    path = manifest_dir(report.outputs, out_dir) / "run.json"
    data = build_manifest(plan, recipe_text, models, report, base_dir, device)
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode())
    return path
