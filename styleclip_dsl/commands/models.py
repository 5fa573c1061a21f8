"""`styleclip models list` and `styleclip models verify NAME`.

Both read only the torch-free model-set registry, so they answer in a
fraction of a second. `verify` exits 0 when every file is present and
matches its pinned sha256 (files without a pinned digest are reported as
"unpinned", with their digest so that it can be pinned, and fail only with
``--strict``), and 1 otherwise.

`styleclip models prefetch NAME [--from DIR]` fills the cache folder
``<cache>/models/NAME/`` for CI: with ``--from`` it copies each missing file
from DIR (verified against the YAML's size and sha256 first); it never
downloads. It exits 0 when every file is then in place (the ``toon`` set
ships its files, so it needs nothing), and 1 listing each missing file with
its target path and URL.

`styleclip models add NAME --generator G.pt --e4e E.pt [--mapper 'prompt=FILE' ...]` writes
``<cache>/modelsets/NAME.yaml`` for your own checkpoints: the architecture is read from the
weights, each file's sha256 and size are computed and pinned, and the written YAML is read back
and verified (``styleclip_runtime.modelsets.add``; it loads torch, lazily). Exit 0 when written,
1 when refused.
"""
from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from pathlib import Path
from typing import Optional

from styleclip_runtime.modelsets import prefetch as prefetching
from styleclip_runtime.modelsets import registry

from ..exit_codes import ExitCode

app = typer.Typer(name="models", help="Model sets: list them, verify their files, prefetch them into the cache, "
                  "add your own.", no_args_is_help=True)

STATUS_STYLE = {"ok": "green", "unpinned": "yellow", "missing": "red", "mismatch": "bold red",
                "present": "green", "shipped": "green", "copied": "cyan"}


def human_size(n: int | None) -> str:
    """Bytes as a short human-readable string ("-" for unknown)."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


@app.command("list")
def list_sets() -> None:
    """Every model set with its description, files present/missing and size on disk."""
    console = Console()
    table = Table(title=f"model sets (cache: {registry.cache_root()})")
    for col in ("name", "description", "files present", "missing", "size on disk"):
        table.add_column(col)
    errors = []
    for path in registry.available():
        try:
            spec = registry.read_spec(path)
        except registry.ModelSetError as exc:
            errors.append(str(exc))
            continue
        files = spec.files()
        found = [registry.locate(spec, f) for f in files]
        present = [p for p in found if p is not None]
        total = sum(p.stat().st_size for p in present)
        missing = len(files) - len(present)
        table.add_row(spec.name, spec.description, f"{len(present)}/{len(files)}",
                      f"[red]{missing}[/red]" if missing else "0", human_size(total))
    console.print(table)
    for message in errors:
        Console(stderr=True).print(f"[red]error:[/red] {message}")
    if errors:
        raise typer.Exit(ExitCode.FAILED)


@app.command("verify")
def verify_set(
    name: str = typer.Argument(..., help="Model set name, or the path of its YAML file."),
    strict: bool = typer.Option(False, "--strict", help="Also fail on files without a pinned sha256."),
) -> None:
    """Check every file of a set against the sha256 (and size) in its YAML."""
    console = Console()
    try:
        spec = registry.find_spec(name)
    except registry.ModelSetError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(ExitCode.FAILED) from exc
    checks = registry.verify(spec)
    table = Table(title=f"model set {spec.name} ({spec.source})")
    for col in ("role", "file", "status", "size", "sha256", "detail"):
        table.add_column(col, overflow="fold")
    for c in checks:
        style = STATUS_STYLE.get(c.status, "")
        digest = c.actual if c.status in ("unpinned", "mismatch") else (c.expected or "")
        table.add_row(c.role, c.filename, f"[{style}]{c.status}[/{style}]", human_size(c.size),
                      digest or "", c.detail)
    console.print(table)
    counts = {s: sum(c.status == s for c in checks) for s in ("ok", "unpinned", "missing", "mismatch")}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))
    failed = counts["missing"] + counts["mismatch"] + (counts["unpinned"] if strict else 0)
    if counts["missing"]:
        console.print(f"Put each missing file where 'detail' says (download URLs are in {spec.source}); "
                      "nothing is downloaded automatically.")
    raise typer.Exit(ExitCode.FAILED if failed else ExitCode.OK)


@app.command("prefetch")
def prefetch_set(
    name: str = typer.Argument(..., help="Model set name, or the path of its YAML file."),
    source: Optional[Path] = typer.Option(None, "--from", help="Folder holding the files (DIR/FILE or DIR/NAME/FILE); "
                                          "each is verified, then copied into the cache."),
) -> None:
    """Put a set's files into the cache folder for CI (never downloads; exit 1 if any is still missing)."""
    console = Console()
    err = Console(stderr=True)
    try:
        spec = registry.find_spec(name)
    except registry.ModelSetError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(ExitCode.FAILED) from exc
    if source is not None and not source.is_dir():
        err.print(f"[red]error:[/red] --from {source}: not a folder")
        raise typer.Exit(ExitCode.FAILED)
    results = prefetching.prefetch(spec, source)
    table = Table(title=f"model set {spec.name} -> {registry.models_dir(spec.name)}")
    for col in ("role", "file", "status", "detail"):
        table.add_column(col, overflow="fold")
    for r in results:
        style = STATUS_STYLE.get(r.status, "")
        table.add_row(r.role, r.filename, f"[{style}]{r.status}[/{style}]", r.detail)
    console.print(table)
    bad = [r for r in results if not r.ok]
    if not bad:
        console.print(f"all {len(results)} files of '{spec.name}' are in place")
        raise typer.Exit(ExitCode.OK)
    console.print(f"[red]{len(bad)} file(s) not in place[/red]; nothing is downloaded automatically:")
    for r in bad:
        where = f"  {r.filename}: put it at {r.path}" if r.status == prefetching.MISSING else f"  {r.filename}: {r.detail}"
        console.print(where + (f"\n    from {r.url}" if r.url else "\n    (no URL in the YAML)"), soft_wrap=True)
    console.print("then run `styleclip models prefetch` again, or pass --from DIR holding the files.")
    raise typer.Exit(ExitCode.FAILED)


