"""One parameter's type, default, constraint and doc, as data (engines, sources, saves, metrics)."""
from __future__ import annotations

from typing import Literal, NamedTuple

from .constraints import Constraint

ParamType = Literal["number", "int", "string", "bool"]
ParamValue = float | int | str | bool


class ParamSpec(NamedTuple):
    type: ParamType
    default: float | int | str | None
    constraint: Constraint | None
    doc: str


NUMERIC_TYPES: tuple[ParamType, ...] = ("number", "int")


def typed_value(value: object, spec: ParamSpec) -> ParamValue | None:
    """``value`` (from YAML or JSON) in the parameter's type, as the compiler would write it (numbers
    become floats unless the type is int); None when it is not of that type or breaks the constraint."""
    if isinstance(value, bool) != (spec.type == "bool"):
        return None
    if spec.type == "number" and isinstance(value, (int, float)):
        out: ParamValue = float(value)
    elif spec.type == "int" and isinstance(value, int):
        out = int(value)
    elif spec.type in ("string", "bool") and isinstance(value, str if spec.type == "string" else bool):
        out = value  # type: ignore[assignment]
    else:
        return None
    if spec.constraint is not None and not spec.constraint.allows(out):
        return None
    return out
