"""``mapper``: a latent mapper per prompt (StyleCLIP §2); the runtime's engines/mapper/."""
from __future__ import annotations

from ..param_spec import ParamSpec
from .spec import LAYERS_PARAM, EngineSpec

SPEC = EngineSpec(
    name="mapper",
    summary="moves the W+ code by strength x 0.1 x M(w); a prompt without a shipped mapper trains one",
    params={
        "strength": ParamSpec("number", 1.0, None, "scale of the mapper's residual"),
        "layers": LAYERS_PARAM,
    },
    cache_key_params=(),  # a mapper's key is its prompt and training settings; strength and layers apply afterwards
    trains=True,
)
