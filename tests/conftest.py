"""Test-wide settings: every test runs against a private cache folder, so no
test reads or writes the user's ~/.cache/styleclip, and nothing is fetched."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    old = {k: os.environ.get(k) for k in ("STYLECLIP_CACHE", "HF_HUB_OFFLINE", "STYLECLIP_SYNTHESIS_PATH")}
    os.environ["STYLECLIP_CACHE"] = str(tmp_path_factory.mktemp("styleclip-cache"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    # results render on the reference fast path (byte-stable across machines) unless a test is about
    # the path choice (runtime/execution/render_path.py; tests/runtime/test_render_path.py)
    os.environ["STYLECLIP_SYNTHESIS_PATH"] = "fast"
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def pytest_addoption(parser):
    parser.addoption(
        "--long", action="store_true", default=False,
        help="long fuzz runs (tests/dsl/test_fuzz.py: 100,000 examples instead of CI's 2,000)",
    )


# Small random models (the real classes at tiny sizes), shared by the runtime and zoo tests;
# torch is imported inside so the language tests never load it.
@pytest.fixture(scope="session")
def tiny_generator():
    import torch

    from styleclip_runtime.models.stylegan2 import Generator

    torch.manual_seed(0)
    g = Generator(16, style_dim=32, n_mlp=2, channel_multiplier=0.5, channel_max=16, lr_mlp=1.0).eval()
    for p in g.parameters():
        p.requires_grad_(False)
    return g


@pytest.fixture(scope="session")
def tiny_clip():
    import torch
    from open_clip.model import CLIP
    from open_clip.tokenizer import SimpleTokenizer

    from styleclip_runtime.models.clip_model import ClipModel

    torch.manual_seed(1)
    model = CLIP(embed_dim=32,
                 vision_cfg={"image_size": 16, "patch_size": 4, "width": 32, "layers": 1, "head_width": 16},
                 text_cfg={"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1})
    return ClipModel(model.float(), SimpleTokenizer(context_length=16), fingerprint="tiny-clip")
