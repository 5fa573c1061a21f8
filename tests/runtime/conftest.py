"""Small random models for runtime tests: the real classes at tiny sizes."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from .tiny_modelset import write_tiny_modelset


@pytest.fixture(scope="module")
def modelset_yaml(tmp_path_factory) -> Path:
    """The tiny model set (tiny_modelset.py) written once per test module."""
    return write_tiny_modelset(tmp_path_factory.mktemp("models"))


@pytest.fixture()
def env(tmp_path, monkeypatch, modelset_yaml) -> Path:
    """The tiny set's YAML, with a cache folder of the test's own."""
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    return modelset_yaml


@pytest.fixture(scope="session")
def tiny_generator():
    from styleclip_runtime.models.stylegan2 import Generator

    torch.manual_seed(0)
    g = Generator(16, style_dim=32, n_mlp=2, channel_multiplier=0.5, channel_max=16, lr_mlp=1.0).eval()
    for p in g.parameters():
        p.requires_grad_(False)
    return g


@pytest.fixture(scope="session")
def tiny_clip():
    from open_clip.model import CLIP
    from open_clip.tokenizer import SimpleTokenizer

    from styleclip_runtime.models.clip_model import ClipModel

    torch.manual_seed(1)
    model = CLIP(embed_dim=32,
                 vision_cfg={"image_size": 16, "patch_size": 4, "width": 32, "layers": 1, "head_width": 16},
                 text_cfg={"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1})
    return ClipModel(model.float(), SimpleTokenizer(context_length=16), fingerprint="tiny-clip")
