"""One warm replica of a model set: a Ray actor runs batches on it (``driver.py`` wraps this class
with ``ray.remote``; it imports nothing of Ray itself, so it runs and tests without a cluster).

The models are loaded once per actor (one actor per device) and kept across batches; each batch
runs on a fresh executor memo so two batches never mix. The cache folder is the one the driver
names (a folder shared by every node, e.g. NFS, on a real cluster): directions, mappers, inversions
and optimizations one worker files are hits on the others.
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .batches import Batch, shared_edits

# The environment a worker needs to find the same model sets and the same cache as the driver.
FORWARDED_ENV = ("STYLECLIP_CACHE", "STYLECLIP_RESULTS_CACHE", "STYLECLIP_CACHE_STORE", "XDG_CACHE_HOME",
                 "HF_HUB_OFFLINE")


@dataclass
class BatchResult:
    """What one batch gives back to the driver (pickled by Ray: item identities inside one result,
    an edit's item and its source, survive the trip)."""

    number: int
    worker: str
    restarted: bool                                  # this actor was restarted (a killed worker) before it ran
    items: dict[str, list] = field(default_factory=dict)    # step id -> items (state.Item)
    images: dict[str, object] = field(default_factory=dict)  # step id -> rendered images (N, 3, H, W)
    infos: dict[str, dict] = field(default_factory=dict)     # step id -> the executor's step info
    events: list[dict] = field(default_factory=list)         # the batch's notices and warnings
    cache: dict[str, int] = field(default_factory=dict)      # hits/misses/writes/corrupt during the batch
    seconds: float = 0.0
    error: dict | None = None                        # a StepError: message, step, hint


class BatchWorker:
    """The body of a Ray actor: ``ray.remote(BatchWorker)`` (``driver.py``)."""

    def __init__(self, worker_id: str, modelset: str, device: str | None, no_cache: bool,
                 env: dict[str, str] | None = None, threads: int | None = None) -> None:
        os.environ.update(env or {})
        if threads:  # Ray gives an actor one thread per CPU it holds; a CPU's sums depend on the count
            import torch

            torch.set_num_threads(threads)
        from ..execution.build_executor import open_executor

        self.worker_id = worker_id
        self._events: list[dict] = []
        self.executor = open_executor(modelset, device, self._events.append, no_cache=no_cache)
        self.models = self.executor.models
        self.restarted = _was_restarted()

    def ping(self) -> str:
        return self.worker_id

    def prepare(self, plan: dict) -> list[dict]:
        """Directions and mappers every batch needs, computed here once (under the cache's key lock)
        so that the other workers read them as hits instead of each computing them. A failure is left
        for the batch's step to report with its recipe line."""
        from styleclip_dsl.plan import step_from_dict

        from ..engines.protocol import variants
        from ..engines.registry import engine_for

        self._events.clear()
        for data in shared_edits(plan):
            step = step_from_dict(data)
            engine = engine_for(step.engine)
            for params_list, _ in variants(step):
                try:
                    engine.prepare(self.models, step, params_list)
                except Exception:  # the batch that needs it says why, pointing at the line
                    break
        return _forwarded(self._events)

    def run_batch(self, batch: Batch, recipe_text: str, base_dir: str) -> BatchResult:
        from ..execution.errors import StepError
        from ..execution.executor import Executor
        from ..execution.state import render

        start = time.perf_counter()
        self._events.clear()
        stats = dataclasses.asdict(self.models.cache.stats)
        result = BatchResult(batch.number, self.worker_id, self.restarted)
        executor = Executor(self.models, self._events.append)
        executor.image_digests = self.executor.image_digests  # decoded photos shared across batches
        with tempfile.TemporaryDirectory(prefix="styleclip-batch-") as scratch:  # writes nothing there
            try:
                report = executor.run(batch.plan, recipe_text, Path(base_dir), Path(scratch),
                                      write_manifest=False, incremental=True)
            except StepError as exc:
                result.error = {"message": exc.message, "step": exc.step_data(), "hint": exc.hint}
                return result
        hash_of = {s["id"]: s["hash"] for s in batch.plan["steps"]}
        result.items = {sid: _portable(executor.memo[h]) for sid, h in hash_of.items()}
        for sid in batch.rendered:
            if sid in result.items:
                result.images[sid] = render(self.models.generator, executor.memo[hash_of[sid]], self.models.device,
                                             path=self.models.synthesis_path)  # the driver's (pinned in env)
        result.infos = {t["id"]: {k: v for k, v in t.items() if k not in ("id", "kind", "line", "seconds")}
                        for t in report.timings}
        after = dataclasses.asdict(self.models.cache.stats)
        result.cache = {k: after[k] - stats[k] for k in ("hits", "misses", "writes", "corrupt")}
        result.events = _forwarded(self._events)
        result.seconds = time.perf_counter() - start
        return result


def _forwarded(events: list[dict]) -> list[dict]:
    return [dict(e) for e in events if e.get("event") in ("notice", "warning")]


def _portable(items: list) -> list:
    """The items with their photos' pixels in hand (a cached inversion decodes its photo again on
    demand, through this worker's decoder, which does not travel)."""
    photos: dict[int, tuple] = {}  # id of a photo -> (that photo, kept alive; its portable copy)

    def portable(photo):
        if photo is None or photo.load is None:
            return photo
        if id(photo) not in photos:
            photos[id(photo)] = (photo, dataclasses.replace(photo, pixels=photo.image(), load=None))
        return photos[id(photo)][1]

    for it in items:
        it.photo = portable(it.photo)
        if it.source is not None:
            it.source.photo = portable(it.source.photo)
    return items


def _was_restarted() -> bool:
    try:
        import ray

        return bool(ray.get_runtime_context().was_current_actor_reconstructed)
    except Exception:  # not in a Ray actor (tests of the class itself)
        return False
