"""`styleclip plan FILE [--json] [--set k=v] [--explain]`: compile a recipe and show its plan.

With ``--explain`` it says instead what each step will cost: which expensive
results (inversions, statistics, directions, mappers) are shipped, cached or
to compute, with rough times and, for what back-propagates through the
generator, device memory (``styleclip_runtime.execution.explain``). Exit codes: 0,
2 the recipe is invalid, 3 (``--explain``) the run would fail: a model file
or an input image is missing, a mapper cannot be had, or not even one image
fits the ``--memory`` budget.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import typer
from rich.console import Console
from rich.table import Table

from ..api import compile_recipe
from ..default_origins import default_origin_lines
from ..defaults import DEFAULT_MODELSET
from ..diagnostics import render_diagnostics
from ..exit_codes import ExitCode
from ..file_checks import file_diagnostics
from ..model_names import ModelNames
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


def print_plan_summary(plan: dict[str, Any], console: Console, defaults: Sequence[str] = ()) -> None:
    """A table of the plan's steps (plan as JSON data, as ``Plan.to_dict()`` gives it), then where the
    parameters the recipe leaves out come from (``defaults``: ``default_origin_lines``)."""
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
    if defaults:
        console.print("parameters the recipe leaves out:")
        for line in defaults:
            console.print(f"  {line}")


STATUS_STYLE = {"shipped": "green", "cached": "green", "compute": "yellow", "train": "yellow",
                "on-input": "cyan", "missing": "red"}


def print_explanation(explanation, plan: dict[str, Any], console: Console) -> None:
    """The per-step table of ``--explain`` and its summary (``explanation``: a runtime ``Explanation``)."""
    from styleclip_runtime.execution.explain import STATUS_MEANING, format_duration
    from styleclip_runtime.execution.memory_estimate import format_bytes

    by_id = {s["id"]: s for s in plan["steps"]}
    table = Table(title=f"cost of {plan['source_name']}: model set {explanation.modelset}, estimates for "
                        f"{explanation.device}", title_justify="left")
    for column in ("step", "line", "what", "images", "needs", "status", "estimate", "memory"):
        table.add_column(column, overflow="fold")
    for cost in explanation.steps:
        rows = list(cost.needs) or [None]
        for i, need in enumerate(rows):
            head = (cost.step_id, str(cost.line), describe_step(by_id[cost.step_id]), str(cost.items)) if i == 0 \
                else ("", "", "", "")
            if need is None:
                table.add_row(*head, "", "", "", "")
                continue
            style = STATUS_STYLE.get(need.status, "")
            estimate = format_duration(need.seconds) if need.seconds is not None else ""
            memory = f"{format_bytes(need.memory.total)} (batch {need.memory.batch})" \
                if need.memory is not None and need.status != "cached" else ""
            table.add_row(*head, f"{need.kind}: {need.what}", f"[{style}]{need.status}[/{style}]", estimate, memory)
    console.print(table)
    counts = explanation.counts()
    used = [s for s in STATUS_MEANING if s in counts]
    for status in used:
        console.print(f"  {status:>8}  {counts[status]:>3}  {STATUS_MEANING[status]}")
    total = explanation.estimated_seconds()
    unknown = [n for n in explanation.needs if n.status in ("compute", "train", "on-input") and n.seconds is None]
    if total is not None:
        more = f" plus {len(unknown)} result(s) without an estimate" if unknown else ""
        console.print(f"estimated time of what is not cached: about {format_duration(total)}{more} "
                      f"({explanation.estimates_basis or 'the model set estimates'})")
    elif unknown:
        console.print(f"{len(unknown)} result(s) to compute; model set '{explanation.modelset}' gives no time "
                      f"estimates for {explanation.device}")
    else:
        console.print("everything this plan needs is shipped or cached")
    largest = explanation.largest_memory()
    if largest is not None:
        m = largest.memory
        unknown = f"; not counted: {', '.join(m.unknown)} (size unknown)" if m.unknown else ""
        console.print(f"largest device-memory need: about {format_bytes(m.total)} ({largest.kind} {largest.what}: "
                      f"{format_bytes(m.per_image)} of generator activations per image x batch {m.batch} + "
                      f"{format_bytes(m.weights)} of weights{unknown})")


def device_memory_budget(kind: str, memory_gb: Optional[float]) -> Optional[int]:
    """Bytes of device memory to check the plan against: ``--memory`` when given, else the
    first CUDA device's total when planning for CUDA on a machine that has one, else none."""
    import torch

    if memory_gb is not None:
        return int(memory_gb * 1e9)
    if kind == "cuda" and torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(0).total_memory)
    return None


