"""The strict-loading report shared by every checkpoint loader.

``torch.nn.Module.load_state_dict(strict=True)`` stops at the first kind of
problem and mixes shape errors into a long message. Loaders of official
files want one report: which keys are missing, which are unexpected, which
have the wrong shape. ``KeyReport`` is that report, ``compare_keys`` builds
it, ``CheckpointError`` is the base of every loading error.

Reading files safely and loading with the report live in ``checkpoints.py``
(``read_checkpoint``, ``load_state_dict_checked``, ``CheckpointMismatchError``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


def split_prefix(state: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries of ``state`` whose key starts with ``prefix``, prefix removed."""
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
