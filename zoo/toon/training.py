"""Helpers shared by the toon trainers: schedule, checkpoints, CSV curves, export."""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from .attributes import FAMILIES, Attributes, labels


def warmup_cosine(step: int, total: int, warmup: int, floor: float = 0.05) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine decay to ``floor``."""
    if step < warmup:
        return (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))


def save_checkpoint(path: Path, model: nn.Module, opt: torch.optim.Optimizer, step: int) -> None:
    """Write atomically (temp file + rename) so an interrupted write never leaves a bad checkpoint."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": torch.tensor(step)}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, model: nn.Module, opt: torch.optim.Optimizer) -> int:
    """Restore model and optimiser; returns the step to resume from."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["opt"])
    return int(state["step"])


def export_fp16(model: nn.Module, path: Path, skip: tuple[str, ...] = ()) -> None:
    """Save float tensors as fp16 (integer buffers unchanged) to a safetensors file."""
    tensors = {}
    for k, v in model.state_dict().items():
        if any(k.startswith(s) for s in skip):
            continue
        v = v.detach().cpu().contiguous()
        tensors[k] = v.half() if v.is_floating_point() else v
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


class CurveLog:
    """Append rows of metrics to a CSV beside the outputs (not committed)."""

    def __init__(self, path: Path, columns: list[str], resume: bool) -> None:
        self.path, self.columns = path, columns
        if not (resume and path.exists()):
            with path.open("w", newline="") as f:
                csv.writer(f).writerow(columns)

    def write(self, **row: float) -> None:
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([row.get(c, "") for c in self.columns])


def attribute_cross_entropy(logits: dict[str, torch.Tensor], attrs: list[Attributes],
                            weights: dict[str, float] | None = None) -> torch.Tensor:
    """Weighted mean over families of the cross-entropy of per-family logits
    (B, n_values) with the faces' values; eyes behind sunglasses are not scored."""
    lab = {k: torch.from_numpy(v) for k, v in labels(attrs).items()}
    seen = (lab["glasses"] != FAMILIES["glasses"].index("sunglasses")).float()
    weights = weights or {}
    total, norm = 0.0, 0.0
    for f, logit in logits.items():
        ce = F.cross_entropy(logit.float(), lab[f], reduction="none")
        term = (ce * seen).sum() / seen.sum().clamp(min=1) if f == "eyes" else ce.mean()
        w = weights.get(f, 1.0)
        total, norm = total + w * term, norm + w
    return total / norm
