"""The ``toon`` world: procedurally drawn cartoon faces with known attributes.

Modules (one idea each):

- ``attributes``: the attribute families, the ``Attributes`` dataclass, sampling.
- ``renderer``: attributes + nuisance seed -> a 64x64 anti-aliased RGB face.
- ``captions``: attributes -> varied text, plus the phrase tables and ``PROMPTS``.
- ``augment``: the image augmentations that imitate generator outputs.
- the judge network itself is served by ``styleclip_runtime.models.judge``; ``train_judge`` trains it.
- ``clip``: the toon-CLIP config, preprocessing and loader (open_clip).
- ``train_judge`` / ``train_clip``: the trainers; ``evaluate``: the figures.
"""
from .attributes import FAMILIES, Attributes, sample_attributes
from .renderer import render, render_batch

__all__ = ["FAMILIES", "Attributes", "sample_attributes", "render", "render_batch"]
