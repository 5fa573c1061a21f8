"""StyleCLIP's latent mapper (``LevelsMapper``) and its checkpoint format.

Reproduced with its published quirks (docs: styleclip-reference.md §2):

- each level is ``Sequential(PixelNorm, EqualLinear x 4)`` with ``lr_mul=0.01``
  and the fused leaky ReLU on every layer, the last one included;
- the PixelNorm normalises over dim 1 of the (B, n_layers, C) input, i.e.
  over the *layer* axis of the group, not over the channels;
- the attribute of the coarse level is spelled ``course_mapping``;
- coarse = W+ rows 0:4, medium = 4:8, fine = 8:; a disabled level outputs
  zeros and has no keys in the state dict;
- ``forward`` returns the residual; :func:`apply_mapper` adds ``0.1 *`` it.

This project adds one option, ``space="w"`` (``opts['mapper_space']`` in a
checkpoint; official files have none and are ``"wplus"``): the residual is
averaged over the rows its levels cover and that one W offset is added to
each of them, so the edit is a move in W rather than in W+ (toon-G's
attributes are linear in W, the space its training codes live in).

Checkpoints: ``{'state_dict': {'mapper.*': ..., 'decoder.*': ...}, 'opts': {...}}``.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoints import CheckpointFormatError, load_state_dict_checked, read_checkpoint
from .layers import EqualLinear, PixelNorm

log = logging.getLogger(__name__)

LEVELS = ("coarse", "medium", "fine")
# attribute name of each level (the official spelling) and its W+ rows
LEVEL_ATTRS = {"coarse": "course_mapping", "medium": "medium_mapping", "fine": "fine_mapping"}
LEVEL_ROWS = {"coarse": (0, 4), "medium": (4, 8), "fine": (8, None)}
RESIDUAL_SCALE = 0.1
SPACES = ("wplus", "w")  # where a mapper's residual lives (see the module docstring)


class Mapper(nn.Module):
    """One level: PixelNorm over dim 1, then ``n_layers`` EqualLinear + fused lrelu."""

    def __init__(self, latent_dim: int = 512, n_layers: int = 4, lr_mul: float = 0.01) -> None:
        super().__init__()
        self.mapping = nn.Sequential(PixelNorm(dim=1), *[
            EqualLinear(latent_dim, latent_dim, lr_mul=lr_mul, activation="fused_lrelu") for _ in range(n_layers)
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mapping(x)


class LevelsMapper(nn.Module):
    """Per-level mappers over a W+ code (B, n_latent, style_dim); the output
    is the residual (zeros for rows of a disabled level)."""

    def __init__(self, style_dim: int = 512, n_latent: int = 18, levels: Sequence[str] = LEVELS,
                 n_layers: int = 4, lr_mul: float = 0.01, space: str = "wplus") -> None:
        super().__init__()
        unknown = set(levels) - set(LEVELS)
        if unknown or not levels:
            raise ValueError(f"levels must be a non-empty subset of {LEVELS}, got {tuple(levels)}")
        if space not in SPACES:
            raise ValueError(f"mapper space must be one of {SPACES}, got {space!r}")
        self.space = space
        self.style_dim = style_dim
        self.n_latent = n_latent
        self.levels = tuple(level for level in LEVELS if level in levels)
        self.n_layers = n_layers
        for level in self.levels:
            setattr(self, LEVEL_ATTRS[level], Mapper(style_dim, n_layers, lr_mul))

    def extra_repr(self) -> str:
        return f"style_dim={self.style_dim}, n_latent={self.n_latent}, levels={self.levels}, space={self.space}"

    def rows(self, level: str) -> slice:
        start, stop = LEVEL_ROWS[level]
        return slice(min(start, self.n_latent), self.n_latent if stop is None else min(stop, self.n_latent))

    def forward(self, wplus: torch.Tensor) -> torch.Tensor:
        if wplus.ndim != 3 or wplus.shape[1:] != (self.n_latent, self.style_dim):
            raise ValueError(f"expected W+ (B, {self.n_latent}, {self.style_dim}), got {tuple(wplus.shape)}")
        parts = []
        for level in LEVELS:
            group = wplus[:, self.rows(level)]
            if group.shape[1] == 0:
                continue
            if level in self.levels:
                parts.append(getattr(self, LEVEL_ATTRS[level])(group))
            else:
                parts.append(torch.zeros_like(group))
        residual = torch.cat(parts, dim=1)
        if self.space == "w":  # one W offset: the mean over the covered rows, on each of them
            covered = torch.zeros(1, self.n_latent, 1, dtype=residual.dtype, device=residual.device)
            for level in self.levels:
                covered[:, self.rows(level)] = 1.0
            residual = covered * ((residual * covered).sum(1, keepdim=True) / covered.sum())
        return residual


def apply_mapper(mapper: LevelsMapper, wplus: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """The edited code ``wplus + strength * 0.1 * mapper(wplus)``."""
    return wplus + strength * RESIDUAL_SCALE * mapper(wplus)


@dataclass
class MapperCheckpointInfo:
    """What :func:`load_mapper_checkpoint` found besides the mapper weights."""

    path: str
    levels: tuple[str, ...]
    ignored: dict[str, int] = field(default_factory=dict)  # prefix -> number of keys skipped
    opts: dict[str, Any] = field(default_factory=dict)


def _n_latent_from_opts(opts: dict[str, Any]) -> int:
    if "n_latent" in opts:
        return int(opts["n_latent"])
    size = int(opts.get("stylegan_size", 1024))
    return 2 * int(math.log2(size)) - 2


def load_mapper_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> LevelsMapper:
    """Read an official (or our own) mapper checkpoint and load it strictly.

    Only the ``mapper.`` keys are used (prefix stripped); the ``decoder.``
    generator copy is ignored and reported in a log line and in the
    mapper's ``checkpoint_info``. The levels present are inferred from the
    key groups (the stored ``opts`` flags are overridden by test options in
    the original code and are not trusted); ``opts['mapper_space']``, which
    only this project writes, says whether the residual is one W offset.
    Returns the mapper in eval mode.
    """
    obj, metadata = read_checkpoint(path)
    if "state_dict" in obj and isinstance(obj["state_dict"], dict):
        state, opts = obj["state_dict"], obj.get("opts") or {}
    else:  # safetensors: flat tensors, opts in the metadata
        state, opts = obj, json.loads(metadata.get("opts", "{}"))
    if not isinstance(opts, dict):
        opts = dict(vars(opts)) if hasattr(opts, "__dict__") else {}
    mapper_state = {k[len("mapper."):]: v for k, v in state.items() if k.startswith("mapper.")}
    ignored: dict[str, int] = {}
    for key in state:
        if not key.startswith("mapper."):
            prefix = key.split(".", 1)[0] + "."
            ignored[prefix] = ignored.get(prefix, 0) + 1
    if not mapper_state:
        raise CheckpointFormatError(f"{path}: no 'mapper.' keys in the state dict "
                                    f"(found prefixes: {sorted(ignored) or 'none'})")
    unknown = {p: n for p, n in ignored.items() if p != "decoder."}
    levels = tuple(level for level in LEVELS
                   if any(k.startswith(LEVEL_ATTRS[level] + ".") for k in mapper_state))
    if not levels:
        raise CheckpointFormatError(f"{path}: 'mapper.' keys name no known level "
                                    f"({', '.join(sorted(mapper_state)[:5])})")
    first = next(k for k in mapper_state if k.endswith(".weight"))
    style_dim = int(mapper_state[first].shape[1])
    n_layers = len({k.split(".")[2] for k in mapper_state if k.startswith(LEVEL_ATTRS[levels[0]] + ".mapping.")})
    space = str(opts.get("mapper_space", "wplus"))
    if space not in SPACES:
        raise CheckpointFormatError(f"{path}: opts name mapper_space {space!r}; expected one of {SPACES}")
    mapper = LevelsMapper(style_dim, _n_latent_from_opts(opts), levels, n_layers=n_layers, space=space)
    # unexpected non-decoder keys are reported by the strict load as 'mapper.'-less names
    strict_state = dict(mapper_state)
    strict_state.update({k: v for k, v in state.items() if k.split(".", 1)[0] + "." in unknown})
    load_state_dict_checked(mapper, strict_state, f"LevelsMapper(levels={levels}) in {path}", strict=True)
    if ignored.get("decoder."):
        log.info("%s: ignored %d 'decoder.' keys (the generator copy)", path, ignored["decoder."])
    mapper.checkpoint_info = MapperCheckpointInfo(str(path), levels, ignored, dict(opts))
    return mapper.to(device).eval()


def save_mapper_checkpoint(mapper: LevelsMapper, path: str | Path, opts: dict[str, Any]) -> None:
    """Write ``{'state_dict': {'mapper.*'}, 'opts'}`` (no decoder copy), or a
    safetensors file when ``path`` ends in ``.safetensors``. The level flags,
    ``style_dim`` and ``n_latent`` are added to ``opts``."""
    path = Path(path)
    opts = dict(opts)
    for level in LEVELS:
        opts[f"no_{level}_mapper"] = level not in mapper.levels
    opts.setdefault("style_dim", mapper.style_dim)
    opts["n_latent"] = mapper.n_latent
    if mapper.space != "wplus":  # absent for W+ mappers, as in the official files
        opts["mapper_space"] = mapper.space
    state = {f"mapper.{k}": v.detach().cpu().contiguous().clone() for k, v in mapper.state_dict().items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path), metadata={"format": "styleclip-levels-mapper", "opts": json.dumps(opts)})
        return
    torch.save({"state_dict": state, "opts": opts}, str(path))
