"""e4e ("encoder for editing"): image -> W+ codes for a StyleGAN2 generator.

Structure (encoder4editing ``Encoder4Editing``, parametric here):

- IR-SE backbone (``irse.py``): input layer, four stages. The last unit of
  stages 2, 3 and 4 gives c1 (1/4 of the input size), c2 (1/8) and c3 (1/16).
- Feature pyramid: p2 = up(c3) + latlayer1(c2), p1 = up(p2) + latlayer2(c1),
  ``up`` being bilinear with ``align_corners=True`` to the finer grid.
- ``n_styles`` ``GradualStyleBlock``s: log2(spatial) strided 3x3 convs with
  LeakyReLU(0.01), then an ``EqualLinear``. Styles ``[0, coarse_index)`` read
  c3, ``[coarse_index, middle_index)`` read p2, the rest read p1.
- Progressive deltas: every style starts from style 0's output and styles
  1.. add their own block's output: ``w[:, 0] = s0``, ``w[:, i] = s0 + s_i``.

``Encoder4Editing.forward`` returns these codes WITHOUT the generator's
average latent; ``Inverter`` adds ``latent_avg`` (as pSp does with
``start_from_latent_avg``).

The official FFHQ encoder is ``E4EConfig()`` (input 256, 18 styles of 512,
IR-SE50). A small one uses the same class, e.g.
``E4EConfig(input_size=64, n_styles=10, style_dim=128, stage_units=(1, 1, 1, 1),
widths=(16, 32, 64, 128))``.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .irse import check_stages, infer_stages, make_body, make_input_layer, stage_ends
from .layers import EqualLinear
from .checkpoints import CheckpointFormatError, CheckpointMismatchError, load_state_dict_checked, read_checkpoint
from .strict_load import KeyReport, split_prefix


@dataclass(frozen=True)
class E4EConfig:
    """Architecture of an e4e encoder. Defaults: the official FFHQ encoder."""

    input_size: int = 256
    n_styles: int = 18
    style_dim: int = 512
    stage_units: tuple[int, ...] = (3, 4, 14, 3)
    widths: tuple[int, ...] = (64, 128, 256, 512)
    coarse_index: int = 3
    middle_index: int = 7
    se_reduction: int = 16

    def __post_init__(self) -> None:
        object.__setattr__(self, "stage_units", tuple(int(u) for u in self.stage_units))
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        check_stages(self.stage_units, self.widths)
        if len(self.stage_units) != 4:
            raise ValueError(f"e4e needs exactly 4 backbone stages, got {len(self.stage_units)}")
        s = self.input_size
        if s < 32 or s & (s - 1):
            raise ValueError(f"input_size must be a power of two >= 32, got {s}")
        if self.n_styles < 1 or self.style_dim < 1:
            raise ValueError("n_styles and style_dim must be positive")
        if not 1 <= self.coarse_index <= self.middle_index:
            raise ValueError("need 1 <= coarse_index <= middle_index")

    @property
    def taps(self) -> tuple[int, int, int]:
        """Body indices of c1, c2, c3 (6, 20, 23 for IR-SE50)."""
        ends = stage_ends(self.stage_units)
        return ends[1], ends[2], ends[3]

    def block_spatial(self, i: int) -> int:
        """Spatial size of the feature map style block ``i`` reads."""
        if i < self.coarse_index:
            return self.input_size // 16
        if i < self.middle_index:
            return self.input_size // 8
        return self.input_size // 4

    @classmethod
    def for_generator(cls, size: int, **kwargs: Any) -> "E4EConfig":
        """The config whose n_styles matches a generator of ``size`` pixels (2*log2(size)-2)."""
        return cls(n_styles=2 * int(math.log2(size)) - 2, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stage_units"] = list(self.stage_units)
        d["widths"] = list(self.widths)
        return d


class GradualStyleBlock(nn.Module):
    """log2(spatial) stride-2 convs + LeakyReLU, then EqualLinear -> one style vector."""

    def __init__(self, in_channels: int, out_channels: int, spatial: int) -> None:
        super().__init__()
        n = int(math.log2(spatial))
        if n < 1 or 2 ** n != spatial:
            raise ValueError(f"style block spatial size must be a power of two >= 2, got {spatial}")
        layers: list[nn.Module] = []
        for k in range(n):
            layers.append(nn.Conv2d(in_channels if k == 0 else out_channels, out_channels, 3, 2, 1))
            layers.append(nn.LeakyReLU())
        self.convs = nn.Sequential(*layers)
        self.linear = EqualLinear(out_channels, out_channels, lr_mul=1.0)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convs(x)
        return self.linear(x.reshape(-1, self.out_channels))


def _upsample_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=y.shape[-2:], mode="bilinear", align_corners=True) + y


class Encoder4Editing(nn.Module):
    """e4e encoder: ``forward(x: (B,3,S,S) in [-1,1]) -> (B, n_styles, style_dim)``."""

    def __init__(self, config: E4EConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or E4EConfig()
        w = config.widths
        self.input_layer = make_input_layer(w[0])
        self.body = make_body(config.stage_units, w, config.se_reduction)
        self.styles = nn.ModuleList(
            GradualStyleBlock(w[3], config.style_dim, config.block_spatial(i)) for i in range(config.n_styles)
        )
        self.latlayer1 = nn.Conv2d(w[2], w[3], 1, 1, 0)
        self.latlayer2 = nn.Conv2d(w[1], w[3], 1, 1, 0)
        self._taps = config.taps

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The backbone taps (c1, c2, c3)."""
        i1, i2, i3 = self._taps
        x = self.input_layer(x)
        c1 = c2 = None
        for i, unit in enumerate(self.body):
            x = unit(x)
            if i == i1:
                c1 = x
            elif i == i2:
                c2 = x
            elif i == i3:
                break
        return c1, c2, x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.config.input_size
        if x.ndim != 4 or x.shape[1] != 3 or tuple(x.shape[-2:]) != (size, size):
            raise ValueError(f"e4e expects (B, 3, {size}, {size}) input, got {tuple(x.shape)}")
        c1, c2, c3 = self.features(x)
        w0 = self.styles[0](c3)
        codes = [w0]
        feats, p2 = c3, None
        for i in range(1, self.config.n_styles):
            if i == self.config.coarse_index:
                p2 = _upsample_add(c3, self.latlayer1(c2))
                feats = p2
            if i == self.config.middle_index:
                if p2 is None:
                    p2 = _upsample_add(c3, self.latlayer1(c2))
                feats = _upsample_add(p2, self.latlayer2(c1))
            codes.append(w0 + self.styles[i](feats))
        return torch.stack(codes, dim=1)


