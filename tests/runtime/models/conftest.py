"""Fixtures of the model tests."""
from __future__ import annotations

import pytest
import torch

from model_testlib import randomize
from styleclip_runtime.models.stylegan2 import Generator


@pytest.fixture
def small_generator() -> Generator:
    torch.manual_seed(0)
    return randomize(Generator(32, style_dim=64, n_mlp=2, channel_max=32))
