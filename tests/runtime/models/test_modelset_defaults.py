"""A model set's run-time settings: what its YAML says, else the one named default."""
from __future__ import annotations

from styleclip_runtime.models.modelset import DEFAULT_OPTIMIZE_BATCH, GLOBAL_STATS_DEFAULTS, ModelSet


def test_the_yaml_wins_and_a_set_that_does_not_say_gets_the_defaults():
    toon, ffhq = ModelSet.load("toon"), ModelSet.load("ffhq")
    assert toon.global_stats_settings() == (20000, 100, 5.0)  # toon.yaml: the published N
    # ffhq.yaml says nothing (nor do sets written by `models add`): their statistics were always
    # filed under 20000 samples, 16 images per channel, k=5, and must keep those keys
    assert ffhq.global_stats_settings() == (20000, 16, 5.0)
    assert dict(zip(("n_samples", "n_images", "k"), ffhq.global_stats_settings())) == GLOBAL_STATS_DEFAULTS
    assert ffhq.optimize_batch_size() == 4  # ffhq.yaml
    assert toon.optimize_batch_size() == DEFAULT_OPTIMIZE_BATCH == 16

