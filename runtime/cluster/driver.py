"""The driver of a run on Ray: batches out to warm actors, outputs and run.json written here.

1. ``split_plan`` cuts every source step's subjects into batches (16 subjects: the executor's own
   chunk, so the workers compute the chunks a local run computes and the bytes agree).
2. One actor per device (``num_gpus`` each on a GPU cluster), each loading the models once.
3. One actor computes the directions and mappers first; the others read them from the shared cache.
4. Batches go to idle actors one at a time; a killed actor is restarted by Ray and its in-flight
   batch retried there (``max_restarts``/``max_task_retries``); nothing else is lost.
5. The items come back in batch order, and the ordinary executor runs the whole plan with its
   source and edit steps already in memory: grids, images, expectations, run.json and the output
   cache are written by the same code as a local run's.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from styleclip_dsl.plan import EditStep, SourceStep

from ..execution import sources
from ..execution.errors import StepError
from ..execution.render_path import ENV as SYNTHESIS_ENV
from ..execution.executor import EventSink, Executor
from ..execution.report import RunReport
from .batches import DEFAULT_BATCH, Batch, split_plan
from .worker import FORWARDED_ENV, BatchResult, BatchWorker

LOCAL = "local"  # `--ray` without an address: a Ray started for this run on this machine


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how wide a run goes."""

    address: str = LOCAL         # "local", "auto" (a running cluster) or "ray://host:10001"
    workers: int | None = None   # actors; default: one per GPU, else one per CPU (at most the batches)
    num_gpus: float | None = None  # per actor; default 1 when the cluster has GPUs, else 0
    num_cpus: float = 1.0          # per actor
    batch_size: int = DEFAULT_BATCH
    retries: int = 3               # restarts of a killed actor and retries of its in-flight batch
    local_cpus: int | None = None  # CPUs of a local Ray (default: all)
    threads: int | None = None     # torch threads per actor; default: the driver's, so that CPU results
                                   # are the bytes a local run on this machine computes


class ClusterExecutor(Executor):
    """The ordinary executor, its source and edit steps filled in from the workers' batches."""

    def __init__(self, models, events: EventSink = lambda e: None) -> None:
        super().__init__(models, events)
        self.prefilled: dict[str, dict] = {}  # step hash -> the step's info (summed over batches)

    def prefill(self, plan: dict, batches: list[Batch], results: dict[int, BatchResult]) -> None:
        hash_of = {s["id"]: s.get("hash") or s["id"] for s in plan["steps"]}
        offsets: dict[str, int] = {}
        for batch in batches:
            res = results[batch.number]
            shift = offsets.get(batch.source_id, 0)
            seen: set[int] = set()
            for items in res.items.values():  # indices count from the batch's first subject
                for it in [*items, *(i.source for i in items if i.source is not None)]:
                    if id(it) not in seen:
                        seen.add(id(it))
                        it.index += shift
            offsets[batch.source_id] = shift + len(res.items.get(batch.source_id, []))
            for sid, items in res.items.items():
                h = hash_of[sid]
                self.memo.setdefault(h, []).extend(items)
                self.prefilled[h] = _merge(self.prefilled.get(h), res.infos.get(sid, {}))
            for sid, images in res.images.items():
                h = hash_of[sid]
                self.images[h] = images if h not in self.images else torch.cat([self.images[h], images])
            self.done.update(hash_of[sid] for sid in res.items)

    def _run_step(self, step, plan, recipe_text, base_dir, out_dir, report, update_golden, by_id) -> dict:
        h = step.hash  # a typed step (styleclip_dsl.plan), as Executor.run passes it
        if isinstance(step, (SourceStep, EditStep)) and h in self.prefilled:
            if isinstance(step, SourceStep):
                report.photos.extend(sources.photo_records(self.memo[h]))
            return dict(self.prefilled[h])
        return super()._run_step(step, plan, recipe_text, base_dir, out_dir, report, update_golden, by_id)


def _merge(into: dict | None, info: dict) -> dict:
    """A step's info over batches: counts summed, the rest as the first batch said."""
    if into is None:
        return dict(info)
    out = dict(into)
    for k, v in info.items():
        if isinstance(v, int) and not isinstance(v, bool) and isinstance(out.get(k), int):
            out[k] = out[k] + v
        else:
            out.setdefault(k, v)
    return out


