"""The edit state of one image in flight, and the one place edits compose.

A result is (W+ code, StyleSpace offset): the mapper and optimization move
the W+ code, global directions add to the StyleSpace offset, and the image is
the generator run on S(W+) + offset. ``render`` is the only function that
turns state into pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Sequence

import torch

if TYPE_CHECKING:
    from .batching import AdaptiveBatch


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (it holds an array)
class Photo:
    """What an ``invert`` fed the encoder for one item: its pixels and, for aligned faces, how."""

    pixels: Any                     # (H, W, 3) uint8 numpy array, or None: ``load`` decodes it when asked
    path: str
    face: int | None = None         # 1-based, left to right (aligned sets only)
    faces: int | None = None        # faces found in the photo
    alignment: dict | None = None   # landmarks, quad, box (photos/align.py), recorded in run.json
    load: Any = field(default=None, repr=False, compare=False)  # () -> pixels, for a cached inversion

    def image(self) -> Any:
        """The pixels (decoded again when the inversion came from the cache)."""
        return self.pixels if self.pixels is not None else self.load()

    def record(self) -> dict:
        return {"path": self.path, "face": self.face, "faces": self.faces, "alignment": self.alignment}


@dataclass
class Item:
    name: str                                   # file stem, "seed7", ...
    subject: str                                # the subject (batch) name
    index: int                                  # position in its subject
    wplus: torch.Tensor                         # (L, C)
    s_offset: list[torch.Tensor] | None = None  # per style layer (C,), None = zero
    labels: dict = field(default_factory=dict)  # step, text, engine, swept parameter
    source: "Item | None" = None                # the subject's source item (None for sources)
    variant: int = 0                            # column in a sweep
    photo: "Photo | None" = None                # invert: the input as the encoder saw it (grids, save aligned)

    @property
    def root(self) -> "Item":
        return self.source or self

    def derive(self, **changes) -> "Item":
        changes.setdefault("source", self.root)
        return replace(self, **changes)


def stack_wplus(items: Sequence[Item], device: torch.device | str) -> torch.Tensor:
    return torch.stack([it.wplus for it in items]).to(device)


def stack_offsets(items: Sequence[Item], layout, device: torch.device | str) -> list[torch.Tensor] | None:
    if all(it.s_offset is None for it in items):
        return None
    out = []
    for layer in layout:
        rows = [it.s_offset[layer.index] if it.s_offset is not None else torch.zeros(layer.width)
                for it in items]
        out.append(torch.stack(rows).to(device))
    return out


def add_offsets(a: list[torch.Tensor] | None, b: list[torch.Tensor]) -> list[torch.Tensor]:
    return list(b) if a is None else [x + y.to(x) for x, y in zip(a, b)]


@torch.no_grad()
def render(generator, items: Sequence[Item], device: torch.device | str,
           batch: "AdaptiveBatch | None" = None, path: str = "fast") -> torch.Tensor:
    """Images (N, 3, H, W), raw generator output, for the items' edit states,
    in chunks that shrink if the device runs out of memory, on the synthesis
    ``path`` (``WarmModels.synthesis_path`` for a run's results: render_path.py)."""
    from .batching import AdaptiveBatch

    def chunk(a: int, b: int) -> torch.Tensor:
        part = items[a:b]
        styles = generator.styles(stack_wplus(part, device))
        offsets = stack_offsets(part, generator.layout, device)
        if offsets is not None:
            styles = [s + o.to(s) for s, o in zip(styles, offsets)]
        return generator.synthesize(styles, path=path).float().cpu()

    return torch.cat((batch or AdaptiveBatch(render_chunk(generator, device))).run(len(items), chunk))


# Chunk sizes of result renders. A GPU wants batches; so does a CPU on toon's 64-px generator (2x from
# batch 8: its small operators leave the cores idle). At FFHQ shapes on a CPU a batch's activations
# outgrow the caches: batch 8 or 32 renders at 0.6-0.9x batch 1's images/s at 256 and 1024 px on
# every path (docs/performance.md, "Batch throughput", the quiet table), so a CPU renders those one
# at a time. A chunk's images are the same as one at a time's (tests/runtime/test_batching.py).
GPU_RENDER_CHUNK = 16
CPU_RENDER_CHUNK_SMALL = 16
CPU_BATCHING_BELOW = 256  # px: generators this size and up render one image per chunk on a CPU


def render_chunk(generator, device: torch.device | str) -> int:
    """How many images ``render`` synthesises at once on ``device`` (the first try: a chunk that
    runs out of memory is halved)."""
    if torch.device(device).type != "cpu":
        return GPU_RENDER_CHUNK
    return CPU_RENDER_CHUNK_SMALL if generator.size < CPU_BATCHING_BELOW else 1