class Inverter(nn.Module):
    """Encoder plus the generator's average latent: image -> W+ codes ready to render."""

    def __init__(self, encoder: Encoder4Editing, latent_avg: torch.Tensor) -> None:
        super().__init__()
        self.encoder = encoder
        n, d = encoder.config.n_styles, encoder.config.style_dim
        avg = latent_avg.detach().float()
        if avg.shape == (d,):
            avg = avg.expand(n, d)
        if tuple(avg.shape) != (n, d):
            raise ValueError(f"latent_avg must be ({d},) or ({n}, {d}), got {tuple(latent_avg.shape)}")
        self.register_buffer("latent_avg", avg.clone())

    @property
    def input_size(self) -> int:
        return self.encoder.config.input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x) + self.latent_avg.unsqueeze(0)

    @torch.no_grad()
    def invert_images(self, images: list[Image.Image]) -> torch.Tensor:
        """PIL images (aligned faces) -> (B, n_styles, style_dim) W+ codes."""
        device = self.latent_avg.device
        x = torch.stack([preprocess_image(im, self.input_size) for im in images]).to(device)
        return self(x)


def preprocess_image(image: Image.Image, size: int = 256) -> torch.Tensor:
    """PIL image -> (3, size, size) float tensor in [-1, 1].

    RGB conversion, bilinear resize to ``size``x``size`` (PIL, as torchvision's
    ``Resize`` does on PIL input), then ``(x/255 - 0.5) / 0.5``.
    """
    image = image.convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.BILINEAR)
    arr = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous() * 2.0 - 1.0


def infer_e4e_config(state: dict[str, torch.Tensor]) -> E4EConfig:
    """Recover the architecture from an encoder state dict (no prefix)."""
    units, widths = infer_stages(state)
    n_styles = 0
    conv_counts: list[int] = []
    while f"styles.{n_styles}.linear.weight" in state:
        k = 0
        while f"styles.{n_styles}.convs.{2 * k}.weight" in state:
            k += 1
        conv_counts.append(k)
        n_styles += 1
    if n_styles == 0:
        raise ValueError("no style blocks (styles.0.linear.weight) in the state dict")
    style_dim = int(state["styles.0.linear.weight"].shape[0])
    base = conv_counts[0]
    coarse = next((i for i, c in enumerate(conv_counts) if c > base), n_styles)
    middle = next((i for i, c in enumerate(conv_counts) if c > base + 1), n_styles)
    return E4EConfig(input_size=16 * 2 ** base, n_styles=n_styles, style_dim=style_dim,
                     stage_units=units, widths=widths, coarse_index=max(coarse, 1),
                     middle_index=max(middle, coarse, 1))


def _config_from_opts(opts: dict[str, Any]) -> E4EConfig | None:
    """Our files store the config as ``opts['e4e_config']``; official ones only
    ``stylegan_size`` (with the IR-SE50 encoder), which fixes everything else."""
    if isinstance(opts.get("e4e_config"), dict):
        return E4EConfig(**opts["e4e_config"])
    if opts.get("stylegan_size"):
        return E4EConfig.for_generator(int(opts["stylegan_size"]))
    return None


