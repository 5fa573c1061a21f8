"""Adaptive batching: an out-of-memory chunk is retried smaller; other errors pass through."""
from __future__ import annotations

import pytest

from styleclip_runtime.execution.batching import AdaptiveBatch


def test_out_of_memory_halves_the_batch_and_keeps_order() -> None:
    calls: list[tuple[int, int]] = []
    notes: list[str] = []

    def work(a: int, b: int) -> list[int]:
        calls.append((a, b))
        if b - a > 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return list(range(a, b))

    batch = AdaptiveBatch(16, notes.append)
    out = batch.run(10, work)
    assert [x for chunk in out for x in chunk] == list(range(10))
    # halved from what failed (10 items), not from the larger initial size
    assert batch.size == 2 and calls[:3] == [(0, 10), (0, 5), (0, 2)]
    assert len(notes) == 2 and "batches of 2" in notes[-1]


def test_other_errors_and_oom_at_one_item_are_raised() -> None:
    with pytest.raises(ValueError):
        AdaptiveBatch(4).run(3, lambda a, b: (_ for _ in ()).throw(ValueError("bad input")))
    with pytest.raises(RuntimeError, match="out of memory"):
        AdaptiveBatch(4).run(3, lambda a, b: (_ for _ in ()).throw(RuntimeError("out of memory")))


def test_result_renders_batch_where_batching_pays_and_chunks_give_the_same_images(tiny_generator) -> None:
    """``state.render``'s first chunk size: batches on a GPU and for small generators on a CPU, one
    image at a time for FFHQ-sized generators on a CPU (docs/performance.md's quiet throughput
    table); and whatever the chunking, the same images."""
    import torch

    from styleclip_runtime.execution.state import Item, render, render_chunk
    from styleclip_runtime.models.stylegan2 import Generator

    big = Generator(256, style_dim=32, n_mlp=1, channel_multiplier=0.5, channel_max=8).eval()
    assert render_chunk(big, "cpu") == 1
    assert render_chunk(big, "cuda") == 16 and render_chunk(tiny_generator, "cuda") == 16
    assert render_chunk(tiny_generator, "cpu") == 16

    torch.manual_seed(3)
    layers = tiny_generator.n_latent
    items = [Item(f"s{i}", "s", i, torch.randn(layers, 32)) for i in range(5)]
    whole = render(tiny_generator, items, "cpu")
    one_by_one = render(tiny_generator, items, "cpu", AdaptiveBatch(1))
    assert whole.shape == (5, 3, 16, 16)
    assert torch.allclose(whole, one_by_one, atol=1e-5), (whole - one_by_one).abs().max()
    assert not torch.allclose(whole[0], whole[1])  # five different subjects, not one image five times
