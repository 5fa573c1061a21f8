"""toon-CLIP as toon-G's teacher: the loss is low for the attributes a face
shows, high for ones it does not, and its gradient reaches the pixels."""
from __future__ import annotations

from pathlib import Path

import pytest

from styleclip_zoo.toon.attributes import FAMILIES
from styleclip_zoo.toon.clip import load_clip
from styleclip_zoo.toon.clip_guidance import CLIPAttributeLoss
from styleclip_zoo.toon.pool import held_out

TOON_DIR = Path(__file__).resolve().parents[2] / "runtime" / "modelsets" / "toon"


@pytest.fixture(scope="module")
def teacher():
    return CLIPAttributeLoss(load_clip(TOON_DIR))


def test_true_attributes_cost_less_than_wrong_ones(teacher):
    x, attrs = held_out(32)
    images = x * 2 - 1
    right = float(teacher(images, attrs))
    # the same faces, each claimed to show another expression
    exprs = FAMILIES["expression"]
    wrong = [a.with_(expression=exprs[(exprs.index(a.expression) + 1) % len(exprs)]) for a in attrs]
    assert right < 0.3
    assert float(teacher(images, wrong)) > right + 0.5


def test_gradient_reaches_the_image_and_not_clip(teacher):
    x, attrs = held_out(4)
    images = (x * 2 - 1).requires_grad_(True)
    teacher(images, attrs).backward()
    assert images.grad is not None and float(images.grad.abs().sum()) > 0
    assert all(p.grad is None for p in teacher.clip.parameters())
