"""The StyleGAN2 generator: numerical reference, StyleSpace layout and
locality, noise modes, latents, and fast/reference agreement."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from styleclip_runtime.models.checkpoints import load_generator_checkpoint
from styleclip_runtime.models.stylegan2 import Generator, GeneratorConfig, StyleLayer, build_layout

from model_testlib import FIXTURES, randomize, reference_state


def rel_err(a: torch.Tensor | np.ndarray, b: np.ndarray) -> float:
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
    return float(np.abs(a - b).max() / np.abs(b).max())


# ------------------------------------------------------------------ reference

@pytest.fixture(scope="module")
def reference():
    """The size-64 reference: weights built per the fixture README, saved in
    the official wrapping and loaded back through the real loader."""
    ref = np.load(FIXTURES / "stylegan2-size64-reference.npz")
    rng = np.random.default_rng(20211)
    state = reference_state(Generator(64, 512, 8, channel_multiplier=2), rng)
    z = rng.standard_normal((2, 512), dtype=np.float32)
    sizes = [2 ** ((i + 5) // 2) for i in range(9)]
    noise = [torch.from_numpy(rng.standard_normal((1, 1, r, r), dtype=np.float32)) for r in sizes]
    return ref, state, z, noise


def test_reference_inputs_replay_the_fixture_draws(reference):
    ref, _, z, noise = reference
    np.testing.assert_array_equal(z, ref["z"])
    for i, n in enumerate(noise):
        np.testing.assert_array_equal(n.numpy(), ref[f"noise_{i}"])


@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_reference_outputs_reproduced_through_the_loader(reference, tmp_path, impl):
    ref, state, z, noise = reference
    path = tmp_path / "official.pt"
    torch.save({"g_ema": state, "latent_avg": torch.zeros(512)}, path)
    g, latent_avg = load_generator_checkpoint(path)
    g.set_impl(impl)
    assert g.config == GeneratorConfig(64, 512, 8, 2)
    assert latent_avg is not None and latent_avg.shape == (512,)
    with torch.no_grad():
        w = g.mapping(torch.from_numpy(z))
        assert rel_err(w, ref["w"]) < 1e-4
        styles = g.styles(w)
        assert len(styles) == 14
        for i, s in enumerate(styles):
            assert rel_err(s, ref[f"style_{i:02d}"]) < 1e-4, i
        assert rel_err(g(w, noise=noise), ref["image_from_w"]) < 1e-4
        assert rel_err(g(g.mapping(torch.from_numpy(z)), noise=noise), ref["image_from_z"]) < 1e-4
        # the stored noise is not the fixture's: without it the image must differ
        assert rel_err(g(w), ref["image_from_w"]) > 1e-3


# --------------------------------------------------------------------- layout

def test_layout_1024_matches_the_published_stylespace_table():
    layout = build_layout(GeneratorConfig(1024))
    assert len(layout) == 26
    assert [l.width for l in layout] == [512] * 15 + [256] * 3 + [128] * 3 + [64] * 3 + [32] * 2
    assert sum(l.width for l in layout) == 9088
    assert [l.index for l in layout if l.is_torgb] == list(range(1, 26, 3))
    assert sum(l.width for l in layout if l.is_torgb) == 3040
    conv = [l for l in layout if not l.is_torgb]
    assert [l.index for l in conv] == [0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24]
    # fs3 row starts, from the reference's "S idx:rows" list
    assert [l.flat_offset for l in conv] == [0, 512, 1024, 1536, 2048, 2560, 3072, 3584, 4096, 4608,
                                             5120, 5376, 5632, 5760, 5888, 5952, 6016]
    assert layout[0] == StyleLayer(0, "conv1", 512, False, 0, 4, 0)
    assert layout[1] == StyleLayer(1, "to_rgb1", 512, True, 1, 4, None)
    for k in range(8):
        assert (layout[3 * k + 2].name, layout[3 * k + 2].w_index) == (f"convs.{2 * k}", 2 * k + 1)
        assert (layout[3 * k + 3].name, layout[3 * k + 3].w_index) == (f"convs.{2 * k + 1}", 2 * k + 2)
        assert (layout[3 * k + 4].name, layout[3 * k + 4].w_index) == (f"to_rgbs.{k}", 2 * k + 3)
        assert layout[3 * k + 4].resolution == 2 ** (k + 3)
    assert max(l.w_index for l in layout) == 17


def test_channel_widths_with_float_multiplier_and_cap():
    cfg = GeneratorConfig(64, channel_multiplier=0.25, channel_max=128)
    assert cfg.channel_widths() == {4: 128, 8: 128, 16: 128, 32: 128, 64: 64}
    assert GeneratorConfig(1024).channel_widths() == {4: 512, 8: 512, 16: 512, 32: 512, 64: 512,
                                                     128: 256, 256: 128, 512: 64, 1024: 32}
    g = Generator(64, style_dim=32, n_mlp=2, channel_multiplier=0.25, channel_max=128)
    assert g.convs[-1].conv.weight.shape == (1, 64, 64, 3, 3)
    assert g.convs[-2].conv.weight.shape == (1, 64, 128, 3, 3)
    assert [l.width for l in g.layout] == [128] * 12 + [64] * 2  # convs.6 takes the 32-px maps
    assert g.n_latent == g.num_ws == 10


@pytest.mark.parametrize("size", [3, 48, 0])
def test_config_rejects_non_power_of_two_sizes(size):
    with pytest.raises(ValueError, match="power of two"):
        GeneratorConfig(size)


def test_flat_index_round_trip_and_torgb_fill(small_generator):
    g = small_generator
    w = torch.randn(2, g.style_dim)
    styles = g.styles(w)
    flat = g.styles_to_flat(styles)
    assert flat.shape == (2, g.n_style_channels)
    back = g.flat_to_styles(flat, torgb=styles)
    for a, b in zip(back, styles):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    zeros = g.flat_to_styles(flat)
    for layer, s in zip(g.layout, zeros):
        assert s.shape == (2, layer.width)
        if layer.is_torgb:
            assert not s.any()
        else:
            torch.testing.assert_close(s, styles[layer.index], rtol=0, atol=0)
    # a single flat channel lands in the layer the table says
    layer = g.layout[3]
    one = torch.zeros(g.n_style_channels)
    one[layer.flat_offset + 5] = 1.0
    split = g.flat_to_styles(one)
    assert split[3].shape == (layer.width,) and split[3][5] == 1 and split[3].sum() == 1
    with pytest.raises(ValueError):
        g.flat_to_styles(torch.zeros(2, g.n_style_channels + 1))


# ----------------------------------------------------------------- StyleSpace

def test_wplus_to_s_to_image_equals_wplus_to_image(small_generator):
    g = small_generator
    wplus = torch.randn(2, g.n_latent, g.style_dim)
    with torch.no_grad():
        direct = g(wplus)
        via_s = g.synthesize(g.styles(wplus))
        broadcast = g(wplus[:, 0])
        same_rows = g(wplus[:, :1].expand(-1, g.n_latent, -1))
    torch.testing.assert_close(via_s, direct, rtol=0, atol=0)
    torch.testing.assert_close(broadcast, same_rows, rtol=0, atol=0)
    assert direct.shape == (2, 3, 32, 32)


def test_each_wplus_row_feeds_only_its_layers(small_generator):
    g = small_generator
    wplus = torch.randn(1, g.n_latent, g.style_dim)
    base = g.styles(wplus)
    for row in range(g.n_latent):
        moved = wplus.clone()
        moved[:, row] += 1.0
        styles = g.styles(moved)
        changed = [i for i, (a, b) in enumerate(zip(styles, base)) if not torch.equal(a, b)]
        assert changed == [l.index for l in g.layout if l.w_index == row]


def _record_layer_outputs(g: Generator) -> tuple[dict[int, torch.Tensor], list]:
    outputs: dict[int, torch.Tensor] = {}
    handles = []
    for layer in g.layout:
        module = g.modulated_layer(layer)
        handles.append(module.register_forward_hook(
            lambda m, args, out, i=layer.index: outputs.__setitem__(i, out.detach().clone())))
    return outputs, handles


@pytest.mark.parametrize("target", [3, 6, 10])
def test_s_offset_changes_nothing_upstream(small_generator, target):
    g = small_generator
    with torch.no_grad():
        styles = g.styles(torch.randn(2, g.style_dim))
        outputs, handles = _record_layer_outputs(g)
        g.synthesize(styles)
        before = dict(outputs)
        edited = [s.clone() for s in styles]
        edited[target][:, 7] += 5.0
        g.synthesize(edited)
        after = dict(outputs)
        for h in handles:
            h.remove()
    for i in range(len(g.layout)):
        if i < target:
            torch.testing.assert_close(after[i], before[i], rtol=0, atol=0)
        elif i == target:
            assert not torch.allclose(after[i], before[i])
    # the edit reaches the image
    assert not torch.allclose(after[len(g.layout) - 1], before[len(g.layout) - 1])


def test_styles_are_the_modulation_outputs(small_generator):
    g = small_generator
    wplus = torch.randn(2, g.n_latent, g.style_dim)
    styles = g.styles(wplus)
    mod = g.convs[2].conv.modulation
    layer = g.layout[5]
    assert layer.name == "convs.2" and layer.w_index == 3
    expected = wplus[:, 3] @ (mod.weight * mod.scale).t() + mod.bias * mod.lr_mul
    torch.testing.assert_close(styles[5], expected, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------- noise

def test_noise_modes(small_generator):
    g = small_generator
    w = torch.randn(2, g.style_dim)
    with torch.no_grad():
        const_a, const_b = g(w), g(w)
        rand_a, rand_b = g(w, noise_mode="random"), g(w, noise_mode="random")
        none = g(w, noise_mode="none")
        buffers = [getattr(g.noises, f"noise_{i}") for i in range(g.num_layers)]
        explicit = g(w, noise=[b.clone() for b in buffers])
        zeros = g(w, noise=[torch.zeros_like(b) for b in buffers])
    torch.testing.assert_close(const_a, const_b, rtol=0, atol=0)
    torch.testing.assert_close(explicit, const_a, rtol=0, atol=0)
    torch.testing.assert_close(zeros, none, rtol=1e-6, atol=1e-6)
    assert not torch.allclose(rand_a, rand_b)
    assert not torch.allclose(none, const_a)
    with pytest.raises(ValueError, match="noise_mode"):
        g(w, noise_mode="fresh")
    with pytest.raises(ValueError, match="noise inputs"):
        g(w, noise=buffers[:-1])


# -------------------------------------------------------------------- latents

def test_truncation_and_wplus(small_generator):
    g = small_generator
    mean = g.mean_latent(256, seed=1)
    assert mean.shape == (1, g.style_dim)
    torch.testing.assert_close(mean, g.mean_latent(256, seed=1), rtol=0, atol=0)
    assert not torch.allclose(mean, g.mean_latent(256, seed=2))
    w = g.mapping(torch.randn(3, g.style_dim))
    torch.testing.assert_close(g.truncate(w, 0.0, mean), mean.expand(3, -1))
    torch.testing.assert_close(g.truncate(w, 1.0, mean), w)
    half = g.truncate(w, 0.5, mean)
    torch.testing.assert_close(half, (w + mean) / 2)
    wplus = g.to_wplus(w)
    assert wplus.shape == (3, g.n_latent, g.style_dim)
    torch.testing.assert_close(g.truncate(wplus, 0.5, mean), g.to_wplus(half))
    assert g.to_wplus(wplus) is wplus
    with pytest.raises(ValueError, match="W\\+"):
        g.to_wplus(torch.zeros(3, g.n_latent + 1, g.style_dim))


def test_mean_latent_is_the_mean_of_mapped_seeded_draws(small_generator):
    g = small_generator
    z = torch.randn(64, g.style_dim, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(g.mean_latent(64, seed=4), g.mapping(z).mean(0, keepdim=True))


# ------------------------------------------------------- fast vs reference

def test_fast_and_reference_paths_agree_with_gradients(small_generator):
    g = small_generator
    wplus = torch.randn(3, g.n_latent, g.style_dim)
    results = {}
    for impl in ("fast", "reference"):
        g.set_impl(impl)
        g.zero_grad()
        w = wplus.clone().requires_grad_(True)
        img = g(w)
        img.square().mean().backward()
        results[impl] = (img.detach(), w.grad.clone(), g.convs[0].conv.weight.grad.clone())
    g.set_impl("fast")
    for a, b in zip(results["fast"], results["reference"]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_full_depth_256_forward_on_cpu():
    torch.manual_seed(1)
    g = randomize(Generator(256, style_dim=64, n_mlp=2, channel_max=16), seed=1)
    assert len(g.layout) == 20 and g.n_latent == 14
    w = torch.randn(1, g.style_dim)
    with torch.no_grad():
        fast = g(w)
        ref = g.set_impl("reference")(w)
    assert fast.shape == (1, 3, 256, 256)
    assert torch.isfinite(fast).all() and fast.std() > 0
    torch.testing.assert_close(fast, ref, rtol=1e-4, atol=1e-4)


def test_bf16_autocast_stays_close_to_float32(small_generator):
    g = small_generator
    w = torch.randn(2, g.style_dim)
    with torch.no_grad():
        full = g(w)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = g(w)
    assert half.shape == full.shape
    assert (half.float() - full).abs().max() / full.abs().max() < 0.05


@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_channels_last_gives_the_same_image(small_generator, impl):
    g = small_generator.set_impl(impl)
    w = torch.randn(2, g.style_dim)
    with torch.no_grad():
        plain = g(w)
        channels_last = g.set_memory_format(torch.channels_last)(w)
    g.set_memory_format(torch.contiguous_format).set_impl("fast")
    torch.testing.assert_close(channels_last, plain, rtol=1e-5, atol=1e-5)


def test_cached_fast_weights_follow_parameter_updates(small_generator):
    g = small_generator
    w = torch.randn(2, g.style_dim)
    with torch.inference_mode():
        before = g(w)
    with torch.no_grad():
        g.convs[1].conv.weight.mul_(-1.5)  # in place, as an optimizer step or load_state_dict does
        after = g(w)
        expected = g.set_impl("reference")(w)
    g.set_impl("fast")
    assert not torch.allclose(after, before)
    torch.testing.assert_close(after, expected, rtol=1e-4, atol=1e-5)
