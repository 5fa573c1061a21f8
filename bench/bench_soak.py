"""Soak: one long-lived process, many REPL lines and many runs; does memory or the cache grow?

Two phases on the embedded toon set, CPU, in one process (what a long REPL
session or a notebook does):

1. REPL: ``--lines`` (1,000) consecutive lines through ``Shell.handle``, the
   path a typed line takes: a new generated subject, global edits, saves,
   a sweep grid, lines with syntax and range errors, garbage bytes,
   ``:undo`` / ``:redo`` / ``:plan``.
2. Runs: ``--runs`` (200) ``styleclip run``-equivalents (compile, then the
   warm executor's ``run`` with a manifest) of a small recipe whose seed and
   alpha change every run, with a 2-step masked optimisation so that every
   run files new cache entries; the result cache is capped at
   ``--cache-mib`` (2 MiB), so it must stay bounded by eviction.

Reported (docs/reliability.md): resident memory after the warm-up (the first
tenth of each phase) and at the end, the growth between them as a ratio of
the warm-up figure (the baseline measured in the same run), the peak, the
cache size against its cap, and how many lines or runs failed unexpectedly.

    nice python bench/bench_soak.py [--lines 1000] [--runs 200] [--cache-mib 2]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    """Resident set size now (Linux /proc), MiB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def repl_lines(n: int) -> list[str]:
    """``n`` lines as a user might type them: mostly valid, some wrong, a few commands."""
    cycle = [
        "generate seed={k} as s{k}",
        "global 'smile' alpha=2",
        "save soak/repl/{{name}}_{k}.png",
        "then global 'beard' alpha=1.5",
        "this is not a statement {k}",
        "global 'smile' alpha=1e999",
        "\udcff\udcfe garbage bytes",
        ":undo",
        ":redo",
        "global 'purple hair' keep='a bald head' beta=0.38 layers=medium alpha=0..12 count 3",
        "save grid soak/repl/grid_{k}.png",
        ":plan",
    ]
    out = []
    k = 0
    while len(out) < n:
        for template in cycle:
            out.append(template.format(k=k))
        k += 1
    return out[:n]


def soak_repl(n: int, work: Path) -> dict:
    from rich.console import Console

    from styleclip_dsl.repl.session import ReplSession
    from styleclip_dsl.repl.shell import Shell

    session = ReplSession(models="toon", device="cpu", base_dir=work, out_dir=work)
    sink = Console(file=io.StringIO(), width=100)
    shell = Shell(session, sink, sink, quiet=True)
    lines = repl_lines(n)
    warm_at = max(1, n // 10)
    warm_rss = None
    internal = 0
    t0 = time.perf_counter()
    for i, line in enumerate(lines):
        handled = shell.handle(line)
        outcome = getattr(handled, "result", None) or getattr(handled, "outcome", None)
        if "internal error" in str(getattr(outcome, "message", "") or ""):
            internal += 1
        if i + 1 == warm_at:
            warm_rss = rss_mib()
        if (i + 1) % 100 == 0:  # keep the captured console from growing without bound
            sink.file = io.StringIO()
    return {"lines": n, "seconds": round(time.perf_counter() - t0, 1), "internal_errors": internal,
            "entries_accepted": len(session.entries), "rss_after_warmup_mib": round(warm_rss or 0, 1),
            "rss_end_mib": round(rss_mib(), 1)}


RECIPE = """use toon
seed {k}
generate seed={k} as s
global 'smile' alpha={alpha}
save soak/runs/{{name}}.png
then optimize 'beard' space=s beta=0.15 steps=2
save grid soak/runs/grid.png
"""


def soak_runs(n: int, work: Path, cache_mib: float) -> dict:
    from styleclip_dsl.api import compile_recipe
    from styleclip_runtime.execution.build_executor import open_executor

    executor = open_executor("toon", "cpu")
    cache = executor.models.cache
    cache.max_bytes = int(cache_mib * 2**20)
    warm_at = max(1, n // 10)
    warm_rss = None
    failed = 0
    biggest = 0
    t0 = time.perf_counter()
    for k in range(n):
        text = RECIPE.format(k=k, alpha=1 + (k % 7) * 0.5)
        plan, diagnostics = compile_recipe(text, "soak.sc")
        if plan is None:
            sys.exit("\n".join(str(d) for d in diagnostics))
        try:
            executor.run(json.loads(plan.to_json()), text, work, work)
        except Exception as exc:  # counted and reported: the soak must not stop at the first one
            failed += 1
            print(f"run {k} failed: {exc}", file=sys.stderr)
        biggest = max(biggest, cache.info().total_bytes)
        if k + 1 == warm_at:
            warm_rss = rss_mib()
    info = cache.info()
    return {"runs": n, "seconds": round(time.perf_counter() - t0, 1), "failed": failed,
            "rss_after_warmup_mib": round(warm_rss or 0, 1), "rss_end_mib": round(rss_mib(), 1),
            "cache_cap_mib": cache_mib, "cache_end_mib": round(info.total_bytes / 2**20, 2),
            "cache_max_seen_mib": round(biggest / 2**20, 2), "cache_entries": info.entries,
            "cache_writes": cache.stats.writes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cache-mib", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["STYLECLIP_CACHE"] = str(work / "cache")
        start = rss_mib()
        repl = soak_repl(args.lines, work)
        runs = soak_runs(args.runs, work, args.cache_mib)
    for name, phase in (("REPL", repl), ("runs", runs)):
        growth = phase["rss_end_mib"] - phase["rss_after_warmup_mib"]
        phase["rss_growth_mib"] = round(growth, 1)
        phase["rss_growth_ratio"] = round(growth / phase["rss_after_warmup_mib"], 3)
        print(f"{name}: {json.dumps(phase)}")
    print(f"process: rss at start {start:.0f} MiB, peak {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
