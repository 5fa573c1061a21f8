"""Subjects per second of one recipe over 64 toon subjects: locally, and on Ray with 1 and 2 workers,
plus Ray's per-task overhead (#22 item 5). Figures go in docs/cluster.md.

- local: the ordinary executor in this process (models warm, cache cold): the baseline.
- ray N: ``ClusterRun`` with N workers on a local Ray (started once, not timed): each run starts its
  actors (loading the models), broadcasts the direction and mapper, runs the batches of 16 and
  writes the outputs here. Reported whole (wall) and for the batch phase alone (cluster_end).
- overhead: the round trip of an empty actor call, and a batch of 1 subject on a warm actor against
  the same batch on a worker object in this process (means over 20 after a warm-up).

Every run computes from a cold cache of its own; the outputs of each Ray run are compared with the
local run's bytes (a mismatch is reported). Ratios are against the local run measured in the same
process. The machine's CPUs bound the speed-up: on a 2-core machine two workers share two cores.

    python bench/bench_cluster.py [--subjects 64] [--repeat 1]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

RECIPE = """use toon
seed 4
generate seeds=1..{n} as crowd
global 'smile' alpha=3
then mapper 'beard' strength=2
save out/{{name}}.png
save grid out/crowd.png
"""


def plan_of(text: str) -> dict:
    from styleclip_dsl.api import compile_recipe
    from styleclip_dsl.model_names import ModelNames

    plan, diags = compile_recipe(text, "bench.sc", {}, names=ModelNames.discover())
    assert plan is not None, diags
    return json.loads(plan.to_json())


def pngs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def local_run(text: str, tmp: Path, tag: str) -> tuple[float, dict[str, bytes]]:
    from styleclip_runtime.execution.build_executor import open_executor

    os.environ["STYLECLIP_CACHE"] = str(tmp / f"cache-{tag}")
    executor = open_executor("toon", "cpu")
    t0 = time.perf_counter()
    executor.run(plan_of(text), text, tmp, tmp / tag)
    return time.perf_counter() - t0, pngs(tmp / tag)


def ray_run(text: str, tmp: Path, tag: str, workers: int, batch: int = 16) -> tuple[float, float, dict[str, bytes]]:
    from styleclip_runtime.cluster.driver import ClusterOptions, ClusterRun
    from styleclip_runtime.execution.build_executor import open_executor

    os.environ["STYLECLIP_CACHE"] = str(tmp / f"cache-{tag}")
    phase: list[float] = []
    sink = (lambda e: phase.append(e["seconds"]) if e.get("event") == "cluster_end" else None)
    executor = open_executor("toon", "cpu", sink)
    t0 = time.perf_counter()
    ClusterRun(ClusterOptions(workers=workers, batch_size=batch)).run(
        executor, plan_of(text), text, tmp, tmp / tag, modelset="toon", device="cpu")
    return time.perf_counter() - t0, phase[0], pngs(tmp / tag)


def overhead(tmp: Path, rounds: int = 20) -> tuple[float, float, float]:
    """(empty actor call, a 1-subject batch on a warm actor, the same batch on a BatchWorker here), s."""
    import ray

    from styleclip_runtime.cluster.batches import split_plan
    from styleclip_runtime.cluster.worker import BatchWorker

    env = {"STYLECLIP_CACHE": str(tmp / "cache-overhead")}
    os.environ.update(env)
    text = RECIPE.format(n=1)
    batch = split_plan(plan_of(text), tmp)[0]
    actor = ray.remote(BatchWorker).options(num_cpus=1).remote("w0", "toon", "cpu", False, env, torch_threads())
    here = BatchWorker("here", "toon", "cpu", False, env)

    def timed(call) -> float:
        call()  # warm: models loaded, direction and mapper cached
        t0 = time.perf_counter()
        for _ in range(rounds):
            call()
        return (time.perf_counter() - t0) / rounds

    ping = timed(lambda: ray.get(actor.ping.remote()))
    remote = timed(lambda: ray.get(actor.run_batch.remote(batch, text, str(tmp))))
    local = timed(lambda: here.run_batch(batch, text, str(tmp)))
    ray.kill(actor)
    return ping, remote, local


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    import ray

    text = RECIPE.format(n=args.subjects)
    n = args.subjects
    rows: dict[str, list[tuple[float, float]]] = {"local": [], "ray 1 worker": [], "ray 2 workers": []}
    mismatches: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as name:
        tmp = Path(name)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            for r in range(args.repeat):
                wall, want = local_run(text, tmp, f"local{r}")
                rows["local"].append((wall, wall))
                for workers, label in ((1, "ray 1 worker"), (2, "ray 2 workers")):
                    wall, phase, got = ray_run(text, tmp, f"ray{workers}-{r}", workers)
                    rows[label].append((wall, phase))
                    if got != want:
                        mismatches.append(f"{label}: {sum(got.get(k) != v for k, v in want.items())} files differ")
            ping, remote_batch, local_batch = overhead(tmp)
        finally:
            ray.shutdown()
    base = statistics.median(w for w, _ in rows["local"])
    print(f"{n} toon subjects (generate, global, mapper, {n} images + a grid), cold cache, "
          f"{os.cpu_count()} CPUs, median of {args.repeat}\n")
    print("| run | wall s | subjects/s | vs local | batch phase s | subjects/s in batches |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, values in rows.items():
        wall = statistics.median(w for w, _ in values)
        phase = statistics.median(p for _, p in values)
        print(f"| {label} | {wall:.2f} | {n / wall:.1f} | {base / wall:.2f}x | "
              + (f"{phase:.2f} | {n / phase:.1f} |" if label != "local" else "- | - |"))
    print(f"\nper-task overhead: an empty actor call {ping * 1000:.2f} ms; a batch of 1 subject on a warm actor "
          f"{remote_batch * 1000:.1f} ms against {local_batch * 1000:.1f} ms for the same batch in this process "
          f"({(remote_batch - local_batch) * 1000:+.1f} ms a batch: shipping the plan, the items and images)")
    print("outputs: " + ("identical to the local run's bytes" if not mismatches else "; ".join(mismatches)))
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
