"""The ``mapper`` engine: a latent mapper per prompt (StyleCLIP §2).

``latent_mapper.py`` is the math (inference with a strength, training with the published losses);
``engine.py`` applies a mapper to a plan's edit steps. The math's names are importable from here.
"""
from .latent_mapper import (  # noqa: F401
    ENGINE_VERSION, MapperTraining, TrainingStateError, apply_strength, read_training_state, train_mapper,
    training_target,
)
