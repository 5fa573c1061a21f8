"""`styleclip cache info | clear | prune`: the on-disk result cache of a model set.

Torch-free: the cache and the model-set registry are plain Python.
"""
from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..defaults import DEFAULT_MODELSET

cache_app = typer.Typer(help="Inspect or clean the result cache (inversions, directions, mappers, statistics).",
                        no_args_is_help=True)


def _cache(models: str):
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.modelsets.registry import find_spec, models_dir

    override = os.environ.get("STYLECLIP_RESULTS_CACHE")
    root = Path(override) if override else models_dir(find_spec(models).name) / "results"
    return Cache(root)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@cache_app.command("info")
def info(models: str = typer.Option(DEFAULT_MODELSET, "--models", help="Model set whose cache to show.")) -> None:
    """Where the cache is, how many entries of each kind, and their size."""
    data = _cache(models).info()
    console = Console()
    console.print(f"cache: {data.root}  ({data.entries} entries, {_size(data.total_bytes)}, "
                  f"cap {_size(data.max_bytes)})")
    if data.by_kind:
        table = Table()
        table.add_column("kind")
        table.add_column("entries", justify="right")
        table.add_column("size", justify="right")
        for kind, (n, size) in data.by_kind.items():
            table.add_row(kind, str(n), _size(size))
        console.print(table)


@cache_app.command("clear")
def clear(models: str = typer.Option(DEFAULT_MODELSET, "--models", help="Model set whose cache to clear.")) -> None:
    """Remove every cached result (model files are not touched)."""
    n = _cache(models).clear()
    Console().print(f"removed {n} entries")


@cache_app.command("prune")
def prune(models: str = typer.Option(DEFAULT_MODELSET, "--models"),
          max_mb: float = typer.Option(2048.0, "--max-mb", help="Keep at most this many MiB (LRU eviction).")) -> None:
    """Evict least-recently-used entries down to --max-mb and remove stale temporary files."""
    freed = _cache(models).prune(int(max_mb * 1024 * 1024))
    Console().print(f"freed {_size(freed)}")


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
