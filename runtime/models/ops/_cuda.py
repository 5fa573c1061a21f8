"""Optional compiled CUDA kernels for upfirdn2d and bias + leaky ReLU.

Built on first use with ``torch.utils.cpp_extension.load`` (needs ninja and
nvcc). CPU tensors never reach this module's builder: :func:`usable` is false
for them. If the build fails, one warning line is printed and every later
call uses the PyTorch paths. ``STYLECLIP_NO_CUDA_OPS=1`` disables the kernels.

The kernels are forward-only; callers use them only when no gradient is
needed, so training always runs the autograd-capable PyTorch paths.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import ModuleType

import torch

_SOURCES = ("ops.cpp", "ops_kernel.cu")


class _ExtensionCache:
    """Owner of the one compiled module (or of the failure to build it)."""

    def __init__(self) -> None:
        self.module: ModuleType | None = None
        self.tried = False

    def get(self) -> ModuleType | None:
        if self.tried:
            return self.module
        self.tried = True
        try:
            from torch.utils.cpp_extension import load

            folder = Path(__file__).parent / "cuda"
            self.module = load(
                name="styleclip_stylegan2_ops",
                sources=[str(folder / s) for s in _SOURCES],
                extra_cuda_cflags=["--use_fast_math"],
                verbose=False,
            )
        except Exception as exc:  # any build problem: fall back, say so once
            warnings.warn(f"StyleGAN2 CUDA kernels unavailable, using PyTorch ops ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})", RuntimeWarning, stacklevel=3)
            self.module = None
        return self.module


_CACHE = _ExtensionCache()


def enabled() -> bool:
    return os.environ.get("STYLECLIP_NO_CUDA_OPS", "") not in ("1", "true", "yes")


def usable(x: torch.Tensor) -> bool:
    """True when ``x`` lives on a CUDA device, has a dtype the kernels handle,
    and the kernels are not disabled."""
    return (x.is_cuda and enabled()
            and x.dtype in (torch.float32, torch.float16, torch.bfloat16))


def extension() -> ModuleType | None:
    """The compiled module, building it on the first call (CUDA only)."""
    return _CACHE.get()
