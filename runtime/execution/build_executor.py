"""Building a ready-to-run executor: model set + cache + device, once per process.

Torch is imported by the functions that need it, not by this module: a run served from the output
cache (``cache_outputs``) finds the results cache through ``results_cache_dir`` without it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from styleclip_dsl.defaults import DEFAULT_MODELSET

if TYPE_CHECKING:
    import torch

    from .executor import EventSink, Executor


def pick_device(requested: str | None) -> "torch.device":
    """``cuda`` when present unless told otherwise; an unavailable request is an error."""
    import torch

    if requested in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(requested)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {requested!r} requested but CUDA is not available here")
    return dev


def results_cache_dir(modelset) -> Path:
    """The result cache of a model set (a ``ModelSet`` or its spec): ``$STYLECLIP_RESULTS_CACHE``, else
    ``<its cache dir>/results``."""
    override = os.environ.get("STYLECLIP_RESULTS_CACHE")
    if override:
        return Path(override)
    return Path(modelset.cache_dir) / "results"


def open_executor(modelset_name: str = DEFAULT_MODELSET, device: str | None = None, events: "EventSink" = lambda e: None,
                  no_cache: bool = False, notify: Callable[[str], None] | None = None) -> "Executor":
    """The executor of ``modelset_name`` on ``device``. Its results render on the synthesis path
    ``$STYLECLIP_SYNTHESIS_PATH`` names (default ``measure``: this machine's fastest for the generator,
    measured once and stored; ``render_path.py``); a value that is not a path is a ValueError."""
    import torch

    from ..cache.result_cache import Cache
    from .executor import Executor
    from ..models.modelset import ModelSet
    from .warm import WarmModels

    from .render_path import setting

    synthesis = setting()  # $STYLECLIP_SYNTHESIS_PATH, checked before anything loads
    dev = pick_device(device)
    torch.use_deterministic_algorithms(True, warn_only=True)
    ms = ModelSet.load(modelset_name)
    if hasattr(ms, "to"):
        ms = ms.to(dev) or ms
    sink = notify or (lambda m: events({"event": "notice", "message": m}))
    root = results_cache_dir(ms)
    cache = Cache(root, enabled=not no_cache, warn=lambda m: events({"event": "warning", "message": m}))
    models = WarmModels(ms, cache, dev, notify=sink, synthesis_setting=synthesis)
    return Executor(models, events)
