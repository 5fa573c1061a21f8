"""The shipped second judge (issue #25): built differently from the first, and hard to fool where the
first is easy to fool. Its bars, on fresh renders (not its training pool): every family >= 98 % clean
and expression >= 97 % under a Gaussian blur of sigma 1.5 (the first judge reads about 84 % there);
it also keeps reading skin when colours are pulled toward the average face, as psi 0.7 samples are."""
from pathlib import Path

import numpy as np
import pytest
import torch

from styleclip_runtime.models.judge import load_judge
from styleclip_zoo.toon import FAMILIES, render_batch, sample_attributes
from styleclip_zoo.toon.augment import gaussian_blur
from styleclip_zoo.toon.evaluate import accuracy_table

MODELSET = Path(__file__).resolve().parents[3] / "runtime" / "modelsets" / "toon"
COUNT = 400  # the bars are >= 97-98 %: at 400 faces one error is a quarter of a point


@pytest.fixture(scope="module")
def judges():
    return load_judge(MODELSET / "judge.safetensors"), load_judge(MODELSET / "judge2.safetensors")


@pytest.fixture(scope="module")
def renders():
    rng = np.random.default_rng(20261205)  # fresh faces, not the training pool's nor the evaluation's
    attrs = [sample_attributes(rng) for _ in range(COUNT)]
    imgs = render_batch(attrs, rng.integers(0, 2**31 - 1, size=COUNT).tolist())
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255, attrs


def accuracy(judge, x01: torch.Tensor, attrs) -> dict[str, float]:
    """Per-family accuracy (eyes behind sunglasses not scored), as the card's figures count it."""
    probs = judge.probabilities(x01 * 2 - 1)
    table = accuracy_table({f: p.argmax(-1).numpy() for f, p in probs.items() if f in FAMILIES}, attrs)
    return {f: table[f] for f in FAMILIES}


def test_the_second_judge_is_another_network(judges):
    first, second = judges
    assert type(first).__name__ != type(second).__name__
    assert second.config.arch == "pooled" and first.config.arch != "pooled"


def test_the_second_judge_reads_clean_renders(judges, renders):
    acc = accuracy(judges[1], *renders)
    assert all(v >= 0.98 for v in acc.values()), acc


def test_the_second_judge_reads_blurred_mouths_where_the_first_is_fooled(judges, renders):
    x, attrs = renders
    blurred = gaussian_blur(x, 1.5)
    first, second = (accuracy(j, blurred, attrs) for j in judges)
    assert second["expression"] >= 0.97, second
    assert all(v >= 0.98 for f, v in second.items() if f != "expression"), second
    assert first["expression"] < 0.92  # why a second judge: the first misreads about one blurred mouth in six


def test_the_second_judge_reads_skin_in_colours_pulled_toward_the_average_face(judges, renders):
    x, attrs = renders
    mean_face = gaussian_blur(x.mean(0, keepdim=True), 2.0)
    pulled = torch.lerp(x, mean_face.expand_as(x), 0.35)
    acc = accuracy(judges[1], pulled, attrs)
    assert acc["skin"] >= 0.95 and acc["hair_color"] >= 0.95, acc
