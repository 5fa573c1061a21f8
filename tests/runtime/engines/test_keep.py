"""``keep=``'s projection of CLIP's target (the optimization's half of conditional editing)."""
from __future__ import annotations

import pytest
import torch

from styleclip_runtime.engines.keep import orthogonal_part, target_without


def test_target_without_kept_directions_is_a_unit_vector_orthogonal_to_them() -> None:
    """The target loses exactly its components along the kept directions (their span, also when
    they are linearly dependent) and is renormalised; a target that shares none is unchanged."""
    gen = torch.Generator().manual_seed(0)
    kept = [torch.nn.functional.normalize(torch.randn(64, generator=gen), dim=0) for _ in range(2)]
    kept.append(kept[0] - kept[1])  # dependent: adds nothing to the span
    own = orthogonal_part(torch.randn(64, generator=gen), kept[:2])
    target = torch.nn.functional.normalize(own + 0.8 * kept[0] + 0.3 * kept[1], dim=0)
    out = target_without(target, kept)
    assert abs(float(out.norm()) - 1.0) < 1e-6
    assert all(abs(float(out @ k)) < 1e-6 for k in kept)
    assert torch.allclose(out, own / own.norm(), atol=1e-6)
    untouched = torch.nn.functional.normalize(own, dim=0)
    assert torch.allclose(target_without(untouched, kept), untouched, atol=1e-6)
    assert target_without(target, []) is target


def test_a_target_inside_the_kept_span_is_an_error_not_nan() -> None:
    a, b = torch.eye(8)[0], torch.eye(8)[1]
    with pytest.raises(ValueError, match="nothing would be left"):
        target_without(torch.nn.functional.normalize(a + b, dim=0), [a, b])
