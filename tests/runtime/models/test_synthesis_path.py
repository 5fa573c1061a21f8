"""The fused synthesis paths (styles folded into the weights) against the generator's own, and the
once-per-machine choice of path with its cache."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

import numpy as np

from model_testlib import FIXTURES, randomize, reference_state
from styleclip_runtime.execution.expect_metrics import psnr
from styleclip_runtime.models import synthesis_path
from styleclip_runtime.models.ops import upfirdn2d
from styleclip_runtime.models.stylegan2 import Generator
from styleclip_runtime.models.synthesis_fused import composed_upsample_weight, phase_shuffle


def test_composed_upsample_equals_transposed_conv_then_blur():
    torch.manual_seed(0)
    weight = torch.randn(5, 4, 3, 3)
    blur = torch.rand(4, 4)  # not symmetric: the flip must be right too
    x = torch.randn(2, 4, 7, 7)
    expected = upfirdn2d(F.conv_transpose2d(x, weight.transpose(0, 1), stride=2), blur, pad=(1, 1),
                         impl="reference")
    for memory_format in (torch.contiguous_format, torch.channels_last):
        y = F.conv2d(x.contiguous(memory_format=memory_format), composed_upsample_weight(weight, blur), padding=1)
        fused = phase_shuffle(y, memory_format)
        assert fused.shape == expected.shape == (2, 5, 14, 14)
        assert fused.is_contiguous(memory_format=memory_format)
        torch.testing.assert_close(fused, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("memory_format", [torch.channels_last, torch.contiguous_format])
def test_fused_fp32_matches_the_reference_path(small_generator, memory_format):
    g = small_generator.set_memory_format(memory_format)
    w = torch.randn(3, g.style_dim)
    with torch.no_grad():
        styles = g.styles(w)
        noise = g.noise_inputs(3, "random")
        fused = g.synthesize(styles, noise=noise, path="fused-fp32")
        g.set_impl("reference")
        reference = g.synthesize(styles, noise=noise)
    g.set_impl("fast")
    assert fused.shape == (3, 3, 32, 32) and fused.dtype == torch.float32
    torch.testing.assert_close(fused, reference, rtol=1e-4, atol=1e-5)


def test_fused_fp32_reproduces_the_official_fixture():
    """The size-64 reference image (fixtures/official-formats) through the fused float32 path."""
    ref = np.load(FIXTURES / "stylegan2-size64-reference.npz")
    rng = np.random.default_rng(20211)
    g = Generator(64, 512, 8, channel_multiplier=2).eval()
    g.load_state_dict(reference_state(g, rng))
    z = rng.standard_normal((2, 512), dtype=np.float32)
    noise = [torch.from_numpy(rng.standard_normal((1, 1, r, r), dtype=np.float32))
             for r in (2 ** ((i + 5) // 2) for i in range(9))]
    expected = torch.from_numpy(ref["image_from_w"])
    with torch.inference_mode():
        image = g.set_synthesis_path("fused-fp32")(torch.from_numpy(ref["w"]), noise=noise)
    np.testing.assert_array_equal(z, ref["z"])  # the draws replayed as the fixture's README says
    assert float((image - expected).abs().max() / expected.abs().max()) < 1e-4


def test_fused_bf16_matches_fp32_at_128_px():
    torch.manual_seed(2)
    g = randomize(Generator(128, style_dim=64, n_mlp=2, channel_max=64), seed=2).eval()
    w = torch.randn(2, g.style_dim)
    with torch.inference_mode():
        full = g.synthesize(g.styles(w))
        half = g.set_synthesis_path("fused-bf16").synthesize(g.styles(w))
    assert half.dtype == torch.float32 and half.shape == full.shape
    assert not torch.equal(half, full)  # it did run in bf16
    assert float(psnr(half, full).min()) >= synthesis_path.MIN_PSNR_DB  # each image


def test_a_gradient_takes_the_module_path(small_generator):
    g = small_generator.set_synthesis_path("fused-bf16")
    w = torch.randn(1, g.n_latent, g.style_dim, requires_grad=True)
    image = g(w)
    image.square().mean().backward()
    assert w.grad is not None and image.dtype == torch.float32
    with torch.no_grad():
        expected = g.set_synthesis_path("fast")(w)
    torch.testing.assert_close(image.detach(), expected)  # fp32 modules, not the bf16 fused path


def test_unknown_path_is_refused(small_generator):
    with pytest.raises(ValueError, match="fused-bf16"):
        small_generator.set_synthesis_path("turbo")


def test_choice_is_measured_once_then_read_from_the_cache(tmp_path, monkeypatch):
    calls = []

    def fake_measure(paths, size, rounds, generator):
        calls.append((paths, size, generator))
        return {"fast": 1.0, "fused-fp32": 0.8, "fused-bf16": 0.3}, 40.0

    monkeypatch.setattr(synthesis_path, "measure_paths", fake_measure)
    first = synthesis_path.choose_path(cache_dir=tmp_path)
    second = synthesis_path.choose_path(cache_dir=tmp_path)
    assert first.path == second.path == "fused-bf16" and len(calls) == 1
    stored = json.loads((tmp_path / synthesis_path.CACHE_FILE).read_text())
    assert stored[first.key]["path"] == "fused-bf16"
    assert stored[first.key]["machine"] == synthesis_path.cpu_description()
    # float32 only is its own entry, measured without the bf16 path
    assert synthesis_path.choose_path(allow_bf16=False, cache_dir=tmp_path).path == "fused-fp32"
    assert calls[1] == (("fast", "fused-fp32"), synthesis_path.MEASURE_SIZE, None) and len(stored) == 1
    # a generator is measured on itself, under its own key (its size and shapes), once
    g = Generator(8, style_dim=8, n_mlp=1)
    assert g.use_measured_path(cache_dir=tmp_path) == "fused-bf16" == g.synthesis_path
    assert calls[2] == (synthesis_path.PATHS, 8, g)
    assert Generator(8, style_dim=8, n_mlp=1).use_measured_path(cache_dir=tmp_path) == "fused-bf16"
    assert len(calls) == 3
    assert len(json.loads((tmp_path / synthesis_path.CACHE_FILE).read_text())) == 3


def test_bf16_below_the_psnr_bound_is_not_chosen(tmp_path, monkeypatch):
    monkeypatch.setattr(synthesis_path, "measure_paths",
                        lambda paths, size, rounds, generator:
                        ({"fast": 1.0, "fused-fp32": 1.1, "fused-bf16": 0.2}, 30.0))
    assert synthesis_path.choose_path(cache_dir=tmp_path).path == "fast"


def test_a_real_measurement_on_the_generator_is_cached(small_generator, tmp_path):
    g = small_generator.eval()
    choice = synthesis_path.choose_path(cache_dir=tmp_path, rounds=1, generator=g)
    assert choice.path in synthesis_path.PATHS and set(choice.seconds) == set(synthesis_path.PATHS)
    assert choice.size == 32 and all(s > 0 for s in choice.seconds.values())
    assert choice.psnr_bf16 is not None and choice.psnr_bf16 >= synthesis_path.MIN_PSNR_DB
    assert synthesis_path.choose_path(cache_dir=tmp_path, rounds=1, generator=g) == choice
    assert g.use_measured_path(cache_dir=tmp_path) == choice.path == g.synthesis_path


def test_measuring_renders_as_a_run_does_and_leaves_the_callers_rng_alone(small_generator):
    g = small_generator.eval()
    with torch.inference_mode():
        styles = g.styles(torch.randn(1, g.style_dim, generator=torch.Generator().manual_seed(3)))
        noise = g.noise_inputs(1)
        for path in synthesis_path.PATHS:  # Generator.synthesize itself: its memory format, its dispatch
            assert torch.equal(synthesis_path.render(g, styles, noise, path), g.synthesize(styles, noise=noise,
                                                                                           path=path))
    state = torch.get_rng_state()
    synthesis_path.measure_paths(("fast",), rounds=1, generator=g)
    assert torch.equal(torch.get_rng_state(), state)
    synthesis_path.measure_paths(("fast",), size=8, rounds=1)  # its own random weights, seed 0, fork of the RNG
    assert torch.equal(torch.get_rng_state(), state)