@dataclass
class ClusterRun:
    """One run of a plan on Ray. ``actors`` (worker id -> actor handle) is public so that an operator
    (or a test) can see, and kill, the workers."""

    options: ClusterOptions = field(default_factory=ClusterOptions)
    actors: dict[str, Any] = field(default_factory=dict)

    def run(self, executor: Executor, plan: dict, recipe_text: str, base_dir: Path, out_dir: Path, *,
            modelset: str, device: str | None = None, no_cache: bool = False, **run_args: Any) -> RunReport:
        """Run ``plan`` with its subjects on the cluster and its outputs written by ``executor``'s
        models here; ``run_args`` go to ``Executor.run`` (record_outputs, overwrite, recipe_path...)."""
        import ray

        events = executor.events
        started = connect(self.options)
        try:
            batches = split_plan(plan, base_dir, self.options.batch_size)
            self._start_actors(len(batches), modelset, device, no_cache, executor.models.synthesis_path)
            results = self._run_batches(batches, plan, recipe_text, base_dir, events)
        finally:
            for actor in self.actors.values():
                ray.kill(actor, no_restart=True)
            if started:
                ray.shutdown()
        driver = ClusterExecutor(executor.models, events)
        driver.image_digests = executor.image_digests
        driver.prefill(plan, batches, results)
        stats = executor.models.cache.stats
        for res in results.values():  # run.json's cache block: what the workers read and wrote
            for what, n in res.cache.items():
                setattr(stats, what, getattr(stats, what) + n)
        return driver.run(plan, recipe_text, base_dir, out_dir, **run_args)

    def _start_actors(self, batches: int, modelset: str, device: str | None, no_cache: bool,
                      synthesis_path: str = "fast") -> None:
        import ray

        gpus = self.options.num_gpus
        if gpus is None:
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
        count = self.options.workers or _default_workers(gpus, self.options.num_cpus)
        count = max(1, min(count, batches))
        env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
        env[SYNTHESIS_ENV] = synthesis_path  # the workers render on the driver's path: the same bytes
        remote = ray.remote(BatchWorker).options(num_cpus=self.options.num_cpus, num_gpus=gpus,
                                                 max_restarts=self.options.retries,
                                                 max_task_retries=self.options.retries)
        for i in range(count):
            wid = f"w{i}"
            self.actors[wid] = remote.remote(wid, modelset, device, no_cache, env,
                                             self.options.threads or torch.get_num_threads())

    def _run_batches(self, batches: list[Batch], plan: dict, text: str, base_dir: Path,
                     events: EventSink) -> dict[int, BatchResult]:
        import ray
        from ray.exceptions import RayActorError

        t0 = time.perf_counter()
        subjects = sum(b.units for b in batches)
        events({"event": "cluster_start", "address": self.options.address, "workers": sorted(self.actors),
                "batches": len(batches), "subjects": subjects, "batch_size": self.options.batch_size})
        first = next(iter(self.actors.values()))
        for e in ray.get(first.prepare.remote(plan)):  # directions and mappers: once, before any batch
            events({**e, "worker": "w0"})
        queue, idle = list(batches), list(self.actors)
        pending: dict[Any, tuple[Batch, str]] = {}
        results: dict[int, BatchResult] = {}
        done = 0
        while queue or pending:
            while queue and idle:
                batch, wid = queue.pop(0), idle.pop(0)
                pending[self.actors[wid].run_batch.remote(batch, text, str(base_dir))] = (batch, wid)
                events({"event": "batch_start", "batch": batch.number, "worker": wid, "subjects": batch.units})
            ready, _ = ray.wait(list(pending), num_returns=1)
            batch, wid = pending.pop(ready[0])
            try:
                res = ray.get(ready[0])
            except RayActorError as exc:
                raise RuntimeError(f"worker {wid} died running batch {batch.number} "
                                   f"{self.options.retries + 1} times: {exc}") from exc
            if res.error is not None:
                raise StepError(res.error["message"], res.error["step"], res.error["hint"])
            idle.append(wid)
            results[batch.number] = res
            done += batch.units
            for e in res.events:
                events({**e, "worker": res.worker})
            events({"event": "batch_end", "batch": batch.number, "worker": res.worker, "subjects": batch.units,
                    "done": done, "total": subjects, "seconds": round(res.seconds, 4), "restarted": res.restarted})
        events({"event": "cluster_end", "seconds": round(time.perf_counter() - t0, 3), "subjects": subjects,
                "batches": len(batches), "workers": len(self.actors)})
        return results


def _default_workers(gpus: float, cpus: float) -> int:
    import ray

    res = ray.cluster_resources()
    if gpus > 0:
        return max(1, int(res.get("GPU", 0) // gpus))
    return max(1, int(res.get("CPU", 1) // max(cpus, 1e-9)))


def connect(options: ClusterOptions) -> bool:
    """Join or start Ray; True when this call started it (and the run shuts it down)."""
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if options.address == LOCAL:
        ray.init(num_cpus=options.local_cpus, **kwargs)
    else:
        ray.init(address=options.address, **kwargs)
    return True


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


