"""``optimize``: CLIP-guided latent optimization (StyleCLIP §1); the runtime's engines/optimization/."""
from __future__ import annotations

from ..constraints import Bound, OneOf
from ..param_spec import ParamSpec
from .keep import normalise_keep
from .spec import LAYERS_PARAM, EngineSpec, ParamRule

PARAMS = {
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
    "layers": LAYERS_PARAM,
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
}

SPEC = EngineSpec(
    name="optimize",
    summary="replaces the W+ code (or moves StyleSpace channels) by CLIP-guided optimization from each input",
    params=PARAMS,
    cache_key_params=tuple(PARAMS),  # every parameter shapes the result (an empty keep enters no key)
    rules=(ParamRule(
        "beta", "space", "s", "E-beta-needs-s", "optimize's beta masks StyleSpace channels: it needs space=s",
        "add space=s, or drop beta to optimise W+",
    ),),
    text_lists={"keep": normalise_keep},
)
