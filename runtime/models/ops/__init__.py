"""Low-level ops of the StyleGAN2 generator.

Each op has a plain-PyTorch path that runs on every device and is the
numerical reference, plus (on CUDA only) an optional compiled kernel that is
built on first use and falls back to the PyTorch path with one warning line.
"""
from .bias_act import FusedLeakyReLU, fused_bias_leaky_relu
from .upfirdn2d import make_kernel, upfirdn2d, upfirdn2d_reference

__all__ = [
    "FusedLeakyReLU",
    "fused_bias_leaky_relu",
    "make_kernel",
    "upfirdn2d",
    "upfirdn2d_reference",
]