def save_e4e_checkpoint(encoder: Encoder4Editing, latent_avg: torch.Tensor, path: str | Path,
                        opts: dict[str, Any] | None = None, decoder_state: dict[str, torch.Tensor] | None = None) -> None:
    """Write the official layout (``state_dict`` with ``encoder.``/``decoder.`` keys,
    ``latent_avg``, ``opts``); the config goes in ``opts['e4e_config']``. A
    ``.safetensors`` path stores the same keys flat, with ``opts`` as JSON metadata."""
    state = {f"encoder.{k}": v.detach().cpu() for k, v in encoder.state_dict().items()}
    for k, v in (decoder_state or {}).items():
        state[f"decoder.{k}"] = v.detach().cpu()
    all_opts = {"encoder_type": "Encoder4Editing", "start_from_latent_avg": True, **(opts or {}),
                "e4e_config": encoder.config.to_dict()}
    avg = latent_avg.detach().cpu().float()
    if Path(path).suffix == ".safetensors":
        from safetensors.torch import save_file

        tensors = {k: v.contiguous().clone() for k, v in state.items()}
        tensors["latent_avg"] = avg.contiguous().clone()
        save_file(tensors, str(path), metadata={"format": "e4e", "opts": json.dumps(all_opts)})
        return
    torch.save({"state_dict": state, "latent_avg": avg, "opts": all_opts}, str(path))


def load_e4e_checkpoint(path: str | Path, strict: bool = True, config: E4EConfig | None = None,
                        require_decoder: bool = False) -> tuple[Encoder4Editing, torch.Tensor, dict]:
    """Load an e4e checkpoint in the official layout.

    The file is ``{'state_dict': {'encoder.*', 'decoder.*'}, 'latent_avg': (n, d), 'opts': {...}}``.
    The encoder is built from ``config`` or, when None, from the shapes in the
    file, and loaded strictly. Returns ``(encoder in eval mode, latent_avg, opts)``;
    ``opts['_decoder_keys']`` counts the generator keys found beside the encoder
    (they are not loaded here; ``require_decoder`` makes their absence an error).
    """
    obj, metadata = read_checkpoint(path)
    if "state_dict" not in obj and any(k.startswith("encoder.") for k in obj):  # flat safetensors layout
        obj = {"state_dict": {k: v for k, v in obj.items() if k != "latent_avg"},
               "latent_avg": obj.get("latent_avg"), "opts": json.loads(metadata.get("opts", "{}"))}
    return e4e_from_checkpoint(obj, source=path, strict=strict, config=config,
                               require_decoder=require_decoder)


def e4e_from_checkpoint(ckpt: Any, source: str | Path = "<memory>", strict: bool = True,
                        config: E4EConfig | None = None,
                        require_decoder: bool = False) -> tuple[Encoder4Editing, torch.Tensor, dict]:
    """``load_e4e_checkpoint`` for a checkpoint object already in memory."""
    path = source
    if not isinstance(ckpt, dict):
        raise CheckpointFormatError(f"cannot load e4e encoder from {path}: expected a dict, got {type(ckpt).__name__}")
    state = ckpt.get("state_dict", ckpt)
    if not isinstance(state, dict):
        raise CheckpointFormatError(f"cannot load e4e encoder from {path}: 'state_dict' is not a dict")
    enc_state = split_prefix(state, "encoder.")
    if not enc_state:
        raise CheckpointFormatError(f"cannot load e4e encoder from {path}: no 'encoder.*' keys under 'state_dict'")
    decoder_keys = [k for k in state if k.startswith("decoder.")]
    others = [k for k in state if not k.startswith(("encoder.", "decoder."))]
    if strict and others:
        raise CheckpointMismatchError(f"the e4e checkpoint layout in {path}", KeyReport(unexpected=others))
    if require_decoder and not decoder_keys:
        raise CheckpointFormatError(f"cannot load e4e checkpoint {path}: no 'decoder.*' generator keys")
    raw_opts = ckpt.get("opts") or {}
    opts = dict(vars(raw_opts) if isinstance(raw_opts, argparse.Namespace) else raw_opts)
    if config is None:
        try:
            config = _config_from_opts(opts) or infer_e4e_config(enc_state)
        except (ValueError, TypeError) as exc:
            raise CheckpointFormatError(f"cannot load e4e encoder from {path}: {exc}") from exc
    if strict:
        # Every weight will be overwritten: skip the (slow, 267M-parameter) random init.
        with torch.device("meta"):
            encoder = Encoder4Editing(config)
        encoder = encoder.to_empty(device="cpu")
    else:
        encoder = Encoder4Editing(config)
    load_state_dict_checked(encoder, enc_state, f"e4e encoder in {path}", strict)
    encoder.eval()

    latent_avg = ckpt.get("latent_avg")
    n, d = config.n_styles, config.style_dim
    if latent_avg is None:
        raise CheckpointFormatError(f"e4e checkpoint {path} has no 'latent_avg'")
    if not isinstance(latent_avg, torch.Tensor) or tuple(latent_avg.shape) not in ((n, d), (d,)):
        shape = tuple(getattr(latent_avg, "shape", ()))
        raise CheckpointFormatError(f"e4e checkpoint {path}: latent_avg expected [{n}, {d}] or [{d}], found {list(shape)}")
    latent_avg = latent_avg.float()
    if latent_avg.ndim == 1:
        latent_avg = latent_avg.expand(n, d).clone()
    opts["_decoder_keys"] = len(decoder_keys)
    return encoder, latent_avg, opts
