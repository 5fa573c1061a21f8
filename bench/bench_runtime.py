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
with ratios to the warm computed run, and each case's CPU time (user + sys of the child process),
which a loaded machine inflates less than the wall time. ``--cli-only``: only check, plan and
``python -c pass`` (ratios to it), the start-up target, without the runs.

    python bench/bench_runtime.py [recipes/demo.sc] [--repeat 5] [--cli-only]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "styleclip_dsl.cli"]


CPU: dict[str, list[float]] = {}  # case -> CPU seconds of each round (owner: main)


def timed(cmd: list[str], env: dict, cwd: Path | None = None, stdin: str | None = None,
          case: str | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, input=stdin, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    if case is not None:
        CPU.setdefault(case, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return seconds


def manifest(out: Path) -> dict:
    return json.loads(next(out.rglob("run.json")).read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recipe", nargs="?", default="recipes/demo.sc")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cli-only", action="store_true", help="only check, plan and python -c pass")
    args = ap.parse_args()
    recipe = Path(args.recipe).resolve()
    text = recipe.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "STYLECLIP_RESULTS_CACHE"}
        env["STYLECLIP_CACHE"] = str(tmp / "cache")
        if args.cli_only:
            cli_only(recipe, env, args.repeat)
            return
        run = [*CLI, "run", str(recipe), "--quiet", "--out"]
        cold = timed(run + [str(tmp / "cold")], env)
        cold_steps = sum(s["seconds"] for s in manifest(tmp / "cold")["steps"])
        cases = {
            "cached (served)": lambda i: timed(run + [str(tmp / f"served{i}")], env),
            "warm (computed)": lambda i: timed([*CLI, "run", "-", "--quiet", "--out", str(tmp / f"warm{i}")], env,
                                               cwd=recipe.parent, stdin=text + f"# variant {i}\n"),
            "styleclip check": lambda i: timed([*CLI, "check", str(recipe)], env, case="styleclip check"),
            "styleclip plan": lambda i: timed([*CLI, "plan", str(recipe)], env, case="styleclip plan"),
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
        cpu = f" (CPU {statistics.median(CPU[name]):.3f} s)" if name in CPU else ""
        print(f"| {name:28s} | {m:7.3f} | {m / base:16.3f} |{cpu}")
    print(f"warm computed: {sum(s['seconds'] for s in warm['steps']):.2f} s in steps, cache {warm['cache']['by_kind']}")


def cli_only(recipe: Path, env: dict, repeat: int) -> None:
    """check, plan and the interpreter's own start-up, interleaved; the first check stores the
    parser's tables in the fresh cache (styleclip_dsl/parser_table.py) and is not counted."""
    timed([*CLI, "check", str(recipe)], env)
    cases = {"styleclip check": [*CLI, "check", str(recipe)], "styleclip plan": [*CLI, "plan", str(recipe)],
             "python -c pass": [sys.executable, "-c", "pass"]}
    walls: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, cmd in cases.items():
            walls[name].append(timed(cmd, env, case=name))
    base = statistics.median(walls["python -c pass"])
    print(f"recipe {recipe.name}; {repeat} interleaved rounds, medians")
    print(f"| {'case':16s} | {'wall s':>7s} | {'CPU s':>6s} | {'wall vs python -c pass':>22s} |")
    print(f"| {'-' * 16} | {'-' * 7} | {'-' * 6} | {'-' * 22} |")
    for name in cases:
        wall = statistics.median(walls[name])
        print(f"| {name:16s} | {wall:7.3f} | {statistics.median(CPU[name]):6.3f} | {wall / base:22.2f} |")


if __name__ == "__main__":
    main()
