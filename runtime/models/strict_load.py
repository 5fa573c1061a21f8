"""Strict checkpoint loading with a report that names every problem.

``torch.nn.Module.load_state_dict(strict=True)`` stops at the first kind of
problem and mixes shape errors into a long message. Loaders of official
files want one report: which keys are missing, which are unexpected, which
have the wrong shape, and for which file. ``KeyReport`` is that report;
``load_strict`` checks it first and only then copies the tensors.

``read_checkpoint`` opens a file the safe way (``torch.load(weights_only=True)``
or safetensors) and turns "truncated", "not a checkpoint" and "pickled
objects we refuse to run" into a ``CheckpointError`` that names the file.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn


class CheckpointError(RuntimeError):
    """A checkpoint file could not be read or does not fit the network."""


Shape = tuple[int, ...]


@dataclass
class KeyReport:
    """Differences between the keys/shapes a network expects and a state dict."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, Shape, Shape]] = field(default_factory=list)  # key, expected, found

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, limit: int = 8) -> str:
        """A few lines, one per kind of problem, listing up to ``limit`` keys each."""

        def clip(items: list[str]) -> str:
            shown = ", ".join(items[:limit])
            more = len(items) - limit
            return shown + (f", ... ({more} more)" if more > 0 else "")

        lines = []
        if self.missing:
            lines.append(f"{len(self.missing)} missing key(s): {clip(self.missing)}")
        if self.unexpected:
            lines.append(f"{len(self.unexpected)} unexpected key(s): {clip(self.unexpected)}")
        if self.mismatched:
            items = [f"{k} expected {list(e)} found {list(f)}" for k, e, f in self.mismatched]
            lines.append(f"{len(self.mismatched)} mis-shaped key(s): {clip(items)}")
        return "\n".join(lines) if lines else "all keys match"


def expected_shapes(module: nn.Module) -> dict[str, Shape]:
    """Every state-dict key of ``module`` (parameters and persistent buffers) with its shape."""
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def compare_keys(expected: Mapping[str, Shape], state: Mapping[str, Any]) -> KeyReport:
    """Compare a state dict (tensors, or anything with ``.shape``) to expected shapes."""
    report = KeyReport()
    for key, shape in expected.items():
        if key not in state:
            report.missing.append(key)
            continue
        found = tuple(getattr(state[key], "shape", ()))
        if found != tuple(shape):
            report.mismatched.append((key, tuple(shape), found))
    report.unexpected = [k for k in state if k not in expected]
    return report


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor], *, what: str,
                source: str | Path | None = None, strict: bool = True) -> KeyReport:
    """Load ``state`` into ``module`` after checking every key and shape.

    With ``strict`` any difference raises ``CheckpointError`` naming ``what``
    (e.g. "e4e encoder") and ``source`` (the file). Without it, matching keys
    are loaded, mis-shaped ones skipped, and the report is returned.
    """
    report = compare_keys(expected_shapes(module), state)
    where = f" from {source}" if source is not None else ""
    if strict and not report.ok:
        raise CheckpointError(f"cannot load {what}{where}:\n{report.describe()}")
    bad = {k for k, _, _ in report.mismatched}
    usable = {k: v for k, v in state.items() if k not in bad and k not in report.unexpected}
    module.load_state_dict(usable, strict=False)
    return report


def split_prefix(state: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries of ``state`` whose key starts with ``prefix``, prefix removed."""
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def read_checkpoint(path: str | Path) -> Any:
    """Read a ``.pt``/``.pth`` (weights only) or ``.safetensors`` file on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path), device="cpu")
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch and safetensors raise many types here
        text = str(exc)
        if "central directory" in text or "unexpected EOF" in text or "truncated" in text.lower() \
                or isinstance(exc, EOFError):
            why = "the file is truncated or corrupt"
        elif "Weights only load failed" in text:
            why = "it holds pickled objects other than tensors and plain containers (refused for safety)"
        else:
            why = f"it is not a readable checkpoint ({type(exc).__name__}: {text.splitlines()[0] if text else ''})"
        raise CheckpointError(f"cannot read {path}: {why}") from exc
