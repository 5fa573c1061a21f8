"""The device-memory estimate of `plan --explain` (runtime.memory_estimate).

The estimate is what the autograd graph of the generator keeps per image, as a
formula in the generator's config fitted on six other generators; the test
measures a generator outside that fit (other widths and channel cap) and
checks the formula against what autograd really saves, and that the weights
are the generator's real parameter bytes.
"""
from __future__ import annotations

import pytest
import torch
from styleclip_runtime.execution.memory_estimate import (MemoryEstimate, format_bytes, generator_backward_bytes,
                                              generator_weight_bytes, measure_backward_bytes)
from styleclip_runtime.models.stylegan2 import Generator


@pytest.mark.parametrize("size,multiplier,cap", [(128, 2, 256), (64, 1, 512)])
def test_the_estimate_matches_what_autograd_saves_for_a_generator_outside_the_fit(size, multiplier, cap) -> None:
    torch.manual_seed(0)
    g = Generator(size, 256, 2, channel_multiplier=multiplier, channel_max=cap).eval()
    for p in g.parameters():
        p.requires_grad_(False)
    measured = measure_backward_bytes(g)
    estimate = generator_backward_bytes(g.config)
    assert abs(estimate - measured) / measured < 0.1, (estimate, measured)
    assert generator_weight_bytes(g.config) == 4 * sum(p.numel() for p in g.parameters())


def test_batches_that_fit_a_budget() -> None:
    m = MemoryEstimate(batch=8, per_image=100, weights=50)
    assert m.total == 850
    assert m.largest_batch_within(850) == 8 and m.largest_batch_within(449) == 3
    assert m.largest_batch_within(149) == 0  # not even one image
    assert format_bytes(2.6e9) == "2.6 GB" and format_bytes(334e6) == "334 MB"
