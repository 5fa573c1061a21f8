"""The shipped toon judge: loads strictly and reads fresh renders correctly."""
from pathlib import Path

import numpy as np
import pytest
import torch

from styleclip_zoo.toon import FAMILIES, render_batch, sample_attributes
from styleclip_zoo.toon.augment import augment
from styleclip_runtime.models.judge import Judge, JudgeConfig, Verdict, load_judge

MODELSET = Path(__file__).resolve().parents[3] / "runtime" / "modelsets" / "toon"


@pytest.fixture(scope="module")
def judge() -> Judge:
    path = MODELSET / "judge.safetensors"
    if not path.exists():
        pytest.fail(f"shipped judge missing: {path}")
    return load_judge(path)


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(20261127)  # fresh faces, not the training pool's
    attrs = [sample_attributes(rng) for _ in range(64)]
    imgs = render_batch(attrs, rng.integers(0, 2**31 - 1, size=64).tolist())
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x, attrs


def _accuracy(verdicts: list[Verdict], attrs) -> dict[str, float]:
    acc = {}
    for family in FAMILIES:
        pairs = [(v.value(family), a.value(family)) for v, a in zip(verdicts, attrs)
                 if not (family == "eyes" and a.glasses == "sunglasses")]  # hidden eyes are not scored
        acc[family] = float(np.mean([p == t for p, t in pairs]))
    return acc


def test_judge_reads_fresh_renders(judge, sample):
    x, attrs = sample
    acc = _accuracy(judge.predict(x), attrs)
    assert all(v >= 0.9 for v in acc.values()), acc


def test_judge_reads_blurred_noisy_renders(judge, sample):
    x, attrs = sample
    g = torch.Generator().manual_seed(5)
    acc = _accuracy(judge.predict(augment((x + 1) / 2, g) * 2 - 1), attrs)
    assert all(v >= 0.85 for v in acc.values()), acc


def test_background_hue_is_read(judge, sample):
    x, attrs = sample
    hue = judge.background_hue(x).numpy()
    err = np.abs(hue - np.array([a.background for a in attrs]))
    assert float(np.minimum(err, 1 - err).mean()) < 0.05


def test_probabilities_are_distributions_and_predict_agrees(judge, sample):
    x, _ = sample
    probs = judge.probabilities(x[:8])
    verdicts = judge.predict(x[:8])
    for family, values in FAMILIES.items():
        p = probs[family]
        assert p.shape == (8, len(values))
        torch.testing.assert_close(p.sum(-1), torch.ones(8))
        for i, v in enumerate(verdicts):
            value, conf = v[family]
            assert value == values[int(p[i].argmax())]
            assert conf == pytest.approx(float(p[i].max()), abs=1e-6)


def test_config_round_trips_and_weights_are_fp16_and_small():
    from safetensors.torch import load_file

    text = (MODELSET / "judge_config.json").read_text()
    assert JudgeConfig.from_json(text) == JudgeConfig.from_json(JudgeConfig.from_json(text).to_json())
    tensors = load_file(str(MODELSET / "judge.safetensors"))
    assert {v.dtype for v in tensors.values() if v.is_floating_point()} == {torch.float16}
    assert (MODELSET / "judge.safetensors").stat().st_size < 4_000_000


def test_load_rejects_a_mismatched_config(tmp_path):
    small = JudgeConfig(families=dict(FAMILIES), channels=(8, 16, 32, 64))
    with pytest.raises(ValueError, match=r"judge\.safetensors: cannot load the judge .*size mismatch"):
        load_judge(MODELSET / "judge.safetensors", small)  # names the file and what does not fit
