"""`styleclip run`: check, compile and execute a recipe.

Exit codes: 0 done (every expectation held), 1 an expectation failed,
2 the recipe is invalid (nothing ran), 3 a runtime error (the failing
recipe line is shown), 130 interrupted.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ..defaults import DEFAULT_MODELSET
from ..exit_codes import EXIT_EXPECT, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_RUNTIME
from .ray_option import RAY_HELP, RayCommand
from .recipe_input import parse_set_options, read_recipe_or_exit



# Files people hand to `run` that are not recipes: what they are, for the error
NOT_RECIPES: dict[str, str] = {
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"), "an image"),
    **dict.fromkeys((".pt", ".npz", ".npy"), "a latent file"),
    **dict.fromkeys((".mp4",), "a video"),
}


def read_recipe(file: str, err: Console) -> tuple[str, str, Path]:
    """(text, source name, folder that relative input paths resolve against); exit 2 if unreadable
    or not a recipe (`styleclip run photo.png`)."""
    what = NOT_RECIPES.get(Path(file).suffix.lower()) if file != "-" else None
    if what is not None:
        verb = "invert" if what == "an image" else "load"
        err.print(f"[bold]{file}[/]: [bold red]error[/]: this is {what}; `styleclip run` expects a recipe "
                  f"(a .sc file)\n[bold cyan]hint[/]: write one, e.g. "
                  f"`{verb} {file}; global 'smile' alpha=3; save out/{{name}}.png`, or try it in `styleclip repl`",
                  highlight=False)
        raise typer.Exit(EXIT_INVALID)
    text, name = read_recipe_or_exit(file, err)
    base = Path.cwd() if file == "-" else Path(file).resolve().parent
    return text, name, base


def step_error_diagnostic(exc, source_name: str):
    """A runtime failure as a Diagnostic pointing at the recipe line."""
    from ..diagnostics import Diagnostic
    from ..spans import Span

    span = exc.span or {"line": 1, "column": 1, "end_line": 1, "end_column": 1}
    return Diagnostic(message=exc.message, hint=exc.hint,
                      span=Span(span["line"], span["column"], span.get("end_line", span["line"]),
                                span.get("end_column", span["column"] + 1)),
                      source_name=source_name, severity="error", code="E-runtime")


def execute(text: str, source_name: str, base: Path, *, sets: dict[str, str], out: Path, device: str | None,
            models: str | None, dry_run: bool, quiet: bool, as_json: bool, no_cache: bool,
            update_golden: bool, console: Console, err: Console, recipe_path: Path | None = None,
            overwrite: bool = False, train: bool = False, progress_console: Console | None = None,
            ray: str | None = None):
    """Shared by `run` and `test`: returns (exit code, report or None). Outputs never replace
    ``recipe_path`` or an input, nor (without ``overwrite``) a file styleclip did not write."""
    from ..api import compile_recipe
    from ..diagnostics import render_diagnostics

    model_file = None
    if models and (models.endswith((".yaml", ".yml")) or "/" in models):
        model_file = models  # a model-set YAML by path: the plan keeps its name, the runtime loads the file
    elif models:
        sets = {**sets, "use": models}
    from ..model_names import ModelNames

    plan, diags = compile_recipe(text, source_name, sets, names=ModelNames.discover(forced=model_file))
    from ..file_checks import file_diagnostics

    diags = file_diagnostics(text, source_name, diags, base)  # as `check`: W-no-output, golden links
    errors = [d for d in diags if d.severity == "error"]
    if diags:
        render_diagnostics(diags, text, err)
    if errors or plan is None:
        return EXIT_INVALID, None
    plan_dict = json.loads(plan.to_json())
    if dry_run:
        from ..default_origins import default_origin_lines
        from .plan import print_plan_summary

        print_plan_summary(plan_dict, console, default_origin_lines(plan))
        return EXIT_OK, None

    if ray is not None and not _ray_installed(err):
        return EXIT_INVALID, None
    from .progress import EventPrinter

    printer = EventPrinter(console, err, quiet=quiet, as_json=as_json, progress_console=progress_console)
    from styleclip_runtime.execution.errors import Interrupted, StepError

    modelset = model_file or plan_dict.get("modelset") or DEFAULT_MODELSET
    outputs_key = None  # the replay attempt's key: a computed run files under it without hashing again
    if not no_cache and not update_golden:  # every output already cached: served without torch (#21)
        from styleclip_runtime.cache.output_cache import replay

        with printer:
            attempt = replay(plan_dict, text, base, out, modelset, printer.handle, recipe_path=recipe_path,
                             overwrite=overwrite)
        if attempt.report is not None:
            printer.summary(attempt.report)
            return (EXIT_EXPECT if attempt.report.failed_expectations else EXIT_OK), attempt.report
        outputs_key = attempt.key
    from styleclip_runtime.execution.build_executor import open_executor

    try:
        with printer:
            executor = open_executor(modelset, device or plan_dict.get("device"), printer.handle, no_cache=no_cache)
            if not train and _training_refused(executor, plan_dict, base, err):
                return EXIT_INVALID, None
            run_args = dict(update_golden=update_golden, recipe_path=recipe_path, overwrite=overwrite,
                            record_outputs=not no_cache, outputs_key=outputs_key)
            if ray is not None:  # subjects in batches on Ray actors, outputs written here (docs/cluster.md)
                from styleclip_runtime.cluster.driver import ClusterOptions, ClusterRun

                report = ClusterRun(ClusterOptions(address=ray)).run(
                    executor, plan_dict, text, base, out, modelset=modelset,
                    device=device or plan_dict.get("device"), no_cache=no_cache, **run_args)
            else:
                report = executor.run(plan_dict, text, base, out, **run_args)
    except StepError as exc:
        render_diagnostics([step_error_diagnostic(exc, source_name)], text, err)
        return EXIT_RUNTIME, None
    except Interrupted:
        err.print("[yellow]interrupted[/]: nothing half-written was kept")
        return EXIT_INTERRUPTED, None
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        err.print(f"[bold red]error[/]: {exc}")
        return EXIT_RUNTIME, None
    printer.summary(report)
    return (EXIT_EXPECT if report.failed_expectations else EXIT_OK), report


def _ray_installed(err: Console) -> bool:
    """``--ray`` needs the optional extra; without it the run stops before anything starts."""
    import importlib.util

    if importlib.util.find_spec("ray") is not None:
        return True
    err.print("[bold red]error[/]: --ray needs Ray, which is not installed; nothing ran\n"
              "[bold cyan]hint[/]: python -m pip install 'styleclip-dsl\\[cluster]'", highlight=False)
    return False


def _training_refused(executor, plan: dict, base: Path, err: Console) -> bool:
    """A run that would train a mapper for long (or for an unknown time) starts only with --train."""
    from ..training_gate import needs_consent, trainings_of_run

    try:
        needs = trainings_of_run(executor, plan, base)
    except Exception:  # no estimate never stops a run; the step that cannot run says why
        return False
    if not needs_consent(needs):
        return False
    err.print(f"[bold red]error[/]: {needs.describe()}; nothing ran\n"
              "[bold cyan]hint[/]: pass --train to start it, or check the mapper's prompt "
              "(`styleclip check` lists close ones)", highlight=False)
    return True


def run(
    file: str = typer.Argument(..., help="Recipe file, or - for standard input."),
    set_: list[str] = typer.Option([], "--set", help="Override a setting: seed=N, use=MODELSET, device=D."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder that relative output paths resolve against."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 (default: cuda if present)."),
    models: Optional[str] = typer.Option(None, "--models", help="Model set name or YAML path (overrides `use`)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and show the plan; run nothing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the final summary."),
    as_json: bool = typer.Option(False, "--json", help="Emit machine-readable JSON events on stdout."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the result cache."),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="Replace existing files that styleclip did not write (never an input "
                                        "or the recipe)."),
    train: bool = typer.Option(False, "--train", help="Start a mapper training that the run needs (without it, "
                                                       "a run that would train for long says so and stops)."),
    ray: Optional[str] = typer.Option(None, "--ray", metavar="[ADDRESS]",
                                      help="Run the subjects in batches on Ray actors (pip extra \\[cluster]). "
                                           + RAY_HELP + ". Outputs are the same bytes (docs/cluster.md)."),
) -> None:
    """Run a recipe: invert/generate subjects, apply the edits, write images and run.json.

    Every output stays inside --out; an existing output of styleclip is replaced, any other file
    only with --overwrite.

    Images render on the synthesis path measured fastest for this machine and generator, chosen
    once and stored in the cache; STYLECLIP_SYNTHESIS_PATH=fast|fused-fp32|fused-bf16 pins one
    (run.json records it as 'synthesis'; docs/performance.md).

    Exit codes: 0 ok, 1 an expectation failed, 2 invalid recipe (or a training without --train:
    nothing ran), 3 runtime error.
    """
    console = Console(stderr=as_json)
    err = Console(stderr=True)
    text, source_name, base = read_recipe(file, err)
    code, _ = execute(text, source_name, base, sets=parse_set_options(set_), out=out, device=device, models=models,
                      dry_run=dry_run, quiet=quiet, as_json=as_json, no_cache=no_cache, update_golden=False,
                      console=console, err=err, recipe_path=None if file == "-" else Path(file),
                      overwrite=overwrite, train=train, ray=ray)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("run", cls=RayCommand)(run)  # a bare --ray is --ray local
