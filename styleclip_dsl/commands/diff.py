"""`styleclip diff OLD NEW`: what changes between two recipes, plans or runs.

Each side is a recipe (compiled with the ``--set`` overrides), a plan as
``styleclip plan --json`` prints it, or a run's ``run.json`` (its plan, and
the model files and package versions it ran with). Steps are compared by
content hash and paired by what they are (``styleclip_dsl.plan_diff``).
``--results`` also says which expensive results (inversions, directions,
mappers) the second needs that the first did not, and which of those are
cached already: this one loads the runtime (no network).

Exit codes, as diff(1): 0 the same, 1 different, 2 an input is invalid.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..api import compile_recipe
from ..defaults import DEFAULT_MODELSET
from ..diagnostics import render_diagnostics
from ..exit_codes import ExitCode
from ..plan_diff import STATUS_MEANING, PlanDiff, diff_plans
from .plan import describe_step
from .recipe_input import parse_set_options, read_recipe_or_exit

STATUS_STYLE = {"same": "dim", "changed": "yellow", "upstream": "cyan", "added": "green", "removed": "red"}


class Side:
    """One side of a diff: its plan, where its relative paths resolve, and what it ran with."""

    def __init__(self, name: str, plan: dict[str, Any], base: Path | None, run: dict[str, Any] | None = None):
        self.name, self.plan, self.base, self.run = name, plan, base, run


def load_side(file: str, sets: dict[str, str], err: Console) -> Side:
    """A recipe, a plan JSON or a run.json; exit 2 when it cannot be read or compiled."""
    text, source_name = read_recipe_or_exit(file, err)
    if file.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            err.print(f"[bold]{file}[/]: [bold red]error[/]: not JSON ({exc})")
            raise typer.Exit(ExitCode.INVALID)
        if isinstance(data, dict) and isinstance(data.get("plan"), dict):
            folder = (data.get("recipe") or {}).get("folder")  # where the run read its images (absent before 0.1)
            return Side(file, data["plan"], Path(folder) if folder else None, data)
        if isinstance(data, dict) and isinstance(data.get("steps"), list) and "modelset" in data:
            return Side(file, data, None)
        err.print(f"[bold]{file}[/]: [bold red]error[/]: neither a plan (styleclip plan --json) nor a run.json")
        raise typer.Exit(ExitCode.INVALID)
    plan, diagnostics = compile_recipe(text, source_name, sets)
    render_diagnostics(diagnostics, text, err)
    if plan is None:
        raise typer.Exit(ExitCode.INVALID)
    base = Path.cwd() if file == "-" else Path(file).resolve().parent
    return Side(file, plan.to_dict(), base)


def environment_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """Model files and package versions that differ between two run.json files."""
    if not old or not new:
        return []
    out = []
    for section, label in (("models", "model file"), ("versions", "version of")):
        a, b = old.get(section) or {}, new.get(section) or {}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                show = (lambda v: (v or "absent")[:12]) if section == "models" else (lambda v: v or "absent")
                out.append(f"{label} {key}: {show(a.get(key))} -> {show(b.get(key))}")
    return out


def result_changes(old: Side, new: Side, models: Optional[str]) -> dict[str, Any]:
    """Expensive results the new plan needs: reused from the old one's, new, and cached already."""
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.execution.explain import explain_plan
    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_runtime.execution.build_executor import results_cache_dir

    def needs(side: Side) -> dict[str, Any]:
        ms = ModelSet.load(models or side.plan.get("modelset") or DEFAULT_MODELSET)
        explanation = explain_plan(side.plan, ms, Cache(results_cache_dir(ms)), side.base or Path.cwd())
        return {n.key: n for n in explanation.needs if n.key}

    a, b = needs(old), needs(new)
    fresh = [b[k] for k in b if k not in a]
    return {
        "reused": len([k for k in b if k in a]),
        "new": [{"kind": n.kind, "what": n.what, "cached": n.status == "cached"} for n in fresh],
        "dropped": [{"kind": a[k].kind, "what": a[k].what} for k in a if k not in b],
    }


def print_diff(result: PlanDiff, old: Side, new: Side, console: Console, show_same: bool) -> None:
    console.print(f"[bold]{old.name}[/] -> [bold]{new.name}[/]")
    for line in result.settings:
        console.print(f"  setting: {line}")
    for line in result.extra.get("environment", []):
        console.print(f"  {line}")
    table = Table(title_justify="left")
    for column in ("status", "line", "step", "what changed"):
        table.add_column(column, overflow="fold")
    for change in result.steps:
        if change.status == "same" and not show_same:
            continue
        step = change.new or change.old
        assert step is not None
        lines = "{} -> {}".format(change.old["span"]["line"] if change.old else "-",
                                  change.new["span"]["line"] if change.new else "-")
        style = STATUS_STYLE[change.status]
        table.add_row(f"[{style}]{change.status}[/{style}]", lines, describe_step(step), "; ".join(change.details))
    if table.rows:
        console.print(table)
    console.print("  " + ", ".join(f"{result.count(s)} {s}" for s in STATUS_MEANING if result.count(s))
                  + (" (the same: --all lists them)" if result.count("same") and not show_same else ""))
    results = result.extra.get("results")
    if results:
        cached = sum(1 for n in results["new"] if n["cached"])
        console.print(f"  results: {results['reused']} shared with the first, {len(results['new'])} new "
                      f"({cached} of them cached already), {len(results['dropped'])} no longer needed")
        for n in results["new"]:
            console.print(f"    new {n['kind']}: {n['what']}" + (" (cached)" if n["cached"] else ""))


def diff(
    old: str = typer.Argument(..., help="The first recipe, plan JSON or run.json."),
    new: str = typer.Argument(..., help="The second recipe, plan JSON or run.json."),
    set_: list[str] = typer.Option([], "--set", help="Override a setting of both recipes: seed=N, use=MODELSET, "
                                   "device=D."),
    as_json: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
    show_all: bool = typer.Option(False, "--all", help="List the steps that are the same too."),
    results: bool = typer.Option(False, "--results", help="Also compare the expensive results each needs "
                                 "(inversions, directions, mappers) and say which are cached. Loads the runtime."),
    models: Optional[str] = typer.Option(None, "--models", help="With --results: model set name or YAML path."),
) -> None:
    """Compare two recipes, plans or runs step by step: same, changed (and how), added, removed.

    Exit codes: 0 the same, 1 different, 2 an input is invalid.
    """
    err = Console(stderr=True, highlight=False)
    sets = parse_set_options(set_)
    if old == "-" and new == "-":
        err.print("[bold red]error[/]: only one side can be standard input")
        raise typer.Exit(ExitCode.INVALID)
    a, b = load_side(old, sets, err), load_side(new, sets, err)
    result = diff_plans(a.plan, b.plan)
    env = environment_changes(a.run, b.run)
    if env:
        result.extra["environment"] = env
    if results:
        result.extra["results"] = result_changes(a, b, models)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        print_diff(result, a, b, Console(highlight=False), show_all)
    raise typer.Exit(ExitCode.OK if result.identical and not env else ExitCode.FAILED)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
