"""`styleclip test PATHS...`: run every recipe found, evaluate its expectations, report for CI.

Each recipe runs as `styleclip run` would (same checker, compiler and
executor, through ``run.execute``); golden paths and inputs resolve against
the recipe's folder, outputs against ``--out``. After every recipe one line
says how it went (with each failed expectation as ``file:line: the line:
expected ..., measured ...``); at the end a summary table. ``--junit FILE``
and ``--json FILE`` write machine-readable reports (see ``ci_reports``).

Exit codes (the most severe outcome wins; see ``ci_results``): 0 all passed,
1 an expectation failed, 2 a recipe is invalid or none was found, 3 a
runtime error, 130 interrupted.
"""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from .ci_reports import STATUS_STYLE, failure_text, summary_line, summary_table, write_json, write_junit
from .ci_results import (ERROR, EXIT_NOTHING_FOUND, INVALID, STATUS_FOR_EXIT, RecipeResult, discover, display_path,
                         expectations_from_report, overall_exit)
from .ray_option import RAY_HELP, RayCommand
from .recipe_input import RecipeDecodeError, decode_recipe, parse_set_options
from .run import EXIT_INTERRUPTED, EXIT_RUNTIME, execute


def run_one(path: Path, *, sets: dict[str, str], out: Path, device: str | None, models: str | None,
            no_cache: bool, update_golden: bool, progress: Console | None = None,
            train: bool = False) -> RecipeResult:
    """Run one recipe and collect its outcome; diagnostics and notices go into ``message`` (printed once,
    under the recipe's status line). ``progress``: where the live progress bars go (as `run` shows them)."""
    shown = display_path(path)
    start = time.perf_counter()
    try:
        text = decode_recipe(path.read_bytes(), shown)
    except RecipeDecodeError as exc:  # not UTF-8: an invalid recipe, with the line and column
        return RecipeResult(shown, INVALID, 0.0, [], str(exc.diagnostic))
    except OSError as exc:
        return RecipeResult(shown, ERROR, 0.0, [], f"cannot read recipe {shown}: {exc}")
    err = Console(file=io.StringIO(), record=True, highlight=False, soft_wrap=True)
    swallowed = Console(file=io.StringIO())  # run's own per-recipe table: test prints one summary instead
    try:
        code, report = execute(text, shown, path.resolve().parent, sets=sets, out=out, device=device, models=models,
                               dry_run=False, quiet=True, as_json=False, no_cache=no_cache,
                               update_golden=update_golden, console=swallowed, err=err, recipe_path=path,
                               progress_console=progress, train=train)
    except KeyboardInterrupt:
        code, report = EXIT_INTERRUPTED, None
    except Exception as exc:  # one broken recipe must not hide the others' results
        err.print(f"[bold red]error[/]: {exc.__class__.__name__}: {exc}")
        code, report = EXIT_RUNTIME, None
    seconds = time.perf_counter() - start
    if code == EXIT_INTERRUPTED:
        raise KeyboardInterrupt
    status = STATUS_FOR_EXIT.get(code, ERROR)
    expectations = expectations_from_report(report, text) if report is not None else []
    return RecipeResult(shown, status, seconds, expectations, err.export_text().strip())


def print_result(console: Console, r: RecipeResult, err: Console | None = None) -> None:
    """The recipe's status line, then (on ``err``) its diagnostics and notices: each printed once."""
    style = STATUS_STYLE[r.status]
    held = sum(e.passed for e in r.expectations)
    if r.status in (ERROR, INVALID):
        lines = [ln.strip() for ln in r.message.splitlines() if ln.strip()]
        first = next((ln for ln in lines if ": error: " in ln or ln.startswith("error:")), lines[0] if lines else "")
        # with ``err`` the whole message follows, so the error is not repeated on the status line
        said = "" if err is not None and r.message else f": {escape(first)}"
        console.print(f"[{style}]{r.status.upper():7}[/{style}] {escape(r.path)} ({r.seconds:.1f}s){said}",
                      highlight=False)
    else:
        what = f"{held}/{len(r.expectations)} expectations" if r.expectations else "no expectations"
        console.print(f"[{style}]{r.status.upper():7}[/{style}] {escape(r.path)} ({what}, {r.seconds:.1f}s)",
                      highlight=False)
        for e in r.failed_expectations:
            console.print(f"  {escape(failure_text(r.path, e))}", highlight=False)
    if err is not None and r.message:
        err.print(r.message, markup=False, highlight=False)


