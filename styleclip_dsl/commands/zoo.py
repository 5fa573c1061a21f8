"""`styleclip zoo build toon --seed N [--out DIR]`: rebuild the embedded model set.

The runtime (torch) is imported inside the command, so that the CLI starts
fast for every other command.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(name="zoo", help="Build the embedded model sets from scratch.", no_args_is_help=True)

BUILDABLE = ("toon",)


@app.command("build")
def build(
    name: str = typer.Argument(..., help="The model set to build (only 'toon')."),
    seed: int = typer.Option(0, "--seed", help="Seed of every trainer."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the shipped "
                                       "runtime/modelsets/toon/)."),
) -> None:
    """Train the judge, CLIP, generator and encoder, then the global-direction statistics."""
    if name not in BUILDABLE:
        typer.echo(f"error: cannot build model set {name!r}; buildable: {', '.join(BUILDABLE)}", err=True)
        raise typer.Exit(2)
    import styleclip_runtime
    from styleclip_runtime.zoo.toon.build import build_toon

    target = out if out is not None else Path(styleclip_runtime.__file__).resolve().parent / "modelsets" / "toon"
    report = build_toon(target, seed=seed, log=typer.echo)
    for step, seconds in report.seconds.items():
        typer.echo(f"{step}: {seconds:.0f}s")
    typer.echo(f"wrote {target}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="zoo")
