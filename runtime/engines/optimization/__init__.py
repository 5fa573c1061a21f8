"""The ``optimize`` engine: CLIP-guided latent optimization (StyleCLIP §1).

``latent_optimization.py`` is the math (the published loss and schedule, S space, masks, views,
smoothing); ``engine.py`` runs it for a plan's edit steps, one cached result per input code. The
math's names are importable from here.
"""
from .latent_optimization import ENGINE_VERSION, OptimizeResult, optimize, published_lr  # noqa: F401
