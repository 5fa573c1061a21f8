"""Parameters, types, defaults and constraints: one table per engine, as data.

``ENGINE_PARAMS[engine][param] = ParamSpec(type, default, constraint, doc)``.
The checker validates against these tables and the compiler fills every
parameter that a recipe leaves out from them, so a plan always carries the
complete set. ``GENERATE_PARAMS`` does the same for ``generate``.
"""
from __future__ import annotations

from typing import Literal, NamedTuple

from .constraints import Bound, Constraint, OneOf

ParamType = Literal["number", "int", "string", "bool"]


class ParamSpec(NamedTuple):
    type: ParamType
    default: float | int | str | None
    constraint: Constraint | None
    doc: str


NUMERIC_TYPES: tuple[ParamType, ...] = ("number", "int")

# ``layers=``: the W+ levels an edit may change (StyleCLIP's coarse rows 0-3, medium 4-7, fine 8 on);
# the runtime's engines/layers.py takes its list from here
LAYERS = ("all", "coarse", "medium", "fine", "coarse-medium", "medium-fine", "coarse-fine")
LAYERS_DOC = "the W+ levels the edit may change: all, coarse, medium, fine, or two joined by '-'"

ENGINE_PARAMS: dict[str, dict[str, ParamSpec]] = {
    "global": {
        "alpha": ParamSpec("number", 4.1, None, "strength of the edit along the direction"),
        "beta": ParamSpec("number", 0.15, Bound(low=0.0), "disentanglement threshold"),
        "neutral": ParamSpec("string", "a face", None, "the neutral text the direction starts from"),
        "layers": ParamSpec("string", "all", OneOf(LAYERS), LAYERS_DOC),
        "keep": ParamSpec(
            "string", "", None,
            "texts the edit should leave alone, comma-separated; the direction is made orthogonal to theirs",
        ),
    },
    "mapper": {
        "strength": ParamSpec("number", 1.0, None, "scale of the mapper's residual"),
        "layers": ParamSpec("string", "all", OneOf(LAYERS), LAYERS_DOC),
    },
    "optimize": {
        "steps": ParamSpec("int", 300, Bound(low=1), "optimization steps"),
        "lr": ParamSpec("number", 0.1, Bound(low=0.0, low_inclusive=False), "learning rate"),
        "l2": ParamSpec("number", 0.008, Bound(low=0.0), "weight of the L2 distance to the source latent"),
        "id": ParamSpec("number", 0.0, Bound(low=0.0), "weight of the identity loss"),
        "space": ParamSpec("string", "wplus", OneOf(("wplus", "s")), "latent space optimized"),
        "beta": ParamSpec(
            "number", 0.0, Bound(low=0.0),
            "with space=s, move only the channels a global direction keeps at this beta (0: all)",
        ),
        "neutral": ParamSpec(
            "string", "a face", None, "with beta or keep, the neutral text the directions start from",
        ),
        "layers": ParamSpec("string", "all", OneOf(LAYERS), LAYERS_DOC),
        "keep": ParamSpec(
            "string", "", None,
            "texts the edit should leave alone, comma-separated; CLIP's target is made orthogonal to their "
            "directions (and, with beta, the channel mask comes from the direction made orthogonal to theirs)",
        ),
        "views": ParamSpec(
            "int", 0, Bound(low=0, high=32),
            "CLIP loss over this many randomly shifted, scaled and noised copies of the image (0: as published)",
        ),
        "smooth": ParamSpec(
            "number", 0.0, Bound(low=0.0, high=10.0),
            "each step renders at a random StyleSpace offset of this many channel stds (0: as published)",
        ),
    },
}

ENGINES: tuple[str, ...] = tuple(ENGINE_PARAMS)

# ``generate``: exactly one of seed / seeds; seeds is an integer range or list.
MAX_SEED = 2**32 - 1
GENERATE_PARAMS: dict[str, ParamSpec] = {
    "seed": ParamSpec("int", None, Bound(low=0, high=MAX_SEED), "one sample from this seed"),
    "seeds": ParamSpec("int", None, Bound(low=0, high=MAX_SEED), "samples from these seeds (A..B or a list)"),
    "truncation": ParamSpec(
        "number", 0.7, Bound(low=0.0, high=1.0, low_inclusive=False), "truncation psi"
    ),
}

# ``invert PATH... face=N``: one face of each photo, numbered from 1 left to right (sets with ``align: ffhq``).
INVERT_PARAMS: dict[str, ParamSpec] = {
    "face": ParamSpec("int", None, Bound(low=1), "the face to invert, from 1, left to right"),
}

# ``save animation PATH [param=value ...]``: how the frames are written (the format follows the extension).
ANIMATION_PARAMS: dict[str, ParamSpec] = {
    "duration": ParamSpec("number", 0.4, Bound(low=0.02, high=10.0), "seconds each frame shows"),
    "size": ParamSpec(
        "int", None, Bound(low=16, high=4096),
        "frame width and height in pixels (default: the image scaled up by a whole factor to at least 256)",
    ),
    "labels": ParamSpec("bool", True, None, "write the swept value on each frame"),
    "pingpong": ParamSpec("bool", False, None, "play the sweep forward, then back"),
}
# What each save mode may write: the file's format follows its extension.
SAVE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image": (".png", ".jpg", ".jpeg"),
    "aligned": (".png", ".jpg", ".jpeg"),
    "grid": (".png", ".jpg", ".jpeg"),
    "animation": (".mp4", ".gif", ".webp"),
}

DEFAULT_MODELSET = "toon"
DEFAULT_SEED = 0

# Largest sweep (values per edit) and largest generate batch a recipe may ask for.
MAX_SWEEP_VALUES = 1000
MAX_GENERATE_SEEDS = 10000


def defaults_for(engine: str) -> dict[str, float | int | str]:
    """Every parameter of ``engine`` with its default value."""
    return {name: spec.default for name, spec in ENGINE_PARAMS[engine].items()}  # type: ignore[misc]
