"""Batches that adapt to memory: run work in chunks, and when a chunk runs
out of memory, halve the chunk size and retry it (down to one item) before
giving up. The size that worked is kept for the rest of the run."""
from __future__ import annotations

from typing import Callable, TypeVar

import torch

T = TypeVar("T")


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, (RuntimeError, MemoryError)) and (
        isinstance(exc, MemoryError) or "out of memory" in str(exc).lower())


class AdaptiveBatch:
    """Remembers the largest chunk size that fitted, per kind of work."""

    def __init__(self, initial: int = 16, notify: Callable[[str], None] = lambda m: None) -> None:
        self.size = max(1, initial)
        self.notify = notify

    def run(self, n: int, work: Callable[[int, int], T]) -> list[T]:
        """Call ``work(start, stop)`` over ``range(n)`` in chunks; returns the results in order."""
        out: list[T] = []
        start = 0
        while start < n:
            stop = min(n, start + self.size)
            try:
                out.append(work(start, stop))
            except BaseException as exc:  # noqa: BLE001 - re-raised unless it is an OOM
                if not is_out_of_memory(exc) or stop - start == 1:
                    raise
                self.size = max(1, (stop - start) // 2)  # half of what failed, not of a size larger than the work
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                self.notify(f"out of memory: retrying with batches of {self.size}")
                continue
            start = stop
        return out
