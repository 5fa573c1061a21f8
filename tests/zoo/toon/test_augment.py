"""Augmentations: the fast blur equals a convolution, and perturbations stay mild."""
import torch
import torch.nn.functional as F

from styleclip_zoo.toon import Attributes, render_batch
from styleclip_zoo.toon.augment import augment, gaussian_blur


def test_matrix_blur_equals_depthwise_convolution():
    x = torch.rand(2, 3, 20, 24)
    k = torch.exp(-0.5 * torch.arange(-3, 4.0) ** 2)
    k = k / k.sum()
    ref = F.pad(x, (3, 3, 3, 3), mode="reflect")
    ref = F.conv2d(ref, k.view(1, 1, 1, -1).expand(3, 1, 1, -1), groups=3)
    ref = F.conv2d(ref, k.view(1, 1, -1, 1).expand(3, 1, -1, 1), groups=3)
    torch.testing.assert_close(gaussian_blur(x, 1.0), ref, atol=1e-5, rtol=0)


def test_augment_is_mild_random_and_in_range():
    img = torch.from_numpy(render_batch([Attributes()] * 8, list(range(8)))).permute(0, 3, 1, 2).float() / 255
    g = torch.Generator().manual_seed(0)
    a, b = augment(img, g), augment(img, g)
    assert a.shape == img.shape and a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, b)
    assert 0.005 < (a - img).abs().mean() < 0.1


def test_blockiness_is_an_orthonormal_8x8_dct_round_trip():
    from styleclip_zoo.toon.augment import blockiness

    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(blockiness(x, torch.full((2,), 1e-7)), x, atol=1e-5, rtol=0)
    coarse = blockiness(x, torch.full((2,), 100.0))  # every coefficient rounds to 0
    assert float(coarse.abs().max()) == 0.0
    coarser = blockiness(x, torch.full((2,), 0.5))  # some quantisation: the pixels change, the mean stays near
    assert not torch.allclose(coarser, x) and abs(float(coarser.mean() - x.mean())) < 0.05


def test_the_generator_look_blurs_and_stays_in_range_and_is_seeded():
    from styleclip_zoo.toon.augment import augment_generator_look
    from styleclip_zoo.toon.pool import held_out

    x, _ = held_out(16)
    a = augment_generator_look(x, torch.Generator().manual_seed(3))
    b = augment_generator_look(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.min() >= 0 and a.max() <= 1

    def edges(img: torch.Tensor) -> float:  # mean absolute horizontal gradient: blur lowers it
        return float((img[..., 1:] - img[..., :-1]).abs().mean())

    assert edges(a) < edges(x)
