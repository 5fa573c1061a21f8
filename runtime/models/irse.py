"""IR-SE backbone: the residual network shared by e4e and ArcFace.

Module names follow the published files (``input_layer``, ``body.N.res_layer``,
``body.N.shortcut_layer``, SE ``fc1``/``fc2``) so that official state dicts load
without renaming. The network is parametric in its stage widths and unit
counts; IR-SE50 is ``units=(3, 4, 14, 3)``, ``widths=(64, 128, 256, 512)``.

A unit (``BottleneckIRSE``) is
``BN -> conv3x3 -> PReLU -> conv3x3(stride) -> BN -> SE`` plus a shortcut that is
a strided max-pool of size 1 (no weights) when the width does not change, and
``conv1x1(stride) -> BN`` otherwise. Every stage starts with a stride-2 unit.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class SEModule(nn.Module):
    """Squeeze-and-excitation: scale channels by sigmoid(fc2(relu(fc1(mean))))."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, kernel_size=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, kernel_size=1, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))
        return x * s


class BottleneckIRSE(nn.Module):
    """One improved-residual unit with squeeze-and-excitation."""

    def __init__(self, in_channels: int, depth: int, stride: int, se_reduction: int = 16) -> None:
        super().__init__()
        if in_channels == depth:
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_channels, depth, 1, stride, bias=False),
                nn.BatchNorm2d(depth),
            )
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth),
            SEModule(depth, se_reduction),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


def make_input_layer(width: int) -> nn.Sequential:
    """conv3x3(3 -> width, no bias) -> BN -> PReLU (stride 1)."""
    return nn.Sequential(
        nn.Conv2d(3, width, 3, 1, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.PReLU(width),
    )


def make_body(units: Sequence[int], widths: Sequence[int], se_reduction: int = 16) -> nn.Sequential:
    """All units of all stages in one flat ``Sequential`` (the published indexing).

    Stage ``i`` has ``units[i]`` units of width ``widths[i]``; its first unit has
    stride 2 and reads ``widths[i-1]`` channels (``widths[0]`` for the first
    stage, the width of the input layer).
    """
    check_stages(units, widths)
    layers: list[nn.Module] = []
    in_ch = widths[0]
    for n, depth in zip(units, widths):
        layers.append(BottleneckIRSE(in_ch, depth, 2, se_reduction))
        layers.extend(BottleneckIRSE(depth, depth, 1, se_reduction) for _ in range(n - 1))
        in_ch = depth
    return nn.Sequential(*layers)


def stage_ends(units: Sequence[int]) -> list[int]:
    """Index in the flat body of the last unit of each stage (the feature taps).

    For IR-SE50 (3, 4, 14, 3) this is [2, 6, 20, 23]; e4e taps 6, 20 and 23.
    """
    ends, total = [], 0
    for n in units:
        total += n
        ends.append(total - 1)
    return ends


def check_stages(units: Sequence[int], widths: Sequence[int]) -> None:
    """Validate a stage description; raise ``ValueError`` naming the problem.

    Consecutive stages must differ in width: the stage boundaries of a
    checkpoint are recognised from width changes, and equal widths would hide
    a stride-2 unit behind weight-free shortcuts.
    """
    if len(units) != len(widths) or not units:
        raise ValueError(f"stage units {tuple(units)} and widths {tuple(widths)} must be non-empty "
                         "and of equal length")
    if any(n < 1 for n in units) or any(w < 1 for w in widths):
        raise ValueError(f"stage units {tuple(units)} and widths {tuple(widths)} must be positive")
    if any(a == b for a, b in zip(widths, widths[1:])):
        raise ValueError(f"consecutive stage widths must differ, got {tuple(widths)}")


def infer_stages(state: dict[str, torch.Tensor], prefix: str = "") -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Recover (units, widths) from the ``body.N.res_layer.1.weight`` shapes of a state dict.

    A unit whose output width differs from the previous unit's starts a new
    stage; the first unit always does.
    """
    depths: list[int] = []
    i = 0
    while f"{prefix}body.{i}.res_layer.1.weight" in state:
        depths.append(int(state[f"{prefix}body.{i}.res_layer.1.weight"].shape[0]))
        i += 1
    if not depths:
        raise ValueError("no IR-SE body units (body.0.res_layer.1.weight) in the state dict")
    units: list[int] = []
    widths: list[int] = []
    for d in depths:
        if widths and widths[-1] == d:
            units[-1] += 1
        else:
            widths.append(d)
            units.append(1)
    return tuple(units), tuple(widths)