def test(
    paths: list[Path] = typer.Argument(..., help="Recipe files or folders (searched recursively for *.sc)."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Write a JUnit XML report to this file."),
    json_file: Optional[Path] = typer.Option(None, "--json", help="Write a JSON report to this file."),
    update_golden: bool = typer.Option(False, "--update-golden",
                                       help="Write each golden('...') image from this run's result (deliberately)."),
    set_: list[str] = typer.Option([], "--set", help="Override a setting in every recipe: seed=N, use=MODELSET, device=D."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder that relative output paths resolve against."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 (default: cuda if present)."),
    models: Optional[str] = typer.Option(None, "--models", help="Model set name or YAML path (overrides `use`)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the result cache."),
    train: bool = typer.Option(False, "--train", help="Start mapper trainings the recipes need (without it, "
                                                       "a recipe that would train for long is an error)."),
    ray: Optional[str] = typer.Option(None, "--ray", metavar="[ADDRESS]",
                                      help="Run the recipes in parallel as Ray tasks (pip extra \\[cluster]), "
                                           "one report (docs/cluster.md). " + RAY_HELP + "."),
) -> None:
    """Run recipes as tests: evaluate every `expect`, print a summary, write JUnit/JSON reports.

    Exit codes: 0 all passed, 1 an expectation failed, 2 a recipe is invalid (or none found),
    3 a runtime error; with several recipes the most severe wins.
    """
    console = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    sets = parse_set_options(set_)
    recipes, problems = discover(paths)
    for problem in problems:
        err.print(f"[bold red]error[/]: {problem}")
    if problems or not recipes:
        raise typer.Exit(EXIT_NOTHING_FOUND)
    if update_golden:
        err.print("[yellow]--update-golden[/]: golden images are rewritten from this run's results")
    results: list[RecipeResult] = []
    if ray is not None:
        from .run import _ray_installed

        if not _ray_installed(err):
            raise typer.Exit(EXIT_NOTHING_FOUND)
        results = run_on_ray(recipes, ray, console, err, sets=sets, out=out, device=device, models=models,
                             no_cache=no_cache, update_golden=update_golden, train=train)
        recipes = []
    try:
        for path in recipes:
            result = run_one(path, sets=sets, out=out, device=device, models=models, no_cache=no_cache,
                             update_golden=update_golden, progress=err, train=train)
            results.append(result)
            print_result(console, result, err)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: reports cover the recipes that finished")
        _write_reports(results, junit, json_file)
        raise typer.Exit(EXIT_INTERRUPTED)
    console.print(summary_table(results))
    console.print(summary_line(results))
    _write_reports(results, junit, json_file)
    raise typer.Exit(overall_exit(results))


def run_on_ray(recipes: list[Path], address: str, console: Console, err: Console, **options) -> list[RecipeResult]:
    """Every recipe as one Ray task (``run_one`` in a worker process, which loads its models as a
    local `styleclip test` does per recipe), as many at once as the cluster has CPUs; each status
    line is printed as its recipe finishes, the results are kept in the recipes' order."""
    import os

    import ray

    from styleclip_runtime.cluster.driver import ClusterOptions, connect
    from styleclip_runtime.cluster.worker import FORWARDED_ENV

    started = connect(ClusterOptions(address=address))
    env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
    task = ray.remote(_run_one_in_worker).options(max_retries=3)
    try:
        refs = {task.remote(p.resolve(), Path.cwd(), env, options): i for i, p in enumerate(recipes)}
        results: list[RecipeResult | None] = [None] * len(recipes)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            result = ray.get(ready[0])
            results[refs[ready[0]]] = result
            print_result(console, result, err)
    finally:
        if started:
            ray.shutdown()
    return [r for r in results if r is not None]


def _run_one_in_worker(path: Path, cwd: Path, env: dict[str, str], options: dict) -> RecipeResult:
    """A Ray task: ``run_one`` with the driver's folder (paths are shown and resolved as there) and
    cache variables."""
    import os

    os.environ.update(env)
    os.chdir(cwd)
    return run_one(path, **options)


def _write_reports(results: list[RecipeResult], junit: Path | None, json_file: Path | None) -> None:
    if junit is not None:
        write_junit(results, junit)
    if json_file is not None:
        write_json(results, json_file)


def register(app: typer.Typer) -> None:
    app.command("test", cls=RayCommand)(test)  # a bare --ray is --ray local
