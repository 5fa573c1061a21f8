"""`styleclip plan FILE [--json] [--set k=v]`: compile a recipe and show its plan."""
from __future__ import annotations

import sys
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from ..api import compile_recipe
from ..diagnostics import render_diagnostics
from .recipe_input import parse_set_options, read_recipe_or_exit


def describe_step(step: dict[str, Any]) -> str:
    """One line saying what a step (as plan JSON) does."""
    kind = step["kind"]
    if kind == "source":
        params = step["params"]
        if step["op"] == "invert":
            what = " ".join(params["paths"])
        elif step["op"] == "generate":
            what = f"seeds {params['seeds']} truncation {params['truncation']}"
        else:
            what = params["path"]
        return f"{step['op']} {what} as {step['subject']}"
    if kind == "edit":
        parts = []
        for entry in step["edits"]:
            params = " ".join(f"{k}={v}" for k, v in entry["params"].items())
            parts.append(f"{entry['text']!r} {params}")
        text = f"{step['engine']} " + " + ".join(parts)
        if step.get("sweep"):
            text += f"  sweep {step['sweep']['param']} over {step['sweep']['values']}"
        return text
    if kind == "save":
        return f"{step['mode']} {step['path']}"
    if kind == "export":
        return f"latent {step['path']}"
    args = [repr(a) for a in step["args"]] + [f"{k}={v}" for k, v in step["kwargs"].items()]
    return f"{step['metric']}({', '.join(args)}) {step['op']} {step['value']!r}"


def print_plan_summary(plan: dict[str, Any], console: Console) -> None:
    """A table of the plan's steps (plan as JSON data, as ``Plan.to_dict()`` gives it)."""
    table = Table(
        title=f"plan for {plan['source_name']}: model set {plan['modelset']}, seed {plan['seed']}"
        + (f", device {plan['device']}" if plan.get("device") else ""),
        title_justify="left",
    )
    for column in ("step", "line", "kind", "what", "input", "hash"):
        table.add_column(column, overflow="fold")
    for step in plan["steps"]:
        table.add_row(
            step["id"], str(step["span"]["line"]), step["kind"], describe_step(step),
            step.get("input") or "", step["hash"][:12],
        )
    console.print(table)


def plan(
    file: str = typer.Argument(..., help="Recipe file, or - for standard input."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON (the runtime's input)."),
    set_: list[str] = typer.Option([], "--set", help="Override a setting: seed=N, use=MODELSET, device=D."),
) -> None:
    """Check and compile a recipe; show the steps the runtime would run. Exit 2 on errors."""
    err = Console(stderr=True, highlight=False)
    text, source_name = read_recipe_or_exit(file, err)
    compiled, diagnostics = compile_recipe(text, source_name, parse_set_options(set_))
    render_diagnostics(diagnostics, text, err)
    if compiled is None:
        raise typer.Exit(2)
    if as_json:
        sys.stdout.write(compiled.to_json(indent=2) + "\n")
    else:
        print_plan_summary(compiled.to_dict(), Console(highlight=False))


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