@app.command("add")
def add_set(
    name: str = typer.Argument(..., help="Name of the new set (also its YAML's file name)."),
    generator: Path = typer.Option(..., "--generator", help="StyleGAN2 checkpoint (.pt or .safetensors)."),
    e4e: Path = typer.Option(..., "--e4e", help="e4e encoder checkpoint trained for that generator."),
    mapper: list[str] = typer.Option([], "--mapper", help="A latent mapper as 'prompt=FILE' (repeatable)."),
    base: str = typer.Option("ffhq", "--base", help="Set whose CLIP, ArcFace, alignment and defaults are used "
                             "('none': no other networks)."),
    align: str = typer.Option("base", "--align", help="How photos are prepared: 'ffhq' (find and align faces), "
                              "'none' (centre crop), 'base' (as the base set)."),
    description: str = typer.Option("", "--description", help="One line for `styleclip models list`."),
    force: bool = typer.Option(False, "--force", help="Replace an existing set of that name."),
) -> None:
    """Write a verified model-set YAML for your own checkpoints (sha256 computed and checked)."""
    err = Console(stderr=True)
    mappers: dict[str, Path] = {}
    for entry in mapper:
        prompt, sep, file = entry.partition("=")
        if not sep or not prompt.strip() or not file.strip():
            err.print(f"[red]error:[/red] --mapper {entry!r}: expected 'prompt=FILE'")
            raise typer.Exit(ExitCode.FAILED)
        mappers[prompt.strip()] = Path(file.strip())
    if align not in ("base", "none", *registry.ALIGN_METHODS):
        err.print(f"[red]error:[/red] --align {align!r}: expected base, none or one of {list(registry.ALIGN_METHODS)}")
        raise typer.Exit(ExitCode.FAILED)
    from styleclip_runtime.modelsets.add import AddError, add_modelset

    try:
        added = add_modelset(name, generator, e4e, None if base == "none" else base, mappers,
                             None if align == "none" else align, description, force)
    except (AddError, registry.ModelSetError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(ExitCode.FAILED) from exc
    console = Console()
    g = added.generator
    console.print(f"wrote {added.path}: generator {g['size']} px, W+ {added.encoder['n_styles']} x {g['style_dim']}")
    for c in added.checks:
        console.print(f"  {c.role}: {c.filename} sha256 {c.actual} [green]{c.status}[/green]")
    console.print(f"use it with `use {name}` in a recipe or `--models {name}`; "
                  f"`styleclip models verify {name}` checks every file again")


def register(root: typer.Typer) -> None:
    """Attach the `models` command group to the main CLI app."""
    root.add_typer(app, name="models")
