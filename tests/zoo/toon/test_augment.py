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
