"""The StyleGAN2 generator with StyleSpace access.

Module and parameter names follow the widely used PyTorch port
(rosinality/stylegan2-pytorch ``model.py``) so that official state dicts load
without renaming. On top of it:

- the synthesis network takes **StyleSpace** vectors (the output of each
  modulated layer's affine ``modulation``), so ``W+ -> S -> image`` is the
  only path and S offsets can be added anywhere;
- ``Generator.layout`` is a table of :class:`StyleLayer` rows in the standard
  S order (conv1, to_rgb1, then per resolution: upsampling conv, conv, toRGB);
- two implementations of the modulated convolution, chosen per module with
  ``Generator.set_impl``: ``"fast"`` (scale the input by the style, one
  shared-weight convolution, scale the output by the demodulation factor) and
  ``"reference"`` (per-sample weights in a grouped convolution, the reference
  port's form). They compute the same function.
- for inference, ``Generator.set_synthesis_path`` (or ``use_measured_path``,
  which measures once per machine: ``synthesis_path.py``) can route
  ``synthesize`` through ``synthesis_fused.py`` (styles folded into the
  weights, fp32 or bf16); the default stays ``"fast"``.

Layer widths are ``min(channel_max, base)`` with base 512 up to 32 px and
``int(256 * channel_multiplier)`` at 64 px, halving at each resolution after.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import EqualLinear, PixelNorm
from .ops import FusedLeakyReLU, make_kernel, upfirdn2d

BLUR_KERNEL = (1, 3, 3, 1)
NOISE_MODES = ("const", "random", "none")
IMPLS = ("fast", "reference")
SYNTHESIS_PATHS = ("fast", "fused-fp32", "fused-bf16")  # see synthesis_path.py
# z samples the mean latent (the truncation centre, and latent_avg when a checkpoint has none) averages
MEAN_LATENT_SAMPLES = 4096


@dataclass(frozen=True)
class GeneratorConfig:
    """Hyper-parameters of a generator (what a checkpoint must agree on)."""

    size: int
    style_dim: int = 512
    n_mlp: int = 8
    channel_multiplier: float = 2
    channel_max: int = 512
    lr_mlp: float = 0.01

    def __post_init__(self) -> None:
        log = math.log2(self.size) if self.size > 0 else -1
        if self.size < 4 or log != int(log):
            raise ValueError(f"size must be a power of two >= 4, got {self.size}")
        if self.style_dim < 1 or self.n_mlp < 1:
            raise ValueError("style_dim and n_mlp must be positive")
        if self.channel_multiplier <= 0 or self.channel_max < 1:
            raise ValueError("channel_multiplier and channel_max must be positive")

    @property
    def log_size(self) -> int:
        return int(math.log2(self.size))

    @property
    def n_latent(self) -> int:
        return 2 * self.log_size - 2

    @property
    def num_noises(self) -> int:
        return 2 * (self.log_size - 2) + 1

    def width(self, resolution: int) -> int:
        """Feature channels of the maps at ``resolution`` px."""
        if resolution <= 32:
            base = 512.0
        else:
            base = 256.0 * self.channel_multiplier * 64 / resolution
        return max(1, min(self.channel_max, int(base)))

    def channel_widths(self) -> dict[int, int]:
        return {2 ** r: self.width(2 ** r) for r in range(2, self.log_size + 1)}

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StyleLayer:
    """One StyleSpace layer: a modulated convolution and the style it takes."""

    index: int  # position in the S list
    name: str  # module path: "conv1", "to_rgb1", "convs.0", "to_rgbs.0"
    width: int  # style channels (= the layer's input channels)
    is_torgb: bool
    w_index: int  # which W+ row feeds it
    resolution: int  # output resolution of the layer
    flat_offset: int | None  # offset among the non-toRGB channels (fs3 rows); None for toRGB


def build_layout(config: GeneratorConfig) -> tuple[StyleLayer, ...]:
    """The S table of a generator with ``config`` (26 layers at 1024 px)."""
    rows: list[tuple[str, int, bool, int, int]] = [
        ("conv1", config.width(4), False, 0, 4),
        ("to_rgb1", config.width(4), True, 1, 4),
    ]
    for k, log_res in enumerate(range(3, config.log_size + 1)):
        res = 2 ** log_res
        rows.append((f"convs.{2 * k}", config.width(res // 2), False, 2 * k + 1, res))
        rows.append((f"convs.{2 * k + 1}", config.width(res), False, 2 * k + 2, res))
        rows.append((f"to_rgbs.{k}", config.width(res), True, 2 * k + 3, res))
    layout = []
    offset = 0
    for index, (name, width, is_torgb, w_index, res) in enumerate(rows):
        layout.append(StyleLayer(index, name, width, is_torgb, w_index, res, None if is_torgb else offset))
        if not is_torgb:
            offset += width
    return tuple(layout)


class Blur(nn.Module):
    """FIR low-pass after a transposed convolution (buffer ``kernel``)."""

    def __init__(self, kernel: Sequence[int], pad: tuple[int, int], upsample_factor: int = 1) -> None:
        super().__init__()
        k = make_kernel(kernel)
        if upsample_factor > 1:
            k = k * upsample_factor ** 2
        self.register_buffer("kernel", k)
        self.pad = pad
        self.impl = "fast"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad, impl=self.impl)


class Upsample(nn.Module):
    """2x FIR upsampling of the toRGB skip branch (buffer ``kernel``)."""

    def __init__(self, kernel: Sequence[int], factor: int = 2) -> None:
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", make_kernel(kernel) * factor ** 2)
        p = len(kernel) - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)
        self.impl = "fast"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad, impl=self.impl)


class ConstantInput(nn.Module):
    """The learned 4x4 input (parameter ``input``)."""

    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


class ModulatedConv2d(nn.Module):
    """Convolution whose input channels are scaled by a style vector, with
    optional demodulation and 2x upsampling (transposed conv + blur).

    ``forward`` takes the style itself (``modulation(w)``, shape (B, in)), so
    StyleSpace edits are plain additions on its argument.
    """

    def __init__(self, in_channel: int, out_channel: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[int] = BLUR_KERNEL) -> None:
        super().__init__()
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.kernel_size = kernel_size
        self.demodulate = demodulate
        self.upsample = upsample
        self.scale = 1.0 / math.sqrt(in_channel * kernel_size ** 2)
        self.padding = kernel_size // 2
        self.impl = "fast"
        self._weight_cache: tuple | None = None
        if upsample:
            factor = 2
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1),
                             upsample_factor=factor)
        self.weight = nn.Parameter(torch.randn(1, out_channel, in_channel, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1.0)

    def extra_repr(self) -> str:
        return (f"{self.in_channel} -> {self.out_channel}, k={self.kernel_size}, "
                f"upsample={self.upsample}, demodulate={self.demodulate}")

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if self.impl == "reference":
            return self._forward_grouped(x, style)
        return self._forward_shared(x, style)

    def _shared_weights(self, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """(conv weight in ``dtype``, laid out for conv2d or conv_transpose2d;
        per-(out, in) energy sum_k (scale * w)^2 in float32). Cached on the
        module while the parameter is unchanged and needs no gradient."""
        w = self.weight
        cacheable = not (torch.is_grad_enabled() and w.requires_grad)
        key = (w._version, w.data_ptr(), w.device, dtype)
        if cacheable and self._weight_cache is not None and self._weight_cache[0] == key:
            return self._weight_cache[1], self._weight_cache[2]
        scaled = w[0] * self.scale  # (out, in, k, k)
        energy = scaled.float().square().sum((2, 3))  # (out, in)
        conv_w = (scaled.transpose(0, 1) if self.upsample else scaled).to(dtype).contiguous()
        # the detached source pins its storage, so a data_ptr in the key is never reused while cached
        self._weight_cache = (key, conv_w, energy, w.detach()) if cacheable else None
        return conv_w, energy

    def _forward_shared(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        device_type = x.device.type
        autocast = torch.is_autocast_enabled(device_type)
        weight, energy = self._shared_weights(torch.get_autocast_dtype(device_type) if autocast else x.dtype)
        x = x * style.to(x.dtype).reshape(batch, -1, 1, 1)
        if self.upsample:
            out = self.blur(F.conv_transpose2d(x, weight, stride=2))
        else:
            out = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            # sum_{i,kh,kw} (s[b,i] w[o,i,kh,kw])^2 = (s^2 @ energy^T)[b, o]
            demod = torch.rsqrt(style.float().square() @ energy.t() + 1e-8)
            out = out * demod.to(out.dtype).reshape(batch, -1, 1, 1)
        return out

    def _forward_grouped(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        batch, in_c, height, width = x.shape
        out_c, k = self.out_channel, self.kernel_size
        weight = self.scale * self.weight * style.reshape(batch, 1, in_c, 1, 1)
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
            weight = weight * demod.reshape(batch, out_c, 1, 1, 1)
        x = x.reshape(1, batch * in_c, height, width)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(batch * in_c, out_c, k, k)
            out = F.conv_transpose2d(x, weight, stride=2, groups=batch)
            out = out.reshape(batch, out_c, out.shape[2], out.shape[3])
            return self.blur(out)
        out = F.conv2d(x, weight.reshape(batch * out_c, in_c, k, k), padding=self.padding, groups=batch)
        return out.reshape(batch, out_c, height, width)


class NoiseInjection(nn.Module):
    """Adds ``weight * noise`` (a learned scalar, parameter ``weight``)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        if noise is None:
            return x
        return x + self.weight.to(x.dtype) * noise.to(x.dtype)


