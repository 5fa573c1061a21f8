"""Cold, warm and fully cached runs of one recipe, in fresh processes on one cache (#21 item 2).

- cold: an empty cache; it pays for inversions, directions, mapper training, optimizations.
- warm (computed): every inversion, direction and mapper is cached, but the run renders its images, so
  it imports torch and loads the generator. Measured on the recipe's text plus a comment (the output
  cache's key covers the recipe text, which the PNGs carry), read from stdin in the recipe's folder.
- cached (served): the same recipe again: every output is in the output cache
  (runtime/cache/output_cache.py); no torch. Target: <= 1.0 s wall.
- `styleclip check` and `styleclip plan` of the recipe (target: < 0.3 s), and two baselines measured in
  the same run: `python -c pass` and `python -c "import torch"`.

The warm, cached, check, plan and baseline runs are interleaved, `--repeat` rounds; medians reported,
with ratios to the warm computed run.

    python bench/bench_runtime.py [recipes/demo.sc] [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "styleclip_dsl.cli"]


def timed(cmd: list[str], env: dict, cwd: Path | None = None, stdin: str | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, input=stdin, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return seconds


def manifest(out: Path) -> dict:
    return json.loads(next(out.rglob("run.json")).read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recipe", nargs="?", default="recipes/demo.sc")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    recipe = Path(args.recipe).resolve()
    text = recipe.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "STYLECLIP_RESULTS_CACHE"}
        env["STYLECLIP_CACHE"] = str(tmp / "cache")
        run = [*CLI, "run", str(recipe), "--quiet", "--out"]
        cold = timed(run + [str(tmp / "cold")], env)
        cold_steps = sum(s["seconds"] for s in manifest(tmp / "cold")["steps"])
        cases = {
            "cached (served)": lambda i: timed(run + [str(tmp / f"served{i}")], env),
            "warm (computed)": lambda i: timed([*CLI, "run", "-", "--quiet", "--out", str(tmp / f"warm{i}")], env,
                                               cwd=recipe.parent, stdin=text + f"# variant {i}\n"),
            "styleclip check": lambda i: timed([*CLI, "check", str(recipe)], env),
            "styleclip plan": lambda i: timed([*CLI, "plan", str(recipe)], env),
            "python -c pass": lambda i: timed([sys.executable, "-c", "pass"], env),
            "python -c 'import torch'": lambda i: timed([sys.executable, "-c", "import torch"], env),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for i in range(args.repeat):
            for name, case in cases.items():
                times[name].append(case(i))
        served = manifest(tmp / "served0")
        warm = manifest(tmp / "warm0")
    assert {s.get("cache") for s in served["steps"]} == {"outputs"}, "the cached run was not served"
    med = {name: statistics.median(v) for name, v in times.items()}
    base = med["warm (computed)"]
    print(f"recipe {recipe.name}; {args.repeat} interleaved rounds, medians; cold run once: {cold:.2f} s "
          f"({cold_steps:.2f} s in steps)")
    print(f"| {'case':28s} | {'wall s':>7s} | {'vs warm computed':>16s} |")
    print(f"| {'-' * 28} | {'-' * 7} | {'-' * 16} |")
    for name, m in med.items():
        print(f"| {name:28s} | {m:7.3f} | {m / base:16.3f} |")
    print(f"warm computed: {sum(s['seconds'] for s in warm['steps']):.2f} s in steps, cache {warm['cache']['by_kind']}")


if __name__ == "__main__":
    main()
