"""The attribute families a model set's judge reads (``expect attribute(family) == 'value'``), without torch.

They ship with the set: the judge's ``config: {families: ...}`` in its YAML, else the
``judge_config.json`` beside the judge's weights (toon's), which the judge itself is built from.
The checker asks for them through ``styleclip_dsl.model_names`` so that the front end keeps no copy.
"""
from __future__ import annotations

import json
from typing import Any

from .registry import ModelSetSpec, locate

JUDGE_CONFIG_FILE = "judge_config.json"  # beside the judge's weights when the YAML gives no config


def judge_families(spec: ModelSetSpec, env: dict[str, str] | None = None) -> dict[str, tuple[str, ...]] | None:
    """Family -> its values, in the judge's order; None when the set has no judge or its config cannot be read."""
    if spec.judge is None:
        return None
    raw: Any = (spec.judge.config or {}).get("families")
    if raw is None:
        weights = locate(spec, spec.judge.file, env)
        if weights is None:
            return None
        try:
            raw = json.loads(weights.with_name(JUDGE_CONFIG_FILE).read_text(encoding="utf-8")).get("families")
        except (OSError, ValueError, AttributeError):
            return None
    if not isinstance(raw, dict) or not all(isinstance(v, (list, tuple)) for v in raw.values()):
        return None
    return {str(family): tuple(str(v) for v in values) for family, values in raw.items()}