class StyledConv(nn.Module):
    """Modulated 3x3 conv, noise, bias + leaky ReLU."""

    def __init__(self, in_channel: int, out_channel: int, kernel_size: int, style_dim: int,
                 upsample: bool = False, blur_kernel: Sequence[int] = BLUR_KERNEL,
                 demodulate: bool = True) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, out_channel, kernel_size, style_dim,
                                    demodulate=demodulate, upsample=upsample, blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channel)

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    """Modulated 1x1 conv to RGB (no demodulation) + bias, plus the
    upsampled skip from the previous resolution."""

    def __init__(self, in_channel: int, style_dim: int, upsample: bool = True,
                 blur_kernel: Sequence[int] = BLUR_KERNEL) -> None:
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        out = self.conv(x, style) + self.bias.to(x.dtype)
        if skip is not None:
            out = out + self.upsample(skip).to(out.dtype)
        return out


class Generator(nn.Module):
    """StyleGAN2 generator: mapping ``z -> w``, ``W+ -> S``, synthesis ``S -> image``."""

    def __init__(self, size: int, style_dim: int = 512, n_mlp: int = 8, channel_multiplier: float = 2,
                 channel_max: int = 512, lr_mlp: float = 0.01) -> None:
        super().__init__()
        cfg = GeneratorConfig(size, style_dim, n_mlp, channel_multiplier, channel_max, lr_mlp)
        self.config = cfg
        self.size = size
        self.style_dim = style_dim
        self.n_latent = cfg.n_latent
        self.num_ws = cfg.n_latent
        self.num_layers = cfg.num_noises
        self.layout: tuple[StyleLayer, ...] = build_layout(cfg)
        self.memory_format: torch.memory_format | None = None  # None: automatic
        self.synthesis_path = "fast"  # inference path; use_measured_path() picks this machine's fastest

        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(style_dim, style_dim, lr_mul=lr_mlp, activation="fused_lrelu") for _ in range(n_mlp)
        ])
        self.input = ConstantInput(cfg.width(4))
        self.conv1 = StyledConv(cfg.width(4), cfg.width(4), 3, style_dim)
        self.to_rgb1 = ToRGB(cfg.width(4), style_dim, upsample=False)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()
        for i in range(self.num_layers):
            res = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, res, res))
        in_c = cfg.width(4)
        for log_res in range(3, cfg.log_size + 1):
            out_c = cfg.width(2 ** log_res)
            self.convs.append(StyledConv(in_c, out_c, 3, style_dim, upsample=True))
            self.convs.append(StyledConv(out_c, out_c, 3, style_dim))
            self.to_rgbs.append(ToRGB(out_c, style_dim))
            in_c = out_c

    @classmethod
    def from_config(cls, config: GeneratorConfig) -> "Generator":
        return cls(config.size, config.style_dim, config.n_mlp, config.channel_multiplier,
                   config.channel_max, config.lr_mlp)

    def extra_repr(self) -> str:
        return f"{self.config}"

    # ----------------------------------------------------------- latents
    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, style_dim) -> w (B, style_dim)."""
        return self.style(z)

    @torch.no_grad()
    def mean_latent(self, n: int = MEAN_LATENT_SAMPLES, seed: int = 0) -> torch.Tensor:
        """Mean of ``n`` mapped z drawn from a generator seeded with ``seed``;
        (1, style_dim), the same on every call and every device."""
        rng = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.style_dim, generator=rng)
        ref = self.input.input
        return self.mapping(z.to(ref.device, ref.dtype)).mean(0, keepdim=True)

    def truncate(self, w: torch.Tensor, psi: float, mean: torch.Tensor) -> torch.Tensor:
        """``mean + psi * (w - mean)`` for W (B, C) or W+ (B, L, C); ``mean`` is
        (C,), (1, C) or (1, L, C)."""
        if mean.ndim == 1:
            mean = mean.unsqueeze(0)
        if w.ndim == 3 and mean.ndim == 2:
            mean = mean.unsqueeze(1)
        return mean + psi * (w - mean)

    def to_wplus(self, w: torch.Tensor) -> torch.Tensor:
        """(B, C) -> (B, L, C) by repetition; a (B, L, C) W+ passes through."""
        if w.ndim == 2:
            return w.unsqueeze(1).expand(-1, self.n_latent, -1)
        if w.ndim == 3 and w.shape[1] == self.n_latent:
            return w
        raise ValueError(f"expected W (B, {self.style_dim}) or W+ (B, {self.n_latent}, {self.style_dim}), "
                         f"got {tuple(w.shape)}")

    # -------------------------------------------------------- StyleSpace
    def modulated_layer(self, layer: StyleLayer | int) -> nn.Module:
        """The StyledConv / ToRGB module of an S layer."""
        if isinstance(layer, int):
            layer = self.layout[layer]
        return self.get_submodule(layer.name)

    def styles(self, wplus: torch.Tensor) -> list[torch.Tensor]:
        """W+ (or W) -> the S list, each (B, width), in layout order."""
        wplus = self.to_wplus(wplus)
        return [self.modulated_layer(layer).conv.modulation(wplus[:, layer.w_index]) for layer in self.layout]

    @property
    def n_style_channels(self) -> int:
        """Channels of all non-toRGB layers (the rows of an fs3 table)."""
        return sum(layer.width for layer in self.layout if not layer.is_torgb)

    def styles_to_flat(self, styles: Sequence[torch.Tensor]) -> torch.Tensor:
        """Concatenate the non-toRGB styles: (B, n_style_channels)."""
        self._check_styles(styles)
        return torch.cat([s for s, layer in zip(styles, self.layout) if not layer.is_torgb], dim=1)

    def flat_to_styles(self, flat: torch.Tensor, torgb: Sequence[torch.Tensor] | None = None) -> list[torch.Tensor]:
        """Split (B, n_style_channels) (or (n_style_channels,)) into the S list;
        toRGB layers take ``torgb`` (the S list or only its toRGB entries) or zeros."""
        squeeze = flat.ndim == 1
        if squeeze:
            flat = flat.unsqueeze(0)
        if flat.shape[-1] != self.n_style_channels:
            raise ValueError(f"expected {self.n_style_channels} channels, got {flat.shape[-1]}")
        torgb_layers = [layer for layer in self.layout if layer.is_torgb]
        if torgb is not None and len(torgb) == len(self.layout):
            torgb = [torgb[layer.index] for layer in torgb_layers]
        if torgb is not None and len(torgb) != len(torgb_layers):
            raise ValueError(f"expected {len(torgb_layers)} toRGB styles, got {len(torgb)}")
        out: list[torch.Tensor] = []
        k = 0
        for layer in self.layout:
            if layer.is_torgb:
                s = torgb[k] if torgb is not None else flat.new_zeros(flat.shape[0], layer.width)
                k += 1
            else:
                s = flat[:, layer.flat_offset:layer.flat_offset + layer.width]
            out.append(s[0] if squeeze and s.ndim == 2 else s)
        return out

    def _check_styles(self, styles: Sequence[torch.Tensor]) -> None:
        if len(styles) != len(self.layout):
            raise ValueError(f"expected {len(self.layout)} style vectors, got {len(styles)}")
        for s, layer in zip(styles, self.layout):
            if s.ndim != 2 or s.shape[1] != layer.width:
                raise ValueError(f"style {layer.index} ({layer.name}) must be (B, {layer.width}), "
                                 f"got {tuple(s.shape)}")

    # --------------------------------------------------------- synthesis
    def noise_inputs(self, batch: int, noise_mode: str = "const",
                     device: torch.device | None = None) -> list[torch.Tensor | None]:
        """The per-layer noise for ``noise_mode``: the stored buffers
        ("const"), fresh draws ("random") or none ("none")."""
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        buffers = [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        if noise_mode == "const":
            return buffers
        if noise_mode == "none":
            return [None] * self.num_layers
        device = device or buffers[0].device
        return [torch.randn(batch, 1, b.shape[2], b.shape[3], device=device) for b in buffers]

    def synthesize(self, styles: Sequence[torch.Tensor], noise_mode: str = "const",
                   noise: Sequence[torch.Tensor | None] | None = None, path: str | None = None) -> torch.Tensor:
        """S list -> image (B, 3, size, size), raw (no clamp). ``noise``
        overrides ``noise_mode`` with one tensor (or None) per noise layer.
        ``path`` (default ``self.synthesis_path``) picks a fused path of
        :mod:`.synthesis_fused` for inference; with a gradient, or with the
        reference impl, the module path runs."""
        self._check_styles(styles)
        batch = styles[0].shape[0]
        if noise is None:
            noise = self.noise_inputs(batch, noise_mode, styles[0].device)
        elif len(noise) != self.num_layers:
            raise ValueError(f"expected {self.num_layers} noise inputs, got {len(noise)}")
        path = self.synthesis_path if path is None else path
        if path not in SYNTHESIS_PATHS:
            raise ValueError(f"path must be one of {SYNTHESIS_PATHS}, got {path!r}")
        if path != "fast" and self._fused_applies(styles):
            from .synthesis_fused import fused_synthesize

            dtype = torch.bfloat16 if path == "fused-bf16" else torch.float32
            return fused_synthesize(self, styles, noise, dtype, self._synthesis_memory_format())
        x = self.input(batch).contiguous(memory_format=self._synthesis_memory_format())
        x = self.conv1(x, styles[0], noise[0])
        skip = self.to_rgb1(x, styles[1])
        for k in range(len(self.to_rgbs)):
            x = self.convs[2 * k](x, styles[3 * k + 2], noise[2 * k + 1])
            x = self.convs[2 * k + 1](x, styles[3 * k + 3], noise[2 * k + 2])
            skip = self.to_rgbs[k](x, styles[3 * k + 4], skip)
        return skip

    def forward(self, wplus_or_w: torch.Tensor, noise_mode: str = "const",
                noise: Sequence[torch.Tensor | None] | None = None) -> torch.Tensor:
        """W (B, C) or W+ (B, L, C) -> image (B, 3, size, size)."""
        return self.synthesize(self.styles(wplus_or_w), noise_mode=noise_mode, noise=noise)

    # ----------------------------------------------------- implementation
    def set_memory_format(self, memory_format: torch.memory_format | None) -> "Generator":
        """Run the synthesis in ``torch.channels_last`` or
        ``torch.contiguous_format``; ``None`` (default) picks channels_last
        for the fast path on CPU (measured faster there, bench_generator.py)
        and contiguous otherwise."""
        self.memory_format = memory_format
        return self

    def _synthesis_memory_format(self) -> torch.memory_format:
        if self.memory_format is not None:
            return self.memory_format
        fast = self.conv1.conv.impl == "fast"
        return torch.channels_last if fast and self.input.input.device.type == "cpu" else torch.contiguous_format

    def _fused_applies(self, styles: Sequence[torch.Tensor]) -> bool:
        """Fused paths serve inference only, on the fast impl, with no autocast."""
        if self.conv1.conv.impl != "fast" or torch.is_autocast_enabled(styles[0].device.type):
            return False
        if torch.is_grad_enabled() and (any(s.requires_grad for s in styles)
                                        or any(p.requires_grad for p in self.parameters())):
            return False
        return True

    def set_synthesis_path(self, path: str) -> "Generator":
        """Render with ``"fast"`` (default), ``"fused-fp32"`` or ``"fused-bf16"``
        when no gradient is needed (see :mod:`.synthesis_path`)."""
        if path not in SYNTHESIS_PATHS:
            raise ValueError(f"path must be one of {SYNTHESIS_PATHS}, got {path!r}")
        self.synthesis_path = path
        return self

    def use_measured_path(self, allow_bf16: bool = True, cache_dir=None) -> str:
        """Set the path measured fastest on this machine for this generator's shapes
        (measured on it once per machine, torch version and config, then read from
        ``<cache>/synthesis_path.json``)."""
        from .synthesis_path import choose_path

        path = choose_path(allow_bf16=allow_bf16, cache_dir=cache_dir, generator=self).path
        self.set_synthesis_path(path)
        return path

    def set_impl(self, impl: str) -> "Generator":
        """Choose ``"fast"`` or ``"reference"`` kernels for every op."""
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        for module in self.modules():
            if hasattr(module, "impl"):
                module.impl = impl
        return self


def load_generator_checkpoint(path, device="cpu", config: GeneratorConfig | None = None, strict: bool = True,
                              dtype: torch.dtype | None = None) -> tuple[Generator, torch.Tensor | None]:
    """See :func:`styleclip_runtime.models.checkpoints.load_generator_checkpoint`
    (re-exported here, as docs/architecture.md lists it with the network)."""
    from .checkpoints import load_generator_checkpoint as load

    return load(path, device=device, config=config, strict=strict, dtype=dtype)


def save_generator_checkpoint(generator: Generator, path, latent_avg: torch.Tensor | None = None) -> None:
    """See :func:`styleclip_runtime.models.checkpoints.save_generator_checkpoint`."""
    from .checkpoints import save_generator_checkpoint as save

    save(generator, path, latent_avg)
