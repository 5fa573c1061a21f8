"""Cold vs warm: the same recipe run twice in fresh processes on one cache.

The first run (empty cache) pays for inversions, directions, mapper training
and optimizations; the second should hit the cache for all of them. The
ratio warm/cold is the figure of merit (a small fraction is the goal).

    python bench/bench_runtime.py [recipes/demo.sc]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(recipe: Path, cache: Path, out: Path) -> tuple[float, dict]:
    env = dict(os.environ, STYLECLIP_CACHE=str(cache))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "styleclip_dsl.cli", "run", str(recipe), "--out", str(out),
                           "--quiet"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"run failed ({proc.returncode}):\n{proc.stderr}")
    manifest = next(out.rglob("run.json"))
    return seconds, json.loads(manifest.read_text())


def main() -> None:
    recipe = Path(sys.argv[1] if len(sys.argv) > 1 else "recipes/demo.sc")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cold, m1 = run_once(recipe, tmp / "cache", tmp / "a")
        warm, m2 = run_once(recipe, tmp / "cache", tmp / "b")
    steps1 = sum(s["seconds"] for s in m1["steps"])
    steps2 = sum(s["seconds"] for s in m2["steps"])
    print(f"recipe {recipe}")
    print(f"{'':28s} {'cold':>9s} {'warm':>9s} {'warm/cold':>10s}")
    print(f"{'process wall time (s)':28s} {cold:9.2f} {warm:9.2f} {warm / cold:10.3f}")
    print(f"{'plan steps only (s)':28s} {steps1:9.2f} {steps2:9.2f} {steps2 / max(steps1, 1e-9):10.3f}")
    print(f"cache: cold {m1['cache']['by_kind']}")
    print(f"       warm {m2['cache']['by_kind']}")


if __name__ == "__main__":
    main()
