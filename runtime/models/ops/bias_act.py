"""Fused bias + leaky ReLU + gain, the activation of every StyleGAN2 conv.

``fused_bias_leaky_relu(x, bias)`` = ``leaky_relu(x + bias, 0.2) * sqrt(2)``
with the bias broadcast over the channel axis (dim 1) of feature maps. The
PyTorch path is :func:`styleclip_runtime.models.layers.fused_leaky_relu` (one
definition for the whole project); on CUDA an optional compiled kernel does
the three steps in one pass when no gradient is needed.
"""
from __future__ import annotations

import torch
from torch import nn

from ..layers import SQRT2, fused_leaky_relu
from . import _cuda


def fused_bias_leaky_relu(x: torch.Tensor, bias: torch.Tensor | None, negative_slope: float = 0.2,
                          scale: float = SQRT2, impl: str = "fast") -> torch.Tensor:
    """leaky_relu(x + bias) * scale; ``impl="reference"`` forces the PyTorch path."""
    if impl not in ("fast", "reference"):
        raise ValueError(f"unknown impl {impl!r} (expected 'fast' or 'reference')")
    if (impl == "fast" and bias is not None and x.ndim == 4 and _cuda.usable(x)
            and not (torch.is_grad_enabled() and (x.requires_grad or bias.requires_grad))):
        ext = _cuda.extension()
        if ext is not None:
            return ext.bias_lrelu(x.contiguous(), bias.to(x.dtype).contiguous(),
                                  float(negative_slope), float(scale))
    return fused_leaky_relu(x, bias, negative_slope, scale)


class FusedLeakyReLU(nn.Module):
    """The reference port's ``FusedLeakyReLU``: a learned per-channel bias
    (state-dict key ``bias``) followed by the scaled leaky ReLU."""

    def __init__(self, channels: int, negative_slope: float = 0.2, scale: float = SQRT2) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.negative_slope = negative_slope
        self.scale = scale
        self.impl = "fast"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_bias_leaky_relu(x, self.bias, self.negative_slope, self.scale, self.impl)
