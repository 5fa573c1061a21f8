"""The evaluation protocol of toon edits: three disjoint subject sets, defined once.

An edit setting is chosen on one set of subjects and reported on another, so
that a figure is not the result of tuning on the very faces it is measured on:

- ``TUNING``: the subjects settings were searched on, and the engine tests'
  fixed subjects (``tests/runtime/engines/test_toon_effects.py``). It is the
  stream every figure before the protocol came from (seed 1234).
- ``VALIDATION``: for choosing between settings (``edit_eval --set
  validation``), e.g. per-set engine defaults.
- ``REPORT``: scored only by ``edit_eval --report``, at the settings the docs
  claim and at plain defaults, once per change of weights or settings; the
  table in docs/toon.md comes from it and from nothing else. At least
  ``REPORT_MIN_SUBJECTS`` subjects per prompt, each lacking the prompt's
  target before the edit.

A set is a stream of seeded W+ codes (``sample_wplus``: z from a torch
generator seeded with the set's seed, truncated at psi 0.7 toward the mean
latent of the same seed); ``pool`` codes are drawn and, per prompt, the
first subjects on which neither judge sees the target are used. The sets are
disjoint: their seeds differ, and ``z_overlap`` checks no z is shared.

Every figure carries a Wilson 95 % interval (``wilson``): with 64 subjects a
measured 0.80 is compatible with 0.69-0.88.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SubjectSet:
    """A named stream of seeded generator samples."""

    name: str
    seed: int           # the torch generator seed of z (and of the truncation's mean latent)
    pool: int           # how many codes are drawn; subjects lacking a target are taken from these, in order
    truncation: float = 0.7

    def z(self, style_dim: int) -> torch.Tensor:
        """The pool's z, as ``sample_wplus`` draws them (before the mapping network)."""
        return torch.randn(self.pool, style_dim, generator=torch.Generator().manual_seed(self.seed))


TUNING = SubjectSet("tuning", seed=1234, pool=512)
VALIDATION = SubjectSet("validation", seed=20_251, pool=512)
REPORT = SubjectSet("report", seed=90_017, pool=768)
SETS: dict[str, SubjectSet] = {s.name: s for s in (TUNING, VALIDATION, REPORT)}
REPORT_MIN_SUBJECTS = 64

SUCCESS_BAR = 0.80
KEPT_BAR = 0.85
Z95 = 1.959964


def z_overlap(a: SubjectSet, b: SubjectSet, style_dim: int = 128) -> int:
    """How many z of ``a``'s pool also occur in ``b``'s (0 for disjoint sets)."""
    rows_b = {row.numpy().tobytes() for row in b.z(style_dim)}
    return sum(row.numpy().tobytes() in rows_b for row in a.z(style_dim))


@dataclass(frozen=True)
class Interval:
    """A share with its Wilson 95 % interval: ``hits`` of ``n``."""

    hits: int
    n: int
    low: float
    high: float

    @property
    def share(self) -> float:
        return self.hits / self.n if self.n else float("nan")

    def text(self) -> str:
        """E.g. ``0.84 (0.73-0.91)``."""
        if not self.n:
            return "-"
        return f"{self.share:.2f} ({self.low:.2f}-{self.high:.2f})"


def wilson(hits: int, n: int, z: float = Z95) -> Interval:
    """The Wilson score interval of ``hits`` successes in ``n`` trials (95 % by default)."""
    if n <= 0:
        return Interval(hits, n, 0.0, 1.0)
    if not 0 <= hits <= n:
        raise ValueError(f"{hits} successes of {n} trials")
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(hits, n, max(0.0, centre - half), min(1.0, centre + half))
