"""`styleclip train mapper 'TEXT'`: train a StyleCLIP latent mapper for a prompt.

The result is written in the official checkpoint layout
(``{'state_dict': {'mapper.*'}, 'opts'}``) and registered for the model set
(``<cache>/models/<set>/mappers/<generator digest>/<prompt>.pt``), where recipes find it. The
run checkpoints itself beside that file and resumes after an interruption.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..defaults import DEFAULT_MODELSET
from ..exit_codes import ExitCode


train_app = typer.Typer(help="Train models for a model set (latent mappers).", no_args_is_help=True)


@train_app.command("mapper")
def mapper(
    text: str = typer.Argument(..., help="The prompt, e.g. 'curly hair'."),
    models: str = typer.Option(DEFAULT_MODELSET, "--models", help="Model set name or YAML path."),
    steps: int = typer.Option(300, "--steps", min=1, help="Training steps."),
    batch: int = typer.Option(8, "--batch", min=1, help="Latents per step."),
    lr: float = typer.Option(0.5, "--lr", help="Adam learning rate (the published run used 0.5 with Ranger)."),
    l2: float = typer.Option(0.8, "--l2", help="Weight of the L2 term on the residual (published 0.8)."),
    id_weight: float = typer.Option(0.1, "--id", help="Identity loss weight (ignored without an identity network)."),
    levels: str = typer.Option("coarse,medium,fine", "--levels", help="Mapper levels to train, e.g. coarse,medium."),
    views: int = typer.Option(0, "--views", min=0, help="Average CLIP over this many augmented copies of each "
                              "image (0: the published loss; see `optimize views=`)."),
    smooth: float = typer.Option(0.0, "--smooth", min=0.0, help="Train at random StyleSpace offsets of this many "
                                 "per-channel stds (0: off; see `optimize smooth=`)."),
    space: str = typer.Option("wplus", "--space", help="wplus (the published mapper) or w: the residual is one "
                              "W offset on every row the levels cover (a move in W, where toon's attributes are "
                              "linear)."),
    keep: str = typer.Option("", "--keep", help="Texts the mapper should leave alone, comma-separated: CLIP's "
                             "target is made orthogonal to their directions (see `optimize keep=`)."),
    neutral: str = typer.Option("a face", "--neutral", help="With --keep, where the kept texts' directions start."),
    seed: int = typer.Option(0, "--seed"),
    device: Optional[str] = typer.Option(None, "--device"),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the checkpoint here."),
) -> None:
    """Train a latent mapper for TEXT and register it for the model set."""
    from styleclip_runtime.cache.result_cache import atomic_write_bytes
    from styleclip_runtime.engines.keep import keep_texts
    from styleclip_runtime.engines.mapper import MapperTraining, train_mapper
    from styleclip_runtime.models.mapper import SPACES, save_mapper_checkpoint
    from styleclip_runtime.execution.build_executor import open_executor

    console = Console(stderr=True)
    level_list = tuple(x.strip() for x in levels.split(",") if x.strip())
    bad = [x for x in level_list if x not in ("coarse", "medium", "fine")]
    if bad or not level_list:
        raise typer.BadParameter(f"--levels takes coarse, medium and/or fine, got {levels!r}")
    if space not in SPACES:
        raise typer.BadParameter(f"--space takes {' or '.join(SPACES)}, got {space!r}")
    kept = keep_texts(keep)
    if text.strip().lower() in [k.lower() for k in kept]:
        raise typer.BadParameter(f"--keep names the mapper's own text {text!r}: nothing would be left to move")
    config = MapperTraining(steps=steps, batch=batch, lr=lr, l2_lambda=l2, id_lambda=id_weight, seed=seed,
                            levels=level_list, views=views, smooth=smooth, space=space, keep=kept,
                            neutral=neutral)
    try:
        models = open_executor(models, device).models
        target = models.user_mapper_path(text)
        target.parent.mkdir(parents=True, exist_ok=True)
        state_file = target.with_suffix(".training.pt")
        if models.identity is None and id_weight > 0:
            console.print(f"[cyan]note[/]: model set '{models.name}' has no identity network; the identity loss is off")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[message]}"), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task(f"mapper {text!r}", total=steps, message="")
            trained, metrics = train_mapper(
                models.generator, models.clip, text, config, identity=models.identity,
                progress=lambda d, t, m: bar.update(task, completed=d, message=f"clip {m['clip']:.3f} l2 {m['l2']:.4f}"),
                checkpoint=state_file, style_std=models.style_std() if smooth else None)
        tmp = target.with_suffix(".tmp-save.pt")
        save_mapper_checkpoint(trained, tmp, config.as_opts(text))
        data = tmp.read_bytes()
        tmp.unlink()
        atomic_write_bytes(target, data)
        if out is not None:
            atomic_write_bytes(out, data)
        state_file.unlink(missing_ok=True)
    except (ValueError, RuntimeError, OSError) as exc:  # a damaged state or model file: said, not a traceback
        console.print(f"[bold red]error[/]: {exc}", highlight=False)
        raise typer.Exit(ExitCode.RUNTIME) from None
    Console().print(f"mapper for {text!r} ({models.name}): {target}  final clip loss {metrics.get('clip', float('nan')):.3f}")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
