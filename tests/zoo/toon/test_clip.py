"""The shipped toon-CLIP: an open_clip model from its config that ranks true captions first."""
import json
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch

from styleclip_zoo.toon import FAMILIES, render_batch, sample_attributes
from styleclip_zoo.toon.captions import canonical_phrase
from styleclip_zoo.toon.clip import CLIP_CONFIG, encode_images, encode_texts, load_clip, preprocess

MODELSET = Path(__file__).resolve().parents[3] / "runtime" / "modelsets" / "toon"


@pytest.fixture(scope="module")
def clip():
    return load_clip(MODELSET)


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(777)
    attrs = [sample_attributes(rng) for _ in range(48)]
    imgs = render_batch(attrs, rng.integers(0, 2**31 - 1, size=48).tolist())
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 127.5 - 1, attrs


def test_config_is_open_clip_format_and_builds_through_open_clip():
    config = json.loads((MODELSET / "clip_config.json").read_text())
    assert config == CLIP_CONFIG
    assert set(config) == {"embed_dim", "vision_cfg", "text_cfg"}
    model = open_clip.CLIP(**config)
    open_clip.load_checkpoint(model, str(MODELSET / "clip.safetensors"), strict=True)
    assert model.visual.image_size in (64, (64, 64)) and model.context_length == 32


def _zero_shot_accuracy(clip, sample, family: str) -> float:
    x, attrs = sample
    values = FAMILIES[family]
    with torch.no_grad():
        feats = encode_images(clip, x)
        text = encode_texts(clip, [f"a face with {canonical_phrase(family, v)}" for v in values])
    pred = (feats @ text.T).argmax(-1).tolist()
    keep = [i for i, a in enumerate(attrs) if not (family == "eyes" and a.glasses == "sunglasses")]
    return float(np.mean([pred[i] == values.index(attrs[i].value(family)) for i in keep]))


@pytest.mark.parametrize("family", ["hair_style", "hair_color", "expression", "eyes", "glasses", "beard", "skin"])
def test_zero_shot_ranks_the_true_value_first_for_most_faces(clip, sample, family):
    # 48 faces: the full 1,000-face figures (>= 95 % every family) are in docs/toon.md
    assert _zero_shot_accuracy(clip, sample, family) >= 0.85


def test_full_caption_matches_its_own_face_best(clip, sample):
    x, attrs = sample
    texts = [f"a face with {canonical_phrase('hair_style', a.hair_style)}, {canonical_phrase('expression', a.expression)}"
             f" and {canonical_phrase('glasses', a.glasses)}" for a in attrs[:16]]
    with torch.no_grad():
        sims = encode_images(clip, x[:16]) @ encode_texts(clip, texts).T
    # a text describing several attributes should pick an image with all of them
    best = sims.argmax(0).tolist()
    ok = [all(attrs[b].value(f) == attrs[j].value(f) for f in ("hair_style", "expression", "glasses"))
          for j, b in enumerate(best)]
    assert np.mean(ok) >= 0.75


def test_edit_direction_points_to_the_attribute(clip, sample):
    """CLIP("smile") - CLIP("a face") scores smiling faces higher than the others."""
    x, attrs = sample
    with torch.no_grad():
        feats = encode_images(clip, x)
        d = encode_texts(clip, ["smile"]) - encode_texts(clip, ["a face"])
        score = (feats @ d.T).squeeze(1).numpy()
    smiling = np.array([a.expression == "smile" for a in attrs])
    assert smiling.any() and (~smiling).any()
    assert score[smiling].mean() > score[~smiling].mean()


def test_preprocess_is_the_runtime_mapping():
    img = torch.rand(2, 3, 64, 64) * 2 - 1
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(preprocess(img, 64), ((img + 1) / 2 - mean) / std)
    assert preprocess(torch.zeros(1, 3, 128, 128), 64).shape == (1, 3, 64, 64)


def test_weights_are_fp16_and_within_budget():
    from safetensors.torch import load_file

    tensors = load_file(str(MODELSET / "clip.safetensors"))
    assert {v.dtype for v in tensors.values() if v.is_floating_point()} == {torch.float16}
    assert (MODELSET / "clip.safetensors").stat().st_size < 17_000_000


def test_whole_toon_set_is_within_the_40_mb_budget():
    total = sum(f.stat().st_size for f in MODELSET.rglob("*") if f.is_file())
    assert total <= 40_000_000, f"{total / 1e6:.1f} MB"
