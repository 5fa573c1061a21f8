"""Parameters, types, defaults and constraints of the statements, as data.

The engines' tables live with their specs (``styleclip_dsl/engines/``, one module per engine);
``ENGINE_PARAMS[engine][param] = ParamSpec(type, default, constraint, doc)`` is a view of that
registry. The checker validates against these tables and the compiler fills every parameter that
a recipe leaves out (from the model set's ``engine_defaults``, then from these), so a plan always
carries the complete set. ``GENERATE_PARAMS`` does the same for ``generate``.
"""
from __future__ import annotations

from .constraints import Bound
from .engines.registry import ENGINES as ENGINE_SPECS
from .engines.spec import LAYERS, LAYERS_DOC  # noqa: F401  (re-exported: the runtime's layer_choice reads LAYERS)
from .param_spec import NUMERIC_TYPES, ParamSpec, ParamType  # noqa: F401  (re-exported)

# A view of the engine registry (styleclip_dsl/engines/): each engine's parameter table by name.
ENGINE_PARAMS: dict[str, dict[str, ParamSpec]] = {name: dict(spec.params) for name, spec in ENGINE_SPECS.items()}

ENGINES: tuple[str, ...] = tuple(ENGINE_SPECS)

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
    return ENGINE_SPECS[engine].defaults()  # type: ignore[return-value]
