"""CLIP wrapper: offline loading, StyleCLIP template averaging, caching, image encoding."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from styleclip_runtime.models import clip_model as cm
from styleclip_runtime.models.checkpoints import CheckpointMismatchError
from styleclip_runtime.models.clip_model import ClipModel
from styleclip_runtime.models.text_templates import IMAGENET_TEMPLATES, STYLECLIP_TEMPLATES

CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 1, "head_width": 16},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """Random weights of the tiny config, stored as fp16 safetensors (as a trained set might ship them)."""
    from open_clip.model import CLIP

    torch.manual_seed(0)
    model = CLIP(embed_dim=32, vision_cfg=CONFIG["vision_cfg"], text_cfg=CONFIG["text_cfg"])
    path = tmp_path_factory.mktemp("clip") / "clip.safetensors"
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


@pytest.fixture(scope="module")
def clip(weights) -> ClipModel:
    return ClipModel.from_config(CONFIG, weights)


class DictStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, payload: bytes) -> None:
        self.data[key] = payload


def test_templates_are_clips_list_without_many():
    assert len(IMAGENET_TEMPLATES) == 80 and len(set(IMAGENET_TEMPLATES)) == 80
    assert len(STYLECLIP_TEMPLATES) == 79
    assert "a photo of many {}." not in STYLECLIP_TEMPLATES
    assert all(t.count("{}") == 1 for t in IMAGENET_TEMPLATES)


def test_fp16_weights_load_as_float32(clip, weights):
    params = list(clip.model.parameters())
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in params)
    assert clip.image_size == 32
    assert len(clip.fingerprint) == 64
    assert ClipModel.from_config(CONFIG, weights).fingerprint == clip.fingerprint
    other = dict(CONFIG, vision_cfg=dict(CONFIG["vision_cfg"], layers=2))
    with pytest.raises(CheckpointMismatchError, match=r"missing[\s\S]*|ViT 32px/8 x2"):
        ClipModel.from_config(other, weights)
    # a ResNet tower is named as one when the weights do not fit it
    resnet = dict(CONFIG, vision_cfg={"image_size": 32, "layers": [1, 1, 1, 1], "width": 8})
    with pytest.raises(CheckpointMismatchError, match=r"ResNet 32px 1-1-1-1 width 8"):
        ClipModel.from_config(resnet, weights)


def test_text_embeddings_are_unit_and_deterministic(clip, weights):
    a = clip.encode_text(["a face with purple hair", "a smiling face"])
    assert a.shape == (2, 32)
    torch.testing.assert_close(a.norm(dim=1), torch.ones(2))
    fresh = ClipModel.from_config(CONFIG, weights)
    torch.testing.assert_close(fresh.encode_text(["a smiling face"])[0], a[1])
    assert not torch.allclose(a[0], a[1])


def test_template_average_matches_manual_computation(clip):
    tokens = clip.tokenizer([t.format("curly hair") for t in STYLECLIP_TEMPLATES])
    with torch.no_grad():
        each = F.normalize(clip.model.encode_text(tokens), dim=-1)
    manual = F.normalize(each.mean(0), dim=0)
    got = clip.encode_text_templates("curly hair")
    assert got.shape == (32,)
    torch.testing.assert_close(got, manual, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got.norm(), torch.tensor(1.0))
    plain = clip.encode_text(["curly hair"])[0]
    assert not torch.allclose(got, plain, atol=1e-3)


def test_text_cache_in_memory_and_on_disk(weights, monkeypatch):
    store = DictStore()
    first = ClipModel.from_config(CONFIG, weights, store=store)
    e1 = first.encode_text_templates("a bald face")
    r1 = first.encode_text(["a bald face"])
    assert len(store.data) == 2 and all(len(v) == 32 * 4 for v in store.data.values())

    second = ClipModel.from_config(CONFIG, weights, store=store)

    def boom(texts):
        raise AssertionError(f"re-encoded {texts}")

    monkeypatch.setattr(second, "_encode_raw", boom)
    torch.testing.assert_close(second.encode_text_templates("a bald face"), e1)
    torch.testing.assert_close(second.encode_text(["a bald face"]), r1)
    monkeypatch.setattr(first, "_encode_raw", boom)
    first.encode_text_templates("a bald face")  # memory hit

    store.data = {k: b"\x00\x00\x80\x7f" * 32 for k in store.data}  # corrupt (NaN) entries are ignored
    third = ClipModel.from_config(CONFIG, weights, store=store)
    torch.testing.assert_close(third.encode_text(["a bald face"]), r1)


def test_clip_image_mode_is_resize_plus_mean_std(clip):
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    mean = torch.tensor(cm.OPENAI_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(cm.OPENAI_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(clip.prepare_images(x), ((x + 1) / 2 - mean) / std)
    colour = torch.tensor([0.5, -0.25, 1.0]).view(1, 3, 1, 1)
    flat = colour.expand(1, 3, 128, 128)  # resizing keeps a constant image constant
    torch.testing.assert_close(clip.prepare_images(flat), (((colour + 1) / 2 - mean) / std).expand(1, 3, 32, 32))
    ramp = torch.linspace(-1, 1, 128).view(1, 1, 1, 128).expand(1, 3, 128, 128)
    out = clip.prepare_images(ramp)[0, 0]
    assert torch.all(out[:, 1:] > out[:, :-1])  # left-to-right order survives the downsizing
    wide = torch.rand(1, 3, 32, 48) * 2 - 1  # shortest side already 32: centre crop of the width
    torch.testing.assert_close(clip.prepare_images(wide), ((wide[..., 8:40] + 1) / 2 - mean) / std)


def test_styleclip_image_mode_pools_without_normalising(weights):
    sc = ClipModel.from_config(CONFIG, weights, image_mode="styleclip")
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    # nearest x7 then a 14-pixel average pool = the mean of each 2x2 block, values left in [-1, 1]
    torch.testing.assert_close(sc.prepare_images(x), F.avg_pool2d(x, 2))
    with pytest.raises(ValueError):
        sc.prepare_images(torch.zeros(1, 3, 30, 30))


def test_images_unit_any_size_and_differentiable(clip):
    for size in (32, 64, 100):
        e = clip.encode_images(torch.rand(2, 3, size, size) * 2 - 1)
        assert e.shape == (2, 32)
        torch.testing.assert_close(e.norm(dim=1), torch.ones(2))
    x = (torch.rand(2, 3, 64, 64) * 2 - 1).requires_grad_(True)
    loss = (1 - clip.similarity(x, "a face with purple hair")).sum()
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_similarity_is_the_cosine(clip):
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        s = clip.similarity(x, "a face")
        want = clip.encode_images(x) @ clip.encode_text(["a face"])[0]
        torch.testing.assert_close(s, want)
        t = clip.encode_text_templates("a face")
        torch.testing.assert_close(clip.similarity(x, t * 3.0), clip.encode_images(x) @ t)
    assert s.shape == (3,)
    e1 = clip.encode_images(x)
    assert torch.equal(e1, clip.encode_images(x))


def test_from_open_clip_is_offline_and_passes_the_path(tmp_path, monkeypatch, clip):
    import open_clip

    with pytest.raises(FileNotFoundError, match="never downloaded"):
        ClipModel.from_open_clip("ViT-B-32-quickgelu", tmp_path / "absent.safetensors")

    weights = tmp_path / "vit.safetensors"
    weights.write_bytes(b"stand-in")
    seen = {}

    def fake_create_model(arch, pretrained=None, **kwargs):
        seen.update(arch=arch, pretrained=pretrained, offline=os.environ.get("HF_HUB_OFFLINE"), **kwargs)
        return clip.model

    monkeypatch.setattr(open_clip, "create_model", fake_create_model)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    model = ClipModel.from_open_clip("ViT-B-32-quickgelu", weights)
    assert seen["pretrained"] == str(weights.resolve())
    assert seen["offline"] == "1" and "HF_HUB_OFFLINE" not in os.environ
    assert seen["weights_only"] is True and seen["require_pretrained"] is True
    assert len(model.fingerprint) == 64
    pinned = ClipModel.from_open_clip("ViT-B-32-quickgelu", weights, fingerprint="ab" * 32)
    assert pinned.fingerprint != model.fingerprint
    with pytest.raises(ValueError, match="unknown open_clip architecture"):
        ClipModel.from_open_clip("No-Such-Arch", weights)
