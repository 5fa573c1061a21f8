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

    # pixel noise adds edges of its own: without it, what is left must be smoother than the renders
    from dataclasses import replace

    from styleclip_zoo.toon.augment import GeneratorLookConfig

    smooth = augment_generator_look(x, torch.Generator().manual_seed(3), replace(GeneratorLookConfig(), noise_std=0))
    assert edges(smooth) < 0.8 * edges(x)


def test_the_generator_look_pulls_colours_toward_the_average_face_as_truncation_does():
    from dataclasses import replace

    from styleclip_zoo.toon.augment import GeneratorLookConfig, augment_generator_look, gaussian_blur
    from styleclip_zoo.toon.pool import held_out

    x, _ = held_out(32)
    quiet = GeneratorLookConfig(shift_px=0, scale=0, blur_p=0, texture=0, desaturate=0, block_p=0, noise_std=0,
                                brightness=0, contrast=0, channel_gain=0)
    mean_face = gaussian_blur(x.mean(0, keepdim=True), 2.0)
    gen = torch.Generator().manual_seed(4)
    untouched = augment_generator_look(x, gen, replace(quiet, mean_pull=0))
    pulled = augment_generator_look(x, torch.Generator().manual_seed(4), replace(quiet, mean_pull=0.4, mean_pull_p=1))
    torch.testing.assert_close(untouched, x, atol=1e-5, rtol=0)  # no other perturbation is on
    dist_before = (x - mean_face).abs().mean(dim=(1, 2, 3))
    dist_after = (pulled - mean_face).abs().mean(dim=(1, 2, 3))
    share = 1 - dist_after / dist_before  # each image moved this share of the way
    assert bool((share >= 0).all()) and float(share.max()) <= 0.4 + 1e-4 and float(share.mean()) > 0.1
