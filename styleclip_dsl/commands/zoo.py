"""`styleclip zoo build toon --seed N [--out DIR] [--steps A,B] [--redo]`: rebuild the embedded model set.

The runtime (torch) is imported inside the command, so that the CLI starts
fast for every other command.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..exit_codes import ExitCode


app = typer.Typer(name="zoo", help="Build the embedded model sets from scratch.", no_args_is_help=True)

BUILDABLE = ("toon",)


@app.command("build")
def build(
    name: str = typer.Argument(..., help="The model set to build (only 'toon')."),
    seed: int = typer.Option(0, "--seed", help="Seed of every trainer."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the shipped "
                                       "runtime/modelsets/toon/, whose toon.yaml is then updated)."),
    steps: Optional[str] = typer.Option(None, "--steps", help="Comma-separated steps to run (default: all, in "
                                        "order: judge,judge2,clip,generator,encoder,global_stats,mappers)."),
    redo: bool = typer.Option(False, "--redo", help="Train the chosen steps again even where an earlier run "
                              "with this seed finished them."),
) -> None:
    """Train the two judges, CLIP, generator and encoder, the global-direction statistics and the mappers,
    then write the model-set YAML (DIR/toon.yaml with --out). An interrupted build resumes from
    DIR/work: finished steps are kept (unless --redo), a step cut short continues from its checkpoint."""
    if name not in BUILDABLE:
        typer.echo(f"error: cannot build model set {name!r}; buildable: {', '.join(BUILDABLE)}", err=True)
        raise typer.Exit(ExitCode.INVALID)
    from styleclip_zoo.toon.build import BUILD_STEPS, build_toon
    from styleclip_zoo.toon.modelset_yaml import SHIPPED_DIR

    chosen = tuple(s.strip() for s in steps.split(",") if s.strip()) if steps else BUILD_STEPS
    unknown = [s for s in chosen if s not in BUILD_STEPS]
    if unknown:
        typer.echo(f"error: unknown step(s) {', '.join(unknown)}; steps: {', '.join(BUILD_STEPS)}", err=True)
        raise typer.Exit(ExitCode.INVALID)
    target = out if out is not None else SHIPPED_DIR
    report = build_toon(target, seed=seed, log=typer.echo, steps=chosen, redo=redo)
    for step, seconds in report.seconds.items():
        typer.echo(f"{step}: {seconds:.0f}s")
    typer.echo(f"wrote {target}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="zoo")
