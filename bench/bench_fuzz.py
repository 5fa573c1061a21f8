"""Tried / bad figures for docs/reliability.md (issue #20 items 1 and 2): fuzzed recipes through
the front end, and garbage lines through the REPL's shell.

    python bench/bench_fuzz.py [--examples N] [--lines N] [--seed S]

Recipes come from the strategies of tests/dsl/test_fuzz.py (grammar-aware and byte-mutated);
each goes the way `styleclip plan -` takes standard input: bytes decoded (strictly as UTF-8
where styleclip_dsl.commands.recipe_input exists, else with the locale's surrogateescape, as
before), checked, compiled, its diagnostics rendered to a UTF-8 terminal, and the `fmt` round
trip. A case is bad when any step raises. REPL lines (tests/dsl/repl/test_robustness.py's
strategy) go through Shell.handle on the fake executor one session at a time; a line is bad
when handle raises (which ends a real session). Runs on an older checkout too (put it first on
PYTHONPATH), so the figures before and after a change come from the same generator.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from rich.console import Console

sys.path.append(str(Path(__file__).resolve().parents[1]))  # after PYTHONPATH: an older styleclip_dsl may come first

from styleclip_dsl.api import check, compile_recipe, format_recipe, parse  # noqa: E402
from styleclip_dsl.diagnostics import render_diagnostics  # noqa: E402
from tests.dsl.test_fuzz import grammar_recipes, mutated_recipes  # noqa: E402

try:
    from styleclip_dsl.commands.recipe_input import RecipeDecodeError, decode_recipe
except ImportError:  # an older checkout: standard input decoded as Python does in a UTF-8 locale
    RecipeDecodeError = None  # type: ignore[assignment,misc]
    decode_recipe = None  # type: ignore[assignment]


def front_end(data: bytes) -> None:
    """What `plan -` does with ``data``; raises when the front end would print a traceback."""
    terminal = Console(file=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), width=100)
    if decode_recipe is not None:
        try:
            text = decode_recipe(data, "<stdin>")
        except RecipeDecodeError as exc:  # type: ignore[misc]
            render_diagnostics([exc.diagnostic], "", terminal)
            terminal.file.flush()
            return
    else:
        text = data.decode("utf-8", "surrogateescape")
    _, diagnostics = compile_recipe(text, "<stdin>")
    check(text, "<stdin>")
    render_diagnostics(diagnostics, text, terminal)
    terminal.file.flush()
    recipe, syntax = parse(text, "<stdin>")
    if recipe is not None and not syntax:
        again, problems = parse(format_recipe(recipe), "<stdin>")
        if problems or again != recipe:
            raise ValueError("fmt wrote a recipe that does not parse to the same one")


def count_recipes(strategy, examples: int, random_seed: int) -> tuple[int, Counter]:
    tried, bad = 0, Counter()

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(data: bytes) -> None:
        nonlocal tried
        tried += 1
        try:
            front_end(data)
        except Exception as exc:  # counted, not raised: the run goes on
            bad[type(exc).__name__] += 1

    seed(random_seed)(run)()
    return tried, bad


def count_repl_lines(lines: int, random_seed: int) -> tuple[int, Counter]:
    from styleclip_dsl.repl.session import ReplSession
    from styleclip_dsl.repl.shell import Shell
    from tests.dsl.repl.fakes import FakeFactory
    from tests.dsl.repl.test_robustness import lines as line_strategy

    tried, bad = 0, Counter()

    @settings(max_examples=max(lines // 5, 1), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(line_strategy, min_size=5, max_size=5))
    def run(batch: list[str]) -> None:
        nonlocal tried
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            console = Console(file=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), width=100)
            session = ReplSession(FakeFactory(), base_dir=folder, out_dir=folder, preview_dir=folder / "p")
            shell = Shell(session, console, protocol="none")
            shell.handle("generate seed=1 as a")
            for line in batch:
                tried += 1
                try:
                    shell.handle(line)
                    console.file.flush()
                except Exception as exc:
                    bad[type(exc).__name__] += 1

    seed(random_seed)(run)()
    return tried, bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2_000, help="recipes per generator")
    parser.add_argument("--lines", type=int, default=1_500, help="REPL lines")
    parser.add_argument("--seed", type=int, default=20)
    options = parser.parse_args()
    for name, strategy in (("grammar-aware recipes", grammar_recipes()),
                           ("byte-mutated recipes", mutated_recipes())):
        start = time.perf_counter()
        tried, bad = count_recipes(strategy, options.examples, options.seed)
        print(f"{name:24s} tried {tried:7d}  bad {sum(bad.values()):6d}  {dict(bad)}  "
              f"({time.perf_counter() - start:.0f} s)")
    start = time.perf_counter()
    tried, bad = count_repl_lines(options.lines, options.seed)
    print(f"{'REPL lines':24s} tried {tried:7d}  bad {sum(bad.values()):6d}  {dict(bad)}  "
          f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