def explain(plan_dict: dict[str, Any], base: Path, models: Optional[str], device: Optional[str],
            as_json: bool, err: Console, text: str = "", memory_gb: Optional[float] = None) -> int:
    """Print the cost of a compiled plan; returns the exit code (3 when the run would fail)."""
    import torch
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.execution.explain import explain_plan
    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_runtime.modelsets.registry import ModelSetError
    from styleclip_runtime.execution.build_executor import pick_device, results_cache_dir

    requested = device or plan_dict.get("device")
    try:
        modelset = ModelSet.load(models or plan_dict.get("modelset") or DEFAULT_MODELSET)
        # a named device need not be here: one may plan a GPU run on a laptop
        kind = pick_device(None).type if requested in (None, "", "auto") else torch.device(requested).type
    except (ModelSetError, RuntimeError) as exc:
        err.print(f"[bold red]error[/]: {exc}")
        return ExitCode.RUNTIME
    explanation = explain_plan(plan_dict, modelset, Cache(results_cache_dir(modelset)), base, kind)
    if as_json:
        sys.stdout.write(json.dumps(explanation.to_dict(), indent=2) + "\n")
    else:
        print_explanation(explanation, plan_dict, Console(highlight=False))
    for problem in explanation.missing_files:
        err.print(f"[bold red]error[/]: {problem}")
    spans = {s["id"]: s["span"] for s in plan_dict["steps"]}
    memory = explanation.memory_problems(device_memory_budget(kind, memory_gb))
    render_diagnostics([_problem_diagnostic(problem, spans[cost.step_id], plan_dict["source_name"])
                        for cost in explanation.steps for problem in cost.problems]
                       + [_problem_diagnostic(message, spans[step_id], plan_dict["source_name"],
                                              "error" if fatal else "warning")
                          for step_id, message, fatal in memory], text, err)
    return ExitCode.RUNTIME if explanation.problems or any(fatal for _, _, fatal in memory) else ExitCode.OK


def _problem_diagnostic(message: str, span: dict[str, int], source_name: str, severity: str = "error"):
    from ..diagnostics import Diagnostic
    from ..spans import Span

    return Diagnostic(message=message, hint=None, span=Span.from_dict(span), source_name=source_name,
                      severity=severity, code="E-explain" if severity == "error" else "W-memory")


def plan(
    file: str = typer.Argument(..., help="Recipe file, or - for standard input."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan (or, with --explain, the costs) as JSON."),
    set_: list[str] = typer.Option([], "--set", help="Override a setting: seed=N, use=MODELSET, device=D."),
    explain_costs: bool = typer.Option(False, "--explain", help="Show what each step costs instead: which "
                                       "results are shipped, cached or to compute, with rough times. Loads no "
                                       "network."),
    models: Optional[str] = typer.Option(None, "--models", help="With --explain: model set name or YAML path "
                                         "(overrides `use`)."),
    device: Optional[str] = typer.Option(None, "--device", help="With --explain: the device whose estimates to use "
                                         "(default: cuda if present)."),
    memory: Optional[float] = typer.Option(None, "--memory", min=1e-6, help="With --explain: device memory in GB "
                                           "to check optimization and mapper training against (default: the "
                                           "CUDA device's, when planning for one here)."),
) -> None:
    """Check and compile a recipe; show the steps the runtime would run.

    Exit codes: 0 ok, 2 invalid recipe, 3 (--explain) the run would fail.
    """
    err = Console(stderr=True, highlight=False)
    text, source_name = read_recipe_or_exit(file, err)
    sets = parse_set_options(set_)
    model_file = models if models and (models.endswith((".yaml", ".yml")) or "/" in models) else None
    if models and model_file is None:
        sets = {**sets, "use": models}
    base = Path.cwd() if file == "-" else Path(file).resolve().parent
    # the diagnostics `check` and `run` show (model-name hints, W-no-output, golden links), on stderr, once
    compiled, diagnostics = compile_recipe(text, source_name, sets, names=ModelNames.discover(forced=model_file))
    diagnostics = file_diagnostics(text, source_name, diagnostics, base)
    render_diagnostics(diagnostics, text, err)
    if compiled is None or any(d.is_error for d in diagnostics):
        raise typer.Exit(ExitCode.INVALID)
    if explain_costs:
        plan_dict = compiled.to_dict()
        raise typer.Exit(explain(plan_dict, base, models, device, as_json, err, text, memory))
    if as_json:
        sys.stdout.write(compiled.to_json(indent=2) + "\n")
    else:
        print_plan_summary(compiled.to_dict(), Console(highlight=False), default_origin_lines(compiled))


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
