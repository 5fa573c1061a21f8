"""``global``: global directions in StyleSpace (StyleCLIP §3); the runtime's engines/global_directions/."""
from __future__ import annotations

from ..constraints import Bound
from ..param_spec import ParamSpec
from .keep import normalise_keep
from .spec import LAYERS_PARAM, EngineSpec

SPEC = EngineSpec(
    name="global",
    summary="adds alpha times a text's direction to the StyleSpace code; directions are computed once and cached",
    params={
        "alpha": ParamSpec("number", 4.1, None, "strength of the edit along the direction"),
        "beta": ParamSpec("number", 0.15, Bound(low=0.0), "disentanglement threshold"),
        "neutral": ParamSpec("string", "a face", None, "the neutral text the direction starts from"),
        "layers": LAYERS_PARAM,
        "keep": ParamSpec(
            "string", "", None,
            "texts the edit should leave alone, comma-separated; the direction is made orthogonal to theirs",
        ),
    },
    cache_key_params=("neutral", "beta", "keep"),  # a direction's key; alpha and layers apply afterwards
    fusable=True,
    text_lists={"keep": normalise_keep},
)
