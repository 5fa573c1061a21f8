"""How much device memory a step that back-propagates through the generator needs.

``styleclip plan --explain`` uses it for the steps that hold a batch of images
in autograd: ``optimize`` (one chunk of ``defaults.optimize_batch`` subjects)
and first-use mapper training (``defaults.mapper_training.batch``). Nothing is
loaded: the figures come from the generator's config and the files' sizes.

Per image, the generator keeps for the backward pass about
``ACTIVATION_BYTES`` per element of its feature maps (channels x pixels of
every convolution's output) plus ``MODULATED_WEIGHT_BYTES`` per weight of its
convolutions (each image modulates the weights with its own styles). Both
constants are a least-squares fit of the bytes the autograd graph saves
(``torch.autograd.graph.saved_tensors_hooks``) for six generators from 64 px
(toon) to 1024 px (FFHQ config-f), on the CPU with the default kernels; the
fit is within 2 % of each (``bench/bench_memory.py`` re-measures it, and a
test checks it against a generator outside the fit). CLIP's activations are
left out: at 224 px (ViT-B/32) they are a few percent of a 1024-px
generator's, and toon's CLIP is as small. Weights count the generator's
parameters (fp32) and the other networks' files as stored. Peaks run higher
than the estimate by the transient buffers of the backward pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ACTIVATION_BYTES = 19.0         # per feature-map element of the synthesis network
MODULATED_WEIGHT_BYTES = 2.6    # per convolution weight (modulated and demodulated per image)


def feature_elements(config) -> int:
    """Channels x pixels of every synthesis convolution's output, per image
    (one convolution at 4 px, two at each resolution above)."""
    return sum(c * r * r * (1 if r == 4 else 2) for r, c in config.channel_widths().items())


def conv_weights(config) -> int:
    """Weights of the synthesis convolutions (3x3) and toRGB layers (1x1)."""
    total, previous = 0, None
    for r, c in sorted(config.channel_widths().items()):
        total += c * c * 9 if r == 4 else (previous * c * 9 + c * c * 9)
        total += c * 3
        previous = c
    return total


def generator_backward_bytes(config) -> int:
    """Bytes the generator's autograd graph keeps per image (the fit above)."""
    return int(ACTIVATION_BYTES * feature_elements(config) + MODULATED_WEIGHT_BYTES * conv_weights(config))


def generator_weight_bytes(config) -> int:
    """fp32 parameters of a generator with this config (built on the meta device: no memory)."""
    import torch

    from ..models.stylegan2 import Generator

    with torch.device("meta"):
        g = Generator.from_config(config)
    return 4 * sum(p.numel() for p in g.parameters())


def measure_backward_bytes(generator, batch: int = 2) -> float:
    """What the estimate models, measured: bytes per image of the tensors autograd saves for the
    backward pass of one W+ -> image forward (storages counted once; the generator's own
    parameters and buffers left out). For bench/bench_memory.py and the tests."""
    import torch

    own = {t.untyped_storage().data_ptr() for t in list(generator.parameters()) + list(generator.buffers())}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in own:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    w = torch.randn(batch, generator.n_latent, generator.config.style_dim, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        generator(w)
    return sum(seen.values()) / batch


@dataclass(frozen=True)
class MemoryEstimate:
    """Device memory of one batch that back-propagates through the generator."""

    batch: int
    per_image: int     # the generator's saved activations for one image
    weights: int       # networks held on the device
    unknown: tuple[str, ...] = ()  # networks whose size is not known here (not counted)

    @property
    def total(self) -> int:
        return self.weights + self.batch * self.per_image

    def largest_batch_within(self, budget: int) -> int:
        """The largest batch that fits ``budget`` bytes (0: not even one image)."""
        return max(0, int((budget - self.weights) // self.per_image)) if self.per_image else self.batch

    def to_dict(self) -> dict:
        return {"batch": self.batch, "per_image_bytes": self.per_image, "weight_bytes": self.weights,
                "total_bytes": self.total, "not_counted": list(self.unknown)}


def file_size(modelset, role: str) -> int | None:
    """The size of a network's file: on disk when it is there, else the YAML's ``size``."""
    comp = modelset.spec.component(role)
    if comp is None:
        return 0
    from ..modelsets.registry import MissingModelFile

    try:
        path: Path = modelset.path(comp.file)
        return path.stat().st_size
    except MissingModelFile:  # not on this machine: the YAML may still say how large it is
        return comp.file.size


def backward_estimate(modelset, batch: int, extra_roles: tuple[str, ...] = ()) -> MemoryEstimate | None:
    """The estimate for ``batch`` images through the set's generator, with CLIP, the identity
    network (when the set has one) and ``extra_roles`` held beside it; None without a generator."""
    from ..models.stylegan2 import GeneratorConfig

    spec = modelset.spec
    if spec.generator is None or not spec.generator.config:
        return None
    config = GeneratorConfig(**{k: v for k, v in spec.generator.config.items()
                                if k in GeneratorConfig.__dataclass_fields__})
    weights, unknown = generator_weight_bytes(config), []
    for role in ("clip", "identity") + tuple(extra_roles):
        size = file_size(modelset, role)
        if size is None:
            unknown.append(role)
        else:
            weights += size
    return MemoryEstimate(max(1, batch), generator_backward_bytes(config), weights, tuple(unknown))


def format_bytes(n: float) -> str:
    """400 MB, 2.6 GB (decimal units, as device memory is sold)."""
    if n < 1e9:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e9:.1f} GB"
