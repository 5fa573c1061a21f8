"""Mapper engine: the strength rule, training that lowers the CLIP loss, and
an interrupted training that resumes to the same weights."""
from __future__ import annotations

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


def test_training_moves_edits_toward_the_text(tiny_generator, tiny_clip) -> None:
    text = "a smiling face"
    emb = tiny_clip.encode_text([text])[0]
    w = sample_wplus(tiny_generator, 8, seed=99, truncation=0.7)   # held-out codes
    with torch.no_grad():
        before = (tiny_clip.encode_images(tiny_generator(w)) @ emb).mean()
    mapper, _ = train_mapper(tiny_generator, tiny_clip, text, MapperTraining(steps=30, batch=4, l2_lambda=0.0))
    with torch.no_grad():
        after = (tiny_clip.encode_images(tiny_generator(apply_strength(mapper, w, 1.0))) @ emb).mean()
    assert after > before + 0.01, (float(before), float(after))


def test_interrupted_training_resumes_to_the_same_weights(tiny_generator, tiny_clip, tmp_path) -> None:
    cfg = MapperTraining(steps=6, batch=2)
    whole, _ = train_mapper(tiny_generator, tiny_clip, "glasses", cfg)
    ckpt = tmp_path / "state.pt"
    stop_after = {"n": 0}

    def stop() -> bool:
        stop_after["n"] += 1
        return stop_after["n"] >= 4

    train_mapper(tiny_generator, tiny_clip, "glasses", cfg, checkpoint=ckpt, checkpoint_every=2, should_stop=stop)
    assert torch.load(ckpt, weights_only=True)["step"] == 4
    resumed, _ = train_mapper(tiny_generator, tiny_clip, "glasses", cfg, checkpoint=ckpt, checkpoint_every=2)
    for (k, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), k
