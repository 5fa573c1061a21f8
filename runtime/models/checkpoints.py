"""Safe checkpoint reading, strict key matching, and the generator loader.

Formats read by :func:`load_generator_checkpoint`:

- the official PyTorch-port layout: ``{'g_ema': state_dict, 'latent_avg': (512,)}``,
  possibly with ``'g'``, ``'d'``, ``'g_optim'``, ``'d_optim'``, ``'args'``
  (an ``argparse.Namespace``), ``'ada_aug_p'``; our own files add ``'config'``;
- a bare generator state dict;
- a ``{'state_dict': {'decoder.*': ...}}`` wrapper (e4e / StyleCLIP files);
- ``.safetensors`` files: the state-dict names, plus ``latent_avg`` as a
  tensor, and the config as JSON in the metadata.

Pickles are read with ``torch.load(..., weights_only=True)``: only tensors,
plain containers and ``argparse.Namespace`` are accepted. Key comparison and
the base ``CheckpointError`` are the project's shared ones (``strict_load``);
the errors here add the three key lists and the file-format cases.
"""
from __future__ import annotations

import argparse
import json
import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .strict_load import CheckpointError, KeyReport, compare_keys, expected_shapes, split_prefix
from .stylegan2 import Generator, GeneratorConfig

__all__ = [
    "CheckpointError", "CheckpointFormatError", "CheckpointMismatchError", "CheckpointNotFoundError",
    "KeyReport",
    "extract_generator_state", "infer_generator_config", "load_generator_checkpoint",
    "load_state_dict_checked", "read_checkpoint", "save_generator_checkpoint",
]

_OFFICIAL_EXTRA_KEYS = ("g", "d", "g_optim", "d_optim", "args", "ada_aug_p", "config")


class CheckpointFormatError(CheckpointError):
    """The file is unreadable (truncated, corrupt, unsafe) or not in a known layout."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No file at the given path."""


class CheckpointMismatchError(CheckpointError):
    """The state dict's keys or shapes differ from the network's.

    ``missing``: keys the network has and the file lacks; ``unexpected``:
    keys the file has and the network lacks; ``mismatched``: ``(key,
    network_shape, file_shape)`` for keys in both with different shapes.
    """

    def __init__(self, what: str, report: KeyReport) -> None:
        self.what = what
        self.report = report
        self.missing = list(report.missing)
        self.unexpected = list(report.unexpected)
        self.mismatched = list(report.mismatched)
        super().__init__(f"checkpoint does not match {what}:\n{report.describe(limit=12)}")


