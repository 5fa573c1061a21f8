"""Small layers shared by every network of the field (StyleGAN2, e4e, mappers).

Names and parameter layouts follow the reference PyTorch port so that
official state dicts load without renaming: an ``EqualLinear`` stores
``weight`` pre-divided by ``lr_mul`` and applies ``1/sqrt(fan_in) * lr_mul``
at run time.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SQRT2 = math.sqrt(2.0)


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor | None, negative_slope: float = 0.2,
                     scale: float = SQRT2) -> torch.Tensor:
    """leaky_relu(x + bias) * sqrt(2), bias broadcast over dim 1 for 4-D input
    (feature maps) and over the last dim otherwise (vectors, and the mapper's
    3-D (B, layers, C) input)."""
    if bias is not None:
        if x.ndim == 4:
            x = x + bias.view(1, -1, 1, 1)
        else:
            x = x + bias
    return F.leaky_relu(x, negative_slope) * scale


class PixelNorm(nn.Module):
    """x / sqrt(mean(x^2, dim) + eps). dim=1 is the reference choice; on the
    mapper's 3-D input that is the layer axis (a published quirk we keep)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=self.dim, keepdim=True) + self.eps)


class EqualLinear(nn.Module):
    """Linear layer with equalized learning rate (weight * lr_mul / sqrt(in))."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activation: str | None = None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.scale = (1.0 / math.sqrt(in_dim)) * lr_mul
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None else None
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]} -> {self.weight.shape[0]}, lr_mul={self.lr_mul}, act={self.activation}"
