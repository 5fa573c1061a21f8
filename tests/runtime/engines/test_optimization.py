"""Latent optimization: the published schedule and objective, on tiny models."""
from __future__ import annotations

import math

import pytest
import torch

from styleclip_runtime.engines import optimization as opt
from styleclip_runtime.engines.global_directions import sample_wplus


def test_published_schedule() -> None:
    lrs = [opt.published_lr(i, 100, 0.1) for i in range(100)]
    assert lrs[0] == 0.0                                  # warm-up starts at zero
    assert lrs[2] == pytest.approx(0.1 * 0.4)             # linear over the first 5%
    assert all(l == pytest.approx(0.1) for l in lrs[5:75])
    assert lrs[99] < 0.001 and lrs[80] < lrs[76] < 0.1    # cosine ramp-down over the last 25%
    assert lrs[87] == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(math.pi * 0.13 / 0.25)))


def _run(tiny_generator, tiny_clip, l2: float, steps: int = 40, space: str = "wplus"):
    w = sample_wplus(tiny_generator, 2, seed=4, truncation=0.7)
    text = tiny_clip.encode_text(["a face with purple hair"])[0]
    res = opt.optimize(tiny_generator, tiny_clip, w, text, steps=steps, lr=0.1, l2=l2, space=space)
    before = tiny_clip.encode_images(tiny_generator(w)) @ text
    after = tiny_clip.encode_images(tiny_generator.synthesize(
        [s + (o if res.s_offset else 0) for s, o in zip(tiny_generator.styles(res.wplus),
                                                         res.s_offset or [0] * len(tiny_generator.layout))])) @ text
    return w, res, before, after


def test_optimisation_moves_toward_the_text(tiny_generator, tiny_clip) -> None:
    w, res, before, after = _run(tiny_generator, tiny_clip, l2=0.0)
    assert (after > before + 0.01).all(), (before, after)
    assert res.history[-1] < res.history[1]


def test_l2_keeps_the_code_closer_to_the_source(tiny_generator, tiny_clip) -> None:
    w, free, _, _ = _run(tiny_generator, tiny_clip, l2=0.0)
    _, tied, _, _ = _run(tiny_generator, tiny_clip, l2=1.0)
    drift_free = ((free.wplus - w) ** 2).flatten(1).sum(1)
    drift_tied = ((tied.wplus - w) ** 2).flatten(1).sum(1)
    assert (drift_tied < drift_free).all()


def test_batch_members_are_independent(tiny_generator, tiny_clip) -> None:
    """Optimising two subjects together gives each what it gets alone."""
    w = sample_wplus(tiny_generator, 2, seed=4, truncation=0.7)
    text = tiny_clip.encode_text(["glasses"])[0]
    both = opt.optimize(tiny_generator, tiny_clip, w, text, steps=10, l2=0.008)
    alone = opt.optimize(tiny_generator, tiny_clip, w[1:], text, steps=10, l2=0.008)
    assert torch.allclose(both.wplus[1], alone.wplus[0], atol=1e-4)


def test_stylespace_variant_only_moves_non_torgb_offsets(tiny_generator, tiny_clip) -> None:
    w, res, before, after = _run(tiny_generator, tiny_clip, l2=0.0, steps=30, space="s")
    assert torch.equal(res.wplus, w)
    for layer, off in zip(tiny_generator.layout, res.s_offset):
        if layer.is_torgb:
            assert torch.count_nonzero(off) == 0
    assert (after > before).all()
    with pytest.raises(ValueError, match="space"):
        opt.optimize(tiny_generator, tiny_clip, w, tiny_clip.encode_text(["x"])[0], steps=1, space="z")


def test_channel_mask_confines_stylespace_optimisation(tiny_generator, tiny_clip) -> None:
    """With ``s_mask`` only the marked channels move, and they still move toward the text."""
    w = sample_wplus(tiny_generator, 2, seed=4, truncation=0.7)
    text = tiny_clip.encode_text(["a face with purple hair"])[0]
    gen = torch.Generator().manual_seed(0)
    mask = [(torch.rand(layer.width, generator=gen) < 0.3).float() * (not layer.is_torgb)
            for layer in tiny_generator.layout]
    res = opt.optimize(tiny_generator, tiny_clip, w, text, steps=30, l2=0.0, space="s", s_mask=mask)
    moved = 0
    for off, m in zip(res.s_offset, mask):
        assert torch.count_nonzero(off[:, m == 0]) == 0
        moved += torch.count_nonzero(off[:, m == 1])
    assert moved > 0
    styles = [s + o for s, o in zip(tiny_generator.styles(w), res.s_offset)]
    before = tiny_clip.encode_images(tiny_generator(w)) @ text
    after = tiny_clip.encode_images(tiny_generator.synthesize(styles)) @ text
    assert (after > before).all(), (before, after)
    with pytest.raises(ValueError, match="space='s'"):
        opt.optimize(tiny_generator, tiny_clip, w, text, steps=1, s_mask=mask)
