"""upfirdn2d: zero-insertion upsampling, padding, FIR filtering, downsampling.

``upfirdn2d(x, k, up, down, pad)`` computes, per channel, the sequence

1. insert ``up - 1`` zeros after every sample (both axes),
2. pad with ``pad = (p0, p1)`` zeros before / after (negative values crop),
3. convolve (true convolution, i.e. correlate with the flipped kernel),
4. keep every ``down``-th sample.

This is the resampling primitive of StyleGAN2: the blur after a transposed
convolution is ``upfirdn2d(x, k * 4, pad=(1, 1))`` and the toRGB skip
upsampler is ``upfirdn2d(x, k * 4, up=2, pad=(2, 1))``.

Three paths:

- :func:`upfirdn2d_reference`: the literal definition above on a
  ``(N*C, 1, H, W)`` view (the reference port's CPU path). Slow, obvious.
- the fast PyTorch path: a depthwise ``conv2d`` (``up == 1``) or a depthwise
  ``conv_transpose2d`` with stride ``up`` (``down == 1``); same numbers.
- on CUDA, the optional compiled kernel of :mod:`._cuda` (inference only).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from . import _cuda


def make_kernel(taps: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """A normalised 2-D FIR kernel: the outer product of 1-D ``taps`` with
    itself (or a given 2-D kernel), divided by its sum."""
    k = torch.as_tensor(taps, dtype=torch.float32)
    if k.ndim == 1:
        k = k[None, :] * k[:, None]
    return k / k.sum()


def _pads(pad: Sequence[int]) -> tuple[int, int]:
    if len(pad) != 2:
        raise ValueError(f"pad must be (before, after), got {tuple(pad)}")
    return int(pad[0]), int(pad[1])


def upfirdn2d_reference(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
                        pad: Sequence[int] = (0, 0)) -> torch.Tensor:
    """The literal definition (see the module docstring); same pad on both axes."""
    p0, p1 = _pads(pad)
    n, c, h, w = x.shape
    kh, kw = kernel.shape
    y = x.reshape(n * c, 1, h, w)
    if up > 1:
        z = y.new_zeros(n * c, 1, h * up, w * up)
        z[:, :, ::up, ::up] = y
        y = z
    y = F.pad(y, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    if p0 < 0 or p1 < 0:
        hh, ww = y.shape[2], y.shape[3]
        y = y[:, :, max(-p0, 0):hh - max(-p1, 0), max(-p0, 0):ww - max(-p1, 0)]
    weight = torch.flip(kernel, [0, 1]).to(y.dtype).view(1, 1, kh, kw)
    y = F.conv2d(y, weight)
    if down > 1:
        y = y[:, :, ::down, ::down]
    return y.reshape(n, c, y.shape[2], y.shape[3])


def _depthwise(kernel: torch.Tensor, channels: int, dtype: torch.dtype) -> torch.Tensor:
    kh, kw = kernel.shape
    return kernel.to(dtype).view(1, 1, kh, kw).expand(channels, 1, kh, kw)


def _upfirdn2d_fast(x: torch.Tensor, kernel: torch.Tensor, up: int, down: int,
                    p0: int, p1: int) -> torch.Tensor:
    c = x.shape[1]
    kh, kw = kernel.shape
    if up == 1 and p0 >= 0 and p1 >= 0:
        flipped = _depthwise(torch.flip(kernel, [0, 1]), c, x.dtype)
        if p0 == p1:  # let the convolution pad: no padded copy of a large map
            return F.conv2d(x, flipped, stride=down, padding=p0, groups=c)
        return F.conv2d(F.pad(x, [p0, p1, p0, p1]), flipped, stride=down, groups=c)
    if down == 1 and kh == kw and 0 <= p0 <= kh - 1 and p1 >= 0:
        # Zero insertion + pad + true convolution == transposed convolution
        # with stride `up` and the kernel unflipped. Output index i of the
        # definition reads insertion-padded sample i + j - p0; the transposed
        # conv with padding q covers i + q - up*n, so q = k - 1 - p0. The
        # trailing size is fixed with output_padding / a crop.
        q = kh - 1 - p0
        h, w = x.shape[2], x.shape[3]
        out_h = h * up + p0 + p1 - kh + 1
        out_w = w * up + p0 + p1 - kw + 1
        base_h = (h - 1) * up - 2 * q + kh
        base_w = (w - 1) * up - 2 * q + kw
        extra_h, extra_w = out_h - base_h, out_w - base_w
        if 0 <= extra_h < up and 0 <= extra_w < up:
            return F.conv_transpose2d(x, _depthwise(kernel, c, x.dtype), stride=up, padding=q,
                                      output_padding=(extra_h, extra_w), groups=c)
    return upfirdn2d_reference(x, kernel, up, down, (p0, p1))


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              pad: Sequence[int] = (0, 0), impl: str = "fast") -> torch.Tensor:
    """Resample ``x`` (N, C, H, W) with ``kernel`` (kh, kw); ``impl`` is
    ``"fast"`` (default: compiled kernel on CUDA when available and no
    gradient is needed, else depthwise convolutions) or ``"reference"``."""
    p0, p1 = _pads(pad)
    if impl == "reference":
        return upfirdn2d_reference(x, kernel, up, down, (p0, p1))
    if impl != "fast":
        raise ValueError(f"unknown impl {impl!r} (expected 'fast' or 'reference')")
    if _cuda.usable(x) and not (torch.is_grad_enabled() and x.requires_grad):
        ext = _cuda.extension()
        if ext is not None:
            return ext.upfirdn2d(x.contiguous(), kernel.to(x.device, torch.float32).contiguous(),
                                 up, down, p0, p1)
    return _upfirdn2d_fast(x, kernel, up, down, p0, p1)
