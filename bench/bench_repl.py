"""The REPL's point, measured: one more line in a warm session vs re-running the recipe.

Baseline (what a notebook or a script does): `styleclip run` of the whole
recipe in a fresh process, warm disk cache. REPL: the same last line
submitted to a ReplSession that already ran the lines before it. Both on the
toy model set (tests/runtime/tiny_modelset.py), in the same run; the figure
of merit is the ratio REPL/baseline. Also: how long a cooperative stop takes
(Ctrl-C's first press) while a long optimisation runs.

    python bench/bench_repl.py
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LINES = [
    "generate seeds=1..4 as faces",
    "global 'smile' alpha=3",
    "then optimize 'happy' steps=10",
    "save out/{name}_a.png",
    "global 'smile' alpha=0..6 count 4",
    "save grid out/grid.png",
]
LAST = "then global 'curly hair' alpha=2; save out/{name}_{alpha}_b.png"


def main() -> None:
    from tests.runtime.tiny_modelset import write_tiny_modelset

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["STYLECLIP_CACHE"] = str(work / "cache")
        models = write_tiny_modelset(work / "models")
        recipe = work / "r.recipe"
        recipe.write_text("\n".join(LINES + [LAST]) + "\n")

        def full_run(out: str) -> float:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "styleclip_dsl.cli", "run", str(recipe), "--models",
                                   str(models), "-o", str(work / out), "-q"], capture_output=True, text=True,
                                  env=dict(os.environ))
            if proc.returncode != 0:
                sys.exit(proc.stderr)
            return time.perf_counter() - t0

        full_run("cold")  # fills the disk cache: both sides below start warm on disk
        baseline = full_run("warm")

        from styleclip_dsl.repl.session import ReplSession

        session = ReplSession(models=str(models), base_dir=work, out_dir=work / "repl")
        for line in LINES:
            assert session.submit(line).status == "ok", line
        t0 = time.perf_counter()
        assert session.submit(LAST).status == "ok"
        repl_line = time.perf_counter() - t0

        stop_at: list[float] = []

        def press() -> None:
            time.sleep(1.0)
            stop_at.append(time.perf_counter())
            session.request_stop()

        threading.Thread(target=press, daemon=True).start()
        outcome = session.submit("then optimize 'x' steps=100000")
        stop_latency = time.perf_counter() - stop_at[0]

    print(f"baseline: styleclip run of the {len(LINES) + 1}-line recipe (fresh process, warm cache): {baseline:.2f}s")
    print(f"REPL: the last line in a warm session: {repl_line:.3f}s")
    print(f"ratio REPL/baseline: {repl_line / baseline:.4f}")
    print(f"cooperative stop of a long optimisation: {outcome.status} {stop_latency * 1000:.0f} ms after the request")


if __name__ == "__main__":
    main()
