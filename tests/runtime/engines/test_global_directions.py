"""Global directions: the StyleCLIP math on a tiny random generator and CLIP."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from styleclip_runtime.engines import global_directions as gd
from styleclip_runtime.io.safe_pickle import UnsafePickle


@pytest.fixture(scope="module")
def stats(tiny_generator, tiny_clip):
    mean, std = gd.compute_style_stats(tiny_generator, n=512, seed=5, batch=128)
    fs3 = gd.compute_relevance(tiny_generator, tiny_clip, mean, std, n_images=3, k=5.0, batch_size=96)
    return gd.GlobalStats(mean, std, fs3)


def test_style_stats_match_direct_computation(tiny_generator) -> None:
    mean, std = gd.compute_style_stats(tiny_generator, n=300, seed=3, batch=64)
    w = gd.sample_wplus(tiny_generator, 300, seed=3, truncation=0.7, batch=64)
    styles = tiny_generator.styles(w)
    for m, s, direct in zip(mean, std, styles):
        assert torch.allclose(m, direct.mean(0), atol=1e-4)
        assert torch.allclose(s, direct.std(0, unbiased=False), atol=1e-3)


def test_relevance_rows_are_unit_vectors_and_layer_order(stats, tiny_generator) -> None:
    n = sum(l.width for l in tiny_generator.layout if not l.is_torgb)
    assert stats.fs3.shape[0] == n
    norms = stats.fs3.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-4)


def test_relevance_resume_gives_same_table(stats, tiny_generator, tiny_clip) -> None:
    """An interrupted run resumed from its finished layers gives the same table."""
    first = next(l for l in tiny_generator.layout if not l.is_torgb)
    partial = {first.index: stats.fs3[: first.width].clone()}
    seen = []
    fs3 = gd.compute_relevance(tiny_generator, tiny_clip, stats.mean, stats.std, n_images=3, k=5.0,
                               batch_size=96, partial=partial, on_layer_done=lambda i, r: seen.append(i))
    assert first.index not in seen
    assert torch.allclose(fs3, stats.fs3, atol=1e-5)


def test_alpha_zero_reproduces_source_and_direction_is_linear(stats, tiny_generator, tiny_clip) -> None:
    dt = gd.text_direction(tiny_clip, "a face with curly hair", "a face")
    rel = gd.relevance(stats.fs3, dt)
    beta = float(rel.abs().sort(descending=True).values[10])
    direction = gd.direction_from_relevance(rel, tiny_generator.layout, stats.std, beta, "curly hair")
    w = gd.sample_wplus(tiny_generator, 2, seed=9, truncation=0.7)
    styles = tiny_generator.styles(w)
    src = tiny_generator.synthesize(styles)
    same = tiny_generator.synthesize(gd.apply_direction(styles, direction, 0.0))
    assert torch.equal(src, same)
    a = gd.apply_direction(styles, direction, 2.0)
    b = gd.apply_direction(styles, direction, 4.0)
    for s, x, y in zip(styles, a, b):
        assert torch.allclose(y - s, 2 * (x - s), atol=1e-5)
    # toRGB layers untouched; the strongest kept channel moves by alpha * its std
    for layer, d in zip(tiny_generator.layout, direction.delta):
        if layer.is_torgb:
            assert torch.count_nonzero(d) == 0
    flat = torch.cat([d for l, d in zip(tiny_generator.layout, direction.delta) if not l.is_torgb])
    stds = torch.cat([s for l, s in zip(tiny_generator.layout, stats.std) if not l.is_torgb])
    top = rel.abs().argmax()
    assert torch.isclose(flat[top].abs(), stds[top], rtol=1e-5)
    assert direction.n_channels == int((rel.abs() >= beta).sum())


def test_channels_fall_as_beta_rises_and_too_high_beta_is_explained(stats, tiny_generator, tiny_clip) -> None:
    dt = gd.text_direction(tiny_clip, "a smiling face", "a face")
    rel = gd.relevance(stats.fs3, dt)
    counts = [gd.direction_from_relevance(rel, tiny_generator.layout, stats.std, b).n_channels
              for b in (0.0, 0.05, 0.1, float(rel.abs().max()) * 0.9)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1] >= 1
    with pytest.raises(gd.BetaTooHigh) as info:
        gd.direction_from_relevance(rel, tiny_generator.layout, stats.std, 0.99, "smile")
    assert info.value.max_beta == pytest.approx(float(rel.abs().max()))
    assert "keeps no StyleSpace channel" in str(info.value) and "beta below" in str(info.value)


def test_serialisation_round_trips(stats) -> None:
    again = gd.GlobalStats.from_bytes(stats.to_bytes())
    assert torch.equal(again.fs3, stats.fs3)
    assert all(torch.equal(a, b) for a, b in zip(again.std, stats.std))


def test_official_files_load(tmp_path, tiny_generator) -> None:
    layout = tiny_generator.layout
    means = [np.random.rand(l.width).astype(np.float32) for l in layout]
    stds = [np.random.rand(l.width).astype(np.float32) + 0.5 for l in layout]
    path = tmp_path / "S_mean_std"
    path.write_bytes(pickle.dumps([means, stds], protocol=3))
    m, s = gd.load_official_s_mean_std(path, layout)
    assert all(np.allclose(a.numpy(), b) for a, b in zip(s, stds))
    # fs3 shorter than the full table (the 5376-row case) is zero padded
    convs = [l for l in layout if not l.is_torgb]
    short = sum(l.width for l in convs[:-2])
    rows = np.random.rand(short, 32).astype(np.float16)
    np.save(tmp_path / "fs3.npy", rows)
    fs3 = gd.load_official_fs3(tmp_path / "fs3.npy", layout)
    assert fs3.dtype == torch.float32 and fs3.shape[0] == sum(l.width for l in convs)
    assert torch.allclose(fs3[:short], torch.from_numpy(rows.astype(np.float32)))
    assert torch.count_nonzero(fs3[short:]) == 0
    np.save(tmp_path / "bad.npy", rows[:-1])
    with pytest.raises(ValueError, match="layer boundary"):
        gd.load_official_fs3(tmp_path / "bad.npy", layout)


def test_malicious_pickle_is_refused(tmp_path, tiny_generator) -> None:
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "S_mean_std"
    path.write_bytes(pickle.dumps([Evil(), []]))
    with pytest.raises(UnsafePickle):
        gd.load_official_s_mean_std(path, tiny_generator.layout)


def test_keep_texts_split_on_commas_trimmed_without_repeats() -> None:
    from styleclip_runtime.engines.keep import keep_texts

    assert keep_texts("") == ()
    assert keep_texts(" curly hair,glasses , ,curly hair") == ("curly hair", "glasses")


def test_relevance_without_kept_texts_is_orthogonal_to_them_and_keeps_the_rest() -> None:
    """Conditional editing: what remains of the relevance has no component along any kept
    relevance (also when the kept ones are linearly dependent), and a part orthogonal to
    them to begin with is left exactly as it was."""
    gen = torch.Generator().manual_seed(0)
    kept = [torch.randn(200, generator=gen) for _ in range(3)]
    kept.append(kept[0] + 2 * kept[1])  # dependent on the first two
    own = torch.randn(200, generator=gen)
    q, _ = torch.linalg.qr(torch.stack(kept[:3], 1))
    own = own - q @ (q.T @ own)  # a part no kept text shares
    rel = own + 0.7 * kept[0] - 1.3 * kept[2]
    out = gd.relevance_without(rel, kept)
    for k in kept:
        assert abs(float(out @ k)) < 1e-3 * float(k.norm() * rel.norm())
    assert torch.allclose(out, own, atol=1e-4)
    assert torch.equal(gd.relevance_without(rel, []), rel)
