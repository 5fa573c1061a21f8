"""Fused synthesis for inference: the styles go into the weights, not the maps.

The generator's ``fast`` path scales every feature map by the style and again
by the demodulation, then adds noise and bias and applies the gained leaky
ReLU: five passes over maps that, at 1024 px, are far larger than the
weights. Here, per sample (the StyleGAN2 paper's "fused modconv" at batch 1):

- the style and the demodulation are folded into the weights
  (``W[o, i] * scale * s[i] * d[o]``), so the map is read once by the conv;
- the bias goes into the convolution's own bias argument;
- the leaky ReLU's gain (sqrt 2) is folded into the next layers' weights
  (every consumer of a StyledConv's output is a modulated convolution, and
  conv(g * x) = g * conv(x)), leaving noise-add and ``leaky_relu_`` in place;
- the upsampling layer (stride-2 transposed 3x3 conv, then the 4x4 FIR blur)
  becomes one plain 3x3 convolution to ``4 * out`` channels and one
  interleaving copy (:func:`phase_shuffle`): the transposed conv and the blur compose into a 6x6
  kernel ``C = K * blur`` (full convolution), whose four stride-2 phases are
  3x3 kernels (``w_a[t] = C[a + 4 - 2t]``). The composed, phase-split
  weights are style-independent up to a per-(out, in) factor, so they are
  built once per module and kept (owner: the module, ``_fused_cache``).

``dtype`` is the maps' and weights' dtype (float32, or bfloat16 on CPUs with
native bf16); the toRGB skip sums in float32. Inference only: no gradient.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

GAIN = math.sqrt(2.0)
# phase a (0 or 1) of the stride-2 composed 6x6 kernel, tap t of its 3x3 kernel: C[a + 4 - 2t]
_PHASE_TAPS = torch.tensor([[4, 2, 0], [5, 3, 1]])


def _cached(module: nn.Module, name: str, build) -> torch.Tensor:
    """A style-independent tensor derived from ``module.weight``, kept on the
    module while the parameter is unchanged (same storage, same version)."""
    w = module.weight
    key = (name, w._version, w.data_ptr(), w.device)
    cache: dict = module.__dict__.setdefault("_fused_cache", {})
    hit = cache.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = build()
    cache[name] = (key, value, w.detach())  # the detached source pins the storage behind data_ptr
    return value


def composed_upsample_weight(weight: torch.Tensor, blur: torch.Tensor) -> torch.Tensor:
    """(out, in, 3, 3) conv weight and the (4, 4) blur kernel -> the
    (4 * out, in, 3, 3) weight (rows in (phase_h, phase_w, out) order) whose
    conv (padding 1) followed by :func:`phase_shuffle` equals ``conv_transpose2d(x, weight^T, stride=2)``
    followed by ``upfirdn2d(., blur, pad=(1, 1))``."""
    out_c, in_c, kh, kw = weight.shape
    if (kh, kw) != (3, 3) or tuple(blur.shape) != (4, 4):
        raise ValueError(f"expected a 3x3 weight and a 4x4 blur, got {kh}x{kw} and {tuple(blur.shape)}")
    flat = weight.reshape(out_c * in_c, 1, 3, 3).float()
    # full convolution K * b: correlate K padded by 3 with the flipped kernel
    full = F.conv2d(F.pad(flat, [3, 3, 3, 3]), torch.flip(blur.float(), [0, 1]).view(1, 1, 4, 4))
    full = full.view(out_c, in_c, 6, 6)
    taps = _PHASE_TAPS.to(weight.device)
    phases = full[:, :, taps][..., taps]  # (out, in, a_h, t_h, a_w, t_w)
    return phases.permute(2, 4, 0, 1, 3, 5).reshape(4 * out_c, in_c, 3, 3).contiguous()


def phase_shuffle(y: torch.Tensor, memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """(B, 4 * C, H, W) with channels in (phase_h, phase_w, c) order -> (B, C, 2H, 2W)
    in ``memory_format``, one copy (with channels-last, rows of 2C contiguous values)."""
    b, c4, h, w = y.shape
    c = c4 // 4
    out = torch.empty((b, c, 2 * h, 2 * w), dtype=y.dtype, device=y.device, memory_format=memory_format)
    out.view(b, c, h, 2, w, 2).copy_(y.view(b, 2, 2, c, h, w).permute(0, 3, 4, 1, 5, 2))
    return out


def _base(conv: nn.Module, dtype: torch.dtype, memory_format: torch.memory_format) -> torch.Tensor:
    """The style-independent weight (scaled; composed with the blur and phase-split for
    upsampling), pre-cast to ``dtype`` in ``memory_format`` and kept."""
    def build() -> torch.Tensor:
        base = conv.weight[0].float() * conv.scale
        if conv.upsample:
            base = composed_upsample_weight(base, conv.blur.kernel)
        return base.to(dtype).contiguous(memory_format=memory_format)
    return _cached(conv, f"base-{dtype}-{memory_format}", build)


def _demodulation(conv: nn.Module, style: torch.Tensor) -> torch.Tensor | None:
    """(out,) float32 demodulation factors for ``style``, or None without demodulation."""
    if not conv.demodulate:
        return None
    energy = _cached(conv, "energy", lambda: (conv.weight[0].float() * conv.scale).square().sum((2, 3)))
    return torch.rsqrt(energy @ style.float().square() + 1e-8)


def _modulate_weights(conv: nn.Module, x: torch.Tensor) -> bool:
    """Whether folding the style into the weights moves fewer values than scaling the maps
    (the input map once, the output map once for demodulation): at high resolution the
    maps are far larger than the weights, at 4-32 px the weights are the larger."""
    weight_values = conv.weight[0].numel() * (4 if conv.upsample else 1)
    out_values = conv.out_channel * x.shape[2] * x.shape[3] * (4 if conv.upsample else 1)
    return weight_values <= x[0].numel() + out_values


def _conv(conv: nn.Module, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
          memory_format: torch.memory_format) -> torch.Tensor:
    if conv.upsample:
        bias = None if bias is None else bias.repeat(4)
        return phase_shuffle(F.conv2d(x, weight, bias, padding=1), memory_format)
    return F.conv2d(x, weight, bias, padding=conv.padding)


def _modulated_conv(conv: nn.Module, x: torch.Tensor, style: torch.Tensor, bias: torch.Tensor | None,
                    in_gain: float, memory_format: torch.memory_format) -> torch.Tensor:
    """conv(x * in_gain) with the style and demodulation, plus ``bias`` (per out channel)."""
    base = _base(conv, x.dtype, memory_format)
    demod = _demodulation(conv, style)
    factor_in = style.float() * in_gain
    if _modulate_weights(conv, x):
        factor_out = torch.ones(conv.out_channel, device=x.device) if demod is None else demod
        if conv.upsample:
            factor_out = factor_out.repeat(4)
        outer = (factor_out[:, None] * factor_in[None, :]).to(x.dtype)
        weight = base * outer[:, :, None, None]  # one pass over the weights, in the base's layout
        return _conv(conv, x, weight, bias, memory_format)
    x = x * factor_in.to(x.dtype).view(1, -1, 1, 1)
    if demod is None:
        return _conv(conv, x, base, bias, memory_format)
    # demod * (conv + bias / demod) = demod * conv + bias: one pass for both
    out = _conv(conv, x, base, None if bias is None else (bias.float() / demod).to(x.dtype), memory_format)
    return out.mul_(demod.to(x.dtype).view(1, -1, 1, 1))


def _styled_conv(layer: nn.Module, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor | None,
                 in_gain: float, memory_format: torch.memory_format) -> torch.Tensor:
    """One StyledConv without its output gain (the caller's next layers apply it)."""
    if layer.activate.scale != GAIN:
        raise ValueError(f"fused synthesis assumes the activation gain sqrt(2), got {layer.activate.scale}")
    out = _modulated_conv(layer.conv, x, style, layer.activate.bias.to(x.dtype), in_gain, memory_format)
    if noise is not None:
        out.add_((layer.noise.weight * noise.float()).to(out.dtype))
    return F.leaky_relu_(out, layer.activate.negative_slope)


def _to_rgb(layer: nn.Module, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None,
            memory_format: torch.memory_format) -> torch.Tensor:
    out = _modulated_conv(layer.conv, x, style, layer.bias.view(-1).to(x.dtype), GAIN, memory_format).float()
    if skip is not None:
        out = out + layer.upsample(skip)
    return out


def fused_synthesize(generator: nn.Module, styles: Sequence[torch.Tensor],
                     noise: Sequence[torch.Tensor | None], dtype: torch.dtype = torch.float32,
                     memory_format: torch.memory_format = torch.channels_last) -> torch.Tensor:
    """S list -> image (B, 3, size, size) float32, one sample at a time; the
    generator's checked ``styles`` and resolved ``noise`` (one per noise layer)."""
    g = generator
    images = []
    with torch.no_grad():
        for b in range(styles[0].shape[0]):
            noise_b = [n if n is None or n.shape[0] == 1 else n[b:b + 1] for n in noise]
            x = g.input.input.to(dtype).contiguous(memory_format=memory_format)
            x = _styled_conv(g.conv1, x, styles[0][b], noise_b[0], 1.0, memory_format)
            skip = _to_rgb(g.to_rgb1, x, styles[1][b], None, memory_format)
            for k in range(len(g.to_rgbs)):
                x = _styled_conv(g.convs[2 * k], x, styles[3 * k + 2][b], noise_b[2 * k + 1], GAIN, memory_format)
                x = _styled_conv(g.convs[2 * k + 1], x, styles[3 * k + 3][b], noise_b[2 * k + 2], GAIN,
                                 memory_format)
                skip = _to_rgb(g.to_rgbs[k], x, styles[3 * k + 4][b], skip, memory_format)
            images.append(skip)
    return torch.cat(images).contiguous()
