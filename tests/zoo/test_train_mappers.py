"""The shipped-mapper trainer: each prompt's settings reach the file it writes."""
from __future__ import annotations

import json

from safetensors import safe_open

from styleclip_runtime.models.mapper import load_mapper_checkpoint
from styleclip_zoo.toon.train_mappers import PROMPT_SETTINGS, train_toon_mappers


def test_a_prompt_with_settings_of_its_own_is_trained_and_saved_with_them(tiny_generator, tiny_clip, tmp_path):
    """purple hair ships as a W-space mapper toward the text less the hair styles (docs/toon-log.md):
    the trainer writes those options, and the file loads back as a W-space mapper; a prompt
    without settings of its own gets the common ones (W+, L2 40, nothing kept)."""
    files = train_toon_mappers(tiny_generator, tiny_clip, tmp_path, ("purple hair", "smile"), steps=1, batch=2,
                               log=lambda m: None)
    own = PROMPT_SETTINGS["purple hair"]
    with safe_open(str(files["purple hair"]), "pt") as f:
        opts = json.loads(f.metadata()["opts"])
    assert opts["mapper_space"] == "w" and opts["keep"] == list(own["keep"]) and opts["l2_lambda"] == 8.0
    assert opts["seed"] == own["seed"] == 1
    assert load_mapper_checkpoint(files["purple hair"]).space == "w"
    with safe_open(str(files["smile"]), "pt") as f:
        plain = json.loads(f.metadata()["opts"])
    assert "mapper_space" not in plain and "keep" not in plain and plain["l2_lambda"] == 40.0 and plain["seed"] == 0
    assert load_mapper_checkpoint(files["smile"]).space == "wplus"
