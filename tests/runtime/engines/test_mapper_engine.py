"""Mapper engine: the strength rule, training that lowers the CLIP loss (with
and without views/smooth), and an interrupted training that resumes to the
same weights."""
from __future__ import annotations

import pytest
import torch

from styleclip_runtime.engines.global_directions import sample_wplus
from styleclip_runtime.engines.mapper import MapperTraining, apply_strength, train_mapper


def test_strength_scales_the_published_residual(tiny_generator) -> None:
    from styleclip_runtime.models.mapper import LevelsMapper

    torch.manual_seed(0)
    m = LevelsMapper(style_dim=32, n_latent=tiny_generator.n_latent).eval()
    w = sample_wplus(tiny_generator, 3, seed=1, truncation=0.7)
    with torch.no_grad():
        res = m(w)
        assert torch.equal(apply_strength(m, w, 0.0), w)
        assert torch.allclose(apply_strength(m, w, 1.0), w + 0.1 * res)
        assert torch.allclose(apply_strength(m, w, torch.tensor([0.0, 1.0, 2.0])) - w,
                              torch.stack([0 * res[0], 0.1 * res[1], 0.2 * res[2]]), atol=1e-6)


def style_std(generator) -> list[torch.Tensor]:
    from styleclip_runtime.engines.global_directions import compute_style_stats

    return compute_style_stats(generator, n=256)[1]


@pytest.mark.parametrize("views,smooth", [(0, 0.0), (2, 0.5)])
def test_training_moves_edits_toward_the_text(tiny_generator, tiny_clip, views, smooth) -> None:
    text = "a smiling face"
    emb = tiny_clip.encode_text([text])[0]
    w = sample_wplus(tiny_generator, 8, seed=99, truncation=0.7)   # held-out codes
    with torch.no_grad():
        before = (tiny_clip.encode_images(tiny_generator(w)) @ emb).mean()
    cfg = MapperTraining(steps=30, batch=4, l2_lambda=0.0, views=views, smooth=smooth)
    mapper, _ = train_mapper(tiny_generator, tiny_clip, text, cfg,
                             style_std=style_std(tiny_generator) if smooth else None)
    with torch.no_grad():
        after = (tiny_clip.encode_images(tiny_generator(apply_strength(mapper, w, 1.0))) @ emb).mean()
    assert after > before + 0.01, (float(before), float(after))


@pytest.mark.parametrize("views,smooth", [(0, 0.0), (2, 0.5)])
def test_interrupted_training_resumes_to_the_same_weights(tiny_generator, tiny_clip, tmp_path, views, smooth) -> None:
    cfg = MapperTraining(steps=6, batch=2, views=views, smooth=smooth)
    std = style_std(tiny_generator) if smooth else None
    whole, _ = train_mapper(tiny_generator, tiny_clip, "glasses", cfg, style_std=std)
    ckpt = tmp_path / "state.pt"
    stop_after = {"n": 0}

    def stop() -> bool:
        stop_after["n"] += 1
        return stop_after["n"] >= 4

    train_mapper(tiny_generator, tiny_clip, "glasses", cfg, checkpoint=ckpt, checkpoint_every=2, should_stop=stop,
                 style_std=std)
    assert torch.load(ckpt, weights_only=True)["step"] == 4
    resumed, _ = train_mapper(tiny_generator, tiny_clip, "glasses", cfg, checkpoint=ckpt, checkpoint_every=2,
                              style_std=std)
    for (k, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), k
    if views or smooth:  # the expectation is really taken: the plain loss trains other weights
        plain, _ = train_mapper(tiny_generator, tiny_clip, "glasses", MapperTraining(steps=6, batch=2))
        assert any(not torch.allclose(a, b) for a, b in zip(whole.state_dict().values(),
                                                             plain.state_dict().values()))


def test_the_published_training_keeps_its_options_without_views_and_smooth() -> None:
    """Mapper cache keys and checkpoint options hash ``as_opts``: off, the two are absent, so
    mappers trained before they existed keep their keys."""
    plain = MapperTraining().as_opts("smile")
    assert "views" not in plain and "smooth" not in plain
    assert MapperTraining(views=4, smooth=1.0).as_opts("smile") == plain | {"views": 4, "smooth": 1.0}


def test_space_and_keep_are_in_the_options_only_when_set() -> None:
    plain = MapperTraining().as_opts("smile")
    assert not {"mapper_space", "keep", "neutral", "space"} & set(plain)
    assert MapperTraining(space="w", keep=("a beard",)).as_opts("smile") == plain | {
        "mapper_space": "w", "keep": ["a beard"], "neutral": "a face"}


def test_keep_trains_toward_the_text_made_orthogonal_to_the_kept_directions(tiny_generator, tiny_clip) -> None:
    """``keep``: CLIP's training target has no component along the kept texts' directions (and
    is the plain embedding without keep); a W-space mapper trained with it edits by one offset."""
    from styleclip_runtime.engines.global_directions import text_direction
    from styleclip_runtime.engines.mapper import training_target

    kept = ("a beard", "glasses")
    target = training_target(tiny_clip, "a smiling face", MapperTraining(keep=kept))
    plain = training_target(tiny_clip, "a smiling face", MapperTraining())
    assert torch.allclose(plain, tiny_clip.encode_text(["a smiling face"])[0].float())
    for k in kept:
        d = text_direction(tiny_clip, k, "a face")
        assert abs(float(target @ d)) < 1e-5 < abs(float(plain @ d))
    mapper, _ = train_mapper(tiny_generator, tiny_clip, "a smiling face",
                             MapperTraining(steps=3, batch=2, space="w", keep=kept))
    unkept, _ = train_mapper(tiny_generator, tiny_clip, "a smiling face", MapperTraining(steps=3, batch=2, space="w"))
    w = sample_wplus(tiny_generator, 2, seed=5, truncation=0.7)
    with torch.no_grad():
        residual = mapper(w)
        assert not torch.allclose(residual, unkept(w))  # the same run toward the plain target trains otherwise
    assert mapper.space == "w" and torch.allclose(residual, residual[:, :1].expand_as(residual))
    assert float(residual.abs().sum()) > 0
