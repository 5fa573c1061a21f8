"""Time to check (and compile) a 10,000-statement recipe, against the raw lark parse.

    python bench/bench_check.py [--statements N] [--repeat R]

Baseline: lark's LALR parser on the same grammar and text, building a plain
parse tree (no AST, no checks). Reported: best of R runs for each stage and
its ratio to that baseline, plus the startup time of `styleclip check` next
to a bare `python -c pass`. Target: check of 10,000 statements under 1 s.

Error recovery (issue #20 item 7): `check` of error-laden recipes of about
38 KB and 380 KB (one broken statement every ERROR_EVERY lines, so 2 and 21
errors), and the ratio of the two times: about 10 when checking is linear in
the input. Next to it, in the same run, the recovery the parser used before
(blank the broken statement, parse the whole text again), whose ratio grows
with the square of the size.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from styleclip_dsl.api import check, compile_recipe
from styleclip_dsl.grammar_loader import make_parser
from styleclip_dsl.parser import _parse_by_blanking, parse_recipe

LINES = [
    "invert photos/ada.png as ada{i}",
    "apply 'curly hair' via global alpha=4 beta=0.15",
    "then mapper 'smile'",
    "save out/{{name}}_{{step}}_{i}.png",
    "global 'purple hair' neutral='a face with hair' alpha=-2..6 step 2",
    "save grid out/sheet{i}.png",
    "optimize 'glasses' steps=50 l2=0.008 id=0.005",
    "expect clip('glasses') > 0.2",
    "on ada{i}",
    "export latent out/{{name}}_{i}.pt  # a comment",
]


ERROR_EVERY = 500
BROKEN = "apply 'curly hair' via"  # a statement that ends too early


def make_recipe(statements: int) -> str:
    return "".join(LINES[n % len(LINES)].format(i=n // len(LINES)) + "\n" for n in range(statements))


def make_broken_recipe(statements: int, every: int = ERROR_EVERY) -> str:
    """``make_recipe`` with one statement in ``every`` replaced by a syntax error."""
    lines = make_recipe(statements).splitlines()
    for n in range(every - 1, len(lines), every):
        lines[n] = BROKEN
    return "\n".join(lines) + "\n"


def error_recovery(repeat: int) -> None:
    """check() of ~38 KB and ~380 KB error-laden recipes; the ratio is ~10 when checking is linear."""
    small, large = make_broken_recipe(1_070), make_broken_recipe(10_700)  # ~38 KB and ~380 KB
    for text in (small, large):
        _, diagnostics = check(text, "broken.sc")
        assert sum(d.code.startswith("E-syntax") for d in diagnostics) == len(text.splitlines()) // ERROR_EVERY
    print(f"error recovery: {len(small) // 1000} KB ({len(small.splitlines()) // ERROR_EVERY} errors) "
          f"vs {len(large) // 1000} KB ({len(large.splitlines()) // ERROR_EVERY} errors), best of {repeat}")
    rows = [
        ("parse (resume after each error)", lambda t: parse_recipe(t, "broken.sc")),
        ("check (parse + checks)", lambda t: check(t, "broken.sc")),
        ("parse, re-parsing the blanked text", lambda t: _parse_by_blanking(t, "broken.sc")),
    ]
    for name, fn in rows:
        t_small = best_of(repeat, lambda: fn(small))
        t_large = best_of(repeat, lambda: fn(large))
        print(f"  {name:36s} {t_small * 1000:8.1f} ms {t_large * 1000:9.1f} ms   x{t_large / t_small:6.1f}")
    print("  (x10 is linear: the large text is 10 times the small one)")


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def startup(args: list[str]) -> float:
    return best_of(3, lambda: subprocess.run(args, check=False, capture_output=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()

    text = make_recipe(options.statements)
    recipe, diagnostics = check(text, "bench.sc")
    assert recipe is not None and not diagnostics, diagnostics[:3]
    lark_tree = make_parser()

    baseline = best_of(options.repeat, lambda: lark_tree.parse(text))
    rows = [
        ("lark parse to tree (baseline)", baseline),
        ("parse to AST", best_of(options.repeat, lambda: parse_recipe(text, "bench.sc"))),
        ("check (parse + checks)", best_of(options.repeat, lambda: check(text, "bench.sc"))),
        ("compile (check + plan + hashes)", best_of(options.repeat, lambda: compile_recipe(text, "bench.sc"))),
    ]
    print(f"{options.statements} statements, {len(text)} bytes, best of {options.repeat}")
    for name, seconds in rows:
        print(f"  {name:34s} {seconds * 1000:8.1f} ms   x{seconds / baseline:5.2f}")
    print(f"  check target (< 1 s): {'met' if rows[2][1] < 1.0 else 'NOT met'}")

    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "demo.sc"
        small.write_text(make_recipe(10))
        bare = startup([sys.executable, "-c", "pass"])
        cli = startup([sys.executable, "-m", "styleclip_dsl.cli", "check", str(small)])
    print(f"startup: python -c pass {bare * 1000:.0f} ms, styleclip check (10 lines) {cli * 1000:.0f} ms "
          f"(x{cli / bare:.1f})")
    error_recovery(options.repeat)


if __name__ == "__main__":
    main()