def load_state_dict_checked(module: torch.nn.Module, state: Mapping[str, torch.Tensor], what: str,
                            strict: bool = True) -> KeyReport:
    """Load ``state`` into ``module``. Strict: any difference raises
    :class:`CheckpointMismatchError` and nothing is loaded. Non-strict: the
    matching keys are loaded, and one warning lists what was not."""
    report = compare_keys(expected_shapes(module), state)
    if not report.ok and strict:
        raise CheckpointMismatchError(what, report)
    bad = {k for k, _, _ in report.mismatched}
    usable = {k: v for k, v in state.items() if k not in bad and k not in report.unexpected}
    module.load_state_dict(usable, strict=False)
    if not report.ok:
        warnings.warn(f"partial load of {what}: {report.describe(limit=12)}".replace("\n", "; "),
                      RuntimeWarning, stacklevel=3)
    return report


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a ``.safetensors`` file (tensors, metadata) or a torch pickle
    (object, {}) safely onto the CPU. Unreadable files raise
    :class:`CheckpointFormatError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(f"checkpoint not found: {path}")
    size = path.stat().st_size
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        try:
            tensors: dict[str, Any] = {}
            with safe_open(str(path), framework="pt", device="cpu") as f:
                metadata = dict(f.metadata() or {})
                for key in f.keys():
                    tensors[key] = f.get_tensor(key)
        except Exception as exc:
            raise CheckpointFormatError(f"{path} ({size} bytes): cannot read safetensors file, truncated or "
                                        f"corrupt? ({type(exc).__name__}: {exc})") from exc
        return tensors, metadata
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        from ..io.safe_pickle import first_line

        msg = first_line(exc)  # never torch's advice to retry with weights_only=False
        if isinstance(exc, pickle.UnpicklingError) and "weights_only" in str(exc):
            raise CheckpointFormatError(f"{path}: refused, the file holds objects other than tensors and "
                                        "plain containers") from exc
        raise CheckpointFormatError(f"{path} ({size} bytes): cannot read checkpoint, truncated or corrupt? "
                                    f"({type(exc).__name__}: {msg})") from exc
    if not isinstance(obj, dict):
        raise CheckpointFormatError(f"{path}: expected a dict at the top level, got {type(obj).__name__}")
    return obj, {}


# ------------------------------------------------------------ generator

def _is_generator_state(d: Mapping[str, Any]) -> bool:
    return any(k.startswith("style.") for k in d) and "input.input" in d


def extract_generator_state(obj: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], torch.Tensor | None,
                                                               dict | None]:
    """(state_dict, latent_avg, stored config) from any supported layout."""
    latent_avg = obj.get("latent_avg")
    if latent_avg is not None and not isinstance(latent_avg, torch.Tensor):
        latent_avg = torch.as_tensor(latent_avg)
    config = obj.get("config") if isinstance(obj.get("config"), dict) else None
    if "g_ema" in obj and isinstance(obj["g_ema"], Mapping):
        return dict(obj["g_ema"]), latent_avg, config
    if "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        inner = obj["state_dict"]
        decoder = split_prefix(inner, "decoder.")
        if decoder:
            return decoder, latent_avg, config
    prefixed = split_prefix(obj, "g_ema.")
    if prefixed:
        return prefixed, latent_avg, config
    state = {k: v for k, v in obj.items() if k not in ("latent_avg", *_OFFICIAL_EXTRA_KEYS)}
    if _is_generator_state(state):
        return state, latent_avg, config
    keys = ", ".join(sorted(map(str, obj))[:8])
    raise CheckpointFormatError(f"no generator weights found (expected 'g_ema', a 'decoder.' state dict or "
                                f"a bare generator state dict); top-level keys: {keys}")


def infer_generator_config(state: Mapping[str, torch.Tensor], lr_mlp: float = 0.01) -> GeneratorConfig:
    """Size, style_dim, n_mlp and channel widths from the keys and shapes.
    ``lr_mlp`` is not stored in weights and is taken as given."""
    try:
        n_mlp = len({k.split(".")[1] for k in state if k.startswith("style.") and k.endswith(".weight")})
        style_dim = int(state["conv1.conv.modulation.weight"].shape[1])
        n_rgb = len({k.split(".")[1] for k in state if k.startswith("to_rgbs.")})
        width4 = int(state["input.input"].shape[1])
        widths = {4: width4}
        for k in range(n_rgb):
            widths[2 ** (k + 3)] = int(state[f"convs.{2 * k + 1}.conv.weight"].shape[1])
    except KeyError as exc:
        raise CheckpointFormatError(f"cannot infer the generator config: key {exc} missing; "
                                    f"pass config= explicitly") from exc
    size = 2 ** (n_rgb + 2)
    channel_max = max(widths.values())
    uncapped = [(res, w) for res, w in widths.items() if res >= 64 and w < channel_max]
    candidates = [w * res / (256 * 64) for res, w in uncapped[:1]] + [2, 1, 0.5, 0.25, 4, 8]
    for cm in candidates:
        try:
            cfg = GeneratorConfig(size, style_dim, max(n_mlp, 1), cm, channel_max, lr_mlp)
        except ValueError:
            continue
        if cfg.channel_widths() == widths:
            return cfg
    raise CheckpointFormatError(f"channel widths {widths} fit no (channel_multiplier, channel_max); "
                                f"pass config= explicitly")


def load_generator_checkpoint(path: str | Path, device: str | torch.device = "cpu",
                              config: GeneratorConfig | None = None, strict: bool = True,
                              dtype: torch.dtype | None = None) -> tuple[Generator, torch.Tensor | None]:
    """Build a :class:`Generator` from a checkpoint; returns ``(generator,
    latent_avg)`` (``latent_avg`` is None when the file has none).

    The config is, in order of preference: ``config``, the one stored in the
    file, or inferred from the shapes. With ``strict`` any missing,
    unexpected or mis-shaped key raises :class:`CheckpointMismatchError`;
    otherwise the rest loads and a warning lists the differences. The
    generator is in eval mode, on ``device``, in ``dtype`` (default: float32).
    """
    obj, metadata = read_checkpoint(path)
    state, latent_avg, stored = extract_generator_state(obj)
    if stored is None and "config" in metadata:
        stored = json.loads(metadata["config"])
    if config is None:
        config = GeneratorConfig(**stored) if stored else infer_generator_config(state)
    generator = Generator.from_config(config)
    load_state_dict_checked(generator, state, f"Generator({_describe(config)}) in {path}", strict)
    if latent_avg is not None:
        if latent_avg.shape[-1] != config.style_dim:
            raise CheckpointFormatError(f"{path}: latent_avg has shape {list(latent_avg.shape)}, "
                                        f"expected last dim {config.style_dim}")
        latent_avg = latent_avg.to(device=device, dtype=dtype or torch.float32)
    generator = generator.to(device=device, dtype=dtype or torch.float32).eval()
    return generator, latent_avg


def _describe(config: GeneratorConfig) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.to_dict().items())


def save_generator_checkpoint(generator: Generator, path: str | Path,
                              latent_avg: torch.Tensor | None = None) -> None:
    """Write the official layout (``{'g_ema', 'latent_avg', 'config'}``) with
    ``torch.save``, or a safetensors file when ``path`` ends in ``.safetensors``."""
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    config = generator.config.to_dict()
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        tensors = {k: v.clone() for k, v in state.items()}
        if latent_avg is not None:
            tensors["latent_avg"] = latent_avg.detach().cpu().contiguous().clone()
        save_file(tensors, str(path), metadata={"format": "stylegan2-rosinality", "config": json.dumps(config)})
        return
    payload: dict[str, Any] = {"g_ema": state, "config": config}
    if latent_avg is not None:
        payload["latent_avg"] = latent_avg.detach().cpu()
    torch.save(payload, str(path))
