"""Attribute families of the toon world and the distribution they are drawn from.

A face is an ``Attributes`` value: one value per discrete family plus a
continuous background hue in [0, 1). ``sample_attributes`` draws every
discrete family uniformly and independently, and the hue uniformly on [0, 1).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np

FAMILIES: dict[str, tuple[str, ...]] = {
    "hair_style": ("bald", "short", "long", "curly", "mohawk", "bob"),
    "hair_color": ("black", "brown", "blonde", "red", "purple", "white"),
    "expression": ("neutral", "smile", "sad", "surprised", "angry"),
    "eyes": ("open", "closed"),
    "glasses": ("none", "round", "sunglasses"),
    "beard": ("none", "beard"),
    "skin": ("light", "tan", "brown", "dark"),
}

FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)


@dataclass(frozen=True)
class Attributes:
    """One toon face's semantic content (the nuisance seed is kept apart)."""

    hair_style: str = "short"
    hair_color: str = "brown"
    expression: str = "neutral"
    eyes: str = "open"
    glasses: str = "none"
    beard: str = "none"
    skin: str = "light"
    background: float = 0.55

    def __post_init__(self) -> None:
        for family, values in FAMILIES.items():
            value = getattr(self, family)
            if value not in values:
                raise ValueError(f"{family}={value!r} is not one of {values}")
        if not 0.0 <= float(self.background) < 1.0:
            raise ValueError(f"background hue {self.background} is outside [0, 1)")

    def value(self, family: str) -> str:
        """The value of a discrete family, e.g. ``attrs.value("eyes") == "open"``."""
        return getattr(self, family)

    def index(self, family: str) -> int:
        """Position of this face's value in ``FAMILIES[family]`` (a class label)."""
        return FAMILIES[family].index(getattr(self, family))

    def with_(self, **changes: object) -> "Attributes":
        """A copy with some attributes changed (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "Attributes":
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown attribute(s): {sorted(unknown)}")
        return cls(**data)  # type: ignore[arg-type]


def sample_attributes(rng: np.random.Generator) -> Attributes:
    """Draw a face: each discrete family uniform and independent, hue uniform."""
    chosen = {f: values[int(rng.integers(len(values)))] for f, values in FAMILIES.items()}
    return Attributes(**chosen, background=float(rng.random()))


def labels(attrs: list[Attributes]) -> dict[str, np.ndarray]:
    """Class indices per family for a list of faces, plus ``background`` hues."""
    out = {f: np.array([a.index(f) for a in attrs], dtype=np.int64) for f in FAMILIES}
    out["background"] = np.array([a.background for a in attrs], dtype=np.float32)
    return out
