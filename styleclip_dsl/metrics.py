"""The metrics that ``expect`` may test (syntax and arity; the runtime evaluates them)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .defaults import ParamSpec
from .constraints import Bound

NUMERIC_OPS: tuple[str, ...] = (">", ">=", "<", "<=", "==", "!=")
LABEL_OPS: tuple[str, ...] = ("==", "!=")


@dataclass(frozen=True)
class MetricSpec:
    """``args``: names of the positional (string) arguments; ``kwargs``: optional keywords.

    ``result`` "number" compares with any operator to a number; "label"
    compares with == / != to a string.
    """

    args: tuple[str, ...]
    result: Literal["number", "label"]
    doc: str
    kwargs: dict[str, ParamSpec] = field(default_factory=dict)


METRICS: dict[str, MetricSpec] = {
    "clip": MetricSpec(("text",), "number", "CLIP similarity of the result to the text"),
    "clip_delta": MetricSpec(("text",), "number", "change of CLIP similarity to the text from the source"),
    "id_sim": MetricSpec((), "number", "identity similarity to the source"),
    "distance": MetricSpec((), "number", "mean absolute pixel difference to the source (0..2)"),
    "psnr": MetricSpec((), "number", "PSNR to the source in dB"),
    "golden": MetricSpec(
        ("path",),
        "number",
        "mean absolute difference to a golden image, in [0, 1] units",
        {"tol": ParamSpec("number", None, Bound(low=0.0),
                          "differences of at most tol (per channel value, [0, 1] units) count as zero")},
    ),
    "attribute": MetricSpec(("family",), "label", "the attribute the judge sees (toon)"),
}
