"""Helpers shared by the model tests: fixture paths, randomised generators, and
the deterministic weights of the numerical reference (fixtures/official-formats/README.md)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from styleclip_runtime.models.stylegan2 import Generator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "official-formats"


def fixture_keys(name: str) -> dict[str, list[int]]:
    return json.loads((FIXTURES / name).read_text())["keys"]


def reference_state(generator: Generator, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """The README's recipe: walk the state-dict keys in sorted order; FIR
    kernels and noise buffers stay as constructed, everything else is drawn."""
    state = generator.state_dict()
    out = {}
    for key in sorted(state):
        if key.endswith("blur.kernel") or key.endswith("upsample.kernel") or key.startswith("noises."):
            out[key] = state[key].clone()
            continue
        a = rng.standard_normal(tuple(state[key].shape), dtype=np.float32)
        if key.endswith("noise.weight"):
            a = a * 0.1
        elif key.endswith("modulation.bias"):
            a = 1.0 + 0.1 * a
        elif key.endswith("bias"):
            a = 0.1 * a
        out[key] = torch.from_numpy(np.ascontiguousarray(a))
    return out


def randomize(generator: Generator, seed: int = 0, noise_scale: float = 0.1) -> Generator:
    """Give a freshly built generator non-trivial biases and noise strengths
    (the constructor leaves them at zero), so tests see every term."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in generator.named_parameters():
            if name.endswith("noise.weight"):
                p.copy_(torch.randn(p.shape, generator=rng) * noise_scale)
            elif name.endswith("modulation.bias"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=rng))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=rng))
    return generator.eval()
