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
