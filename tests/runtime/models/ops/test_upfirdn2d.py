"""upfirdn2d: the reference path against the definition, the fast path
against the reference, and the CUDA builder never touched on CPU."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from styleclip_runtime.models.ops import _cuda, fused_bias_leaky_relu, make_kernel, upfirdn2d, upfirdn2d_reference


def definition_1d(x: np.ndarray, k: np.ndarray, up: int, down: int, p0: int, p1: int) -> np.ndarray:
    """The textbook steps on one axis with numpy."""
    u = np.zeros(len(x) * up)
    u[::up] = x
    u = np.concatenate([np.zeros(max(p0, 0)), u, np.zeros(max(p1, 0))])
    u = u[max(-p0, 0):len(u) - max(-p1, 0)]
    y = np.convolve(u, k, mode="valid")  # true convolution
    return y[::down]


@pytest.mark.parametrize("up,down,pad", [(1, 1, (1, 1)), (2, 1, (2, 1)), (1, 2, (1, 1)), (2, 2, (1, 2)),
                                         (1, 1, (-1, 2))])
def test_reference_is_the_separable_definition(up, down, pad):
    rng = np.random.default_rng(0)
    taps = np.array([1.0, 2.0, 5.0, 1.0])  # asymmetric, so flips would show
    x = rng.standard_normal((5, 6))
    kernel = np.outer(taps, taps)
    out = upfirdn2d_reference(torch.from_numpy(x)[None, None], torch.from_numpy(kernel), up, down, pad)[0, 0]
    rows = np.stack([definition_1d(r, taps, up, down, *pad) for r in x])
    expected = np.stack([definition_1d(c, taps, up, down, *pad) for c in rows.T]).T
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("up,down,pad", [(1, 1, (1, 1)), (2, 1, (2, 1)), (2, 1, (1, 2)), (2, 1, (0, 0)),
                                         (1, 2, (1, 1)), (2, 2, (1, 1)), (1, 1, (-1, 0))])
def test_fast_path_matches_reference(up, down, pad):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 7, dtype=torch.float64)
    kernel = make_kernel(torch.tensor([1.0, 2.0, 5.0, 1.0])).double()
    fast = upfirdn2d(x, kernel, up, down, pad)
    ref = upfirdn2d_reference(x, kernel, up, down, pad)
    assert fast.shape == ref.shape
    torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)


def test_blur_kernel_preserves_a_constant():
    kernel = make_kernel([1, 3, 3, 1]) * 4
    assert float(make_kernel([1, 3, 3, 1]).sum()) == pytest.approx(1.0)
    up = upfirdn2d(torch.ones(1, 1, 6, 6), kernel, up=2, pad=(2, 1))
    assert up.shape == (1, 1, 12, 12)
    torch.testing.assert_close(up[..., 2:-2, 2:-2], torch.ones(1, 1, 8, 8))


def test_cpu_never_builds_the_cuda_extension(monkeypatch):
    def boom():
        raise AssertionError("CUDA extension requested for a CPU tensor")

    monkeypatch.setattr(_cuda, "extension", boom)
    x = torch.randn(1, 2, 4, 4)
    upfirdn2d(x, make_kernel([1, 3, 3, 1]), up=2, pad=(2, 1))
    out = fused_bias_leaky_relu(x, torch.tensor([1.0, -1.0]))
    expected = torch.nn.functional.leaky_relu(x + torch.tensor([1.0, -1.0]).view(1, 2, 1, 1), 0.2) * 2 ** 0.5
    torch.testing.assert_close(out, expected)
    assert not _cuda.usable(x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("up,down,pad", [(1, 1, (1, 1)), (2, 1, (2, 1)), (1, 2, (1, 1)), (2, 2, (-1, 2))])
def test_cuda_kernels_match_reference(up, down, pad):
    if _cuda.extension() is None:
        pytest.skip("CUDA kernels could not be built here")
    torch.manual_seed(0)
    x = torch.randn(2, 5, 9, 9, device="cuda")
    kernel = make_kernel(torch.tensor([1.0, 2.0, 5.0, 1.0])).cuda()
    with torch.no_grad():
        torch.testing.assert_close(upfirdn2d(x, kernel, up, down, pad),
                                   upfirdn2d_reference(x, kernel, up, down, pad), rtol=1e-5, atol=1e-5)
        bias = torch.randn(5, device="cuda")
        expected = torch.nn.functional.leaky_relu(x + bias.view(1, -1, 1, 1), 0.2) * 2 ** 0.5
        torch.testing.assert_close(fused_bias_leaky_relu(x, bias), expected, rtol=1e-5, atol=1e-5)
