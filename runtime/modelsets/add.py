"""``styleclip models add NAME --generator G.pt --e4e E.pt ...``: a model set for your own
checkpoints, written as a verified YAML.

Each network is loaded from its file (safely: ``weights_only`` or safetensors) and its
architecture read from the weights, so the YAML's ``config`` is what the file holds; each file's
sha256 and size are computed and pinned; the encoder must fit the generator (W+ rows and width).
The YAML is written atomically to ``<cache>/modelsets/NAME.yaml`` and checked once more by
reading it back and verifying every file against it (``registry.verify``). What the new set does
not give (CLIP, ArcFace, the alignment, defaults) comes from a base set (``ffhq`` unless told).
Global-direction statistics and mappers belong to one generator, so the base's are not copied:
``--mapper 'prompt=FILE'`` adds your own; statistics are computed (and cached) on first use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import registry


class AddError(ValueError):
    """The set cannot be added; the message says why."""


@dataclass(frozen=True)
class AddedSet:
    path: Path
    checks: list[registry.FileCheck]
    generator: dict[str, Any]
    encoder: dict[str, Any]


def _file_entry(path: Path) -> dict[str, Any]:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise AddError(f"{path}: no such file")
    return {"path": str(path), "sha256": registry.sha256_file(path), "size": path.stat().st_size}


def _component_data(spec: registry.ModelSetSpec, role: str) -> dict[str, Any] | None:
    """A base set's component as YAML data (its file entry resolved to where the base finds it)."""
    comp = spec.component(role)
    if comp is None:
        return None
    f = comp.file
    entry: dict[str, Any] = {k: v for k, v in (("name", f.name), ("url", f.url), ("sha256", f.sha256),
                                               ("size", f.size), ("hf_hub", f.hf_hub)) if v is not None}
    found = registry.locate(spec, f)
    if found is not None or f.path or not f.hf_hub:
        # where the base finds it now (or would: its YAML's folder or its cache folder), as an absolute
        # path, since the new YAML lives elsewhere and has a cache folder of its own
        where = found if found is not None else registry.candidates(spec, f)[0]
        entry = {**{k: v for k, v in entry.items() if k not in ("name", "hf_hub")}, "path": str(where)}
    # else: by name, still looked for in the Hugging Face cache (hf_hub) and the new set's folder
    out: dict[str, Any] = {"file": entry}
    if comp.config:
        out["config"] = dict(comp.config)
    if comp.arch:
        out["arch"] = comp.arch
    return out


def inspect_networks(generator: Path, e4e: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(generator config, encoder config) read from the files; the encoder must fit the generator."""
    from dataclasses import asdict

    from ..models.checkpoints import CheckpointFormatError
    from ..models.e4e import load_e4e_checkpoint
    from ..models.stylegan2 import load_generator_checkpoint

    try:
        g, _ = load_generator_checkpoint(generator)
    except (CheckpointFormatError, RuntimeError, ValueError) as exc:
        raise AddError(f"--generator {generator}: {exc}") from exc
    try:
        enc, _, _ = load_e4e_checkpoint(e4e)
    except (CheckpointFormatError, RuntimeError, ValueError) as exc:
        raise AddError(f"--e4e {e4e}: {exc}") from exc
    gcfg, ecfg = asdict(g.config), enc.config.to_dict()
    if ecfg["n_styles"] != g.n_latent or ecfg["style_dim"] != g.config.style_dim:
        raise AddError(f"--e4e {e4e} gives {ecfg['n_styles']} codes of {ecfg['style_dim']}, but the generator "
                       f"takes {g.n_latent} of {g.config.style_dim}: they are not a pair")
    return gcfg, ecfg


def add_modelset(name: str, generator: Path, e4e: Path, base: str | None = "ffhq",
                 mappers: dict[str, Path] | None = None, align: str | None = "base",
                 description: str = "", force: bool = False, env: dict[str, str] | None = None) -> AddedSet:
    """Write ``<cache>/modelsets/NAME.yaml`` for these checkpoints and verify it (module docstring).
    ``align``: "base" (the base set's), "ffhq", or None (centre crop)."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise AddError(f"the set's name must be a word (letters, digits, _ . -), got {name!r}")
    target = registry.cache_root(env) / "modelsets" / f"{name}.yaml"
    if target.exists() and not force:
        raise AddError(f"{target} exists; pass --force to replace it")
    base_spec = registry.find_spec(base, env) if base else None
    gcfg, ecfg = inspect_networks(Path(generator), Path(e4e))
    data: dict[str, Any] = {"schema": registry.SCHEMA_VERSION, "name": name,
                            "description": description or f"own checkpoints: {Path(generator).name} + {Path(e4e).name}"}
    chosen_align = (base_spec.align if base_spec else None) if align == "base" else align
    if chosen_align:
        data["align"] = chosen_align
    data["generator"] = {"file": _file_entry(Path(generator)), "config": gcfg}
    data["encoder"] = {"file": _file_entry(Path(e4e)), "config": ecfg}
    for role in ("clip", "identity"):
        comp = _component_data(base_spec, role) if base_spec else None
        if comp is not None:
            data[role] = comp
    if mappers:
        data["mappers"] = {prompt: _file_entry(Path(p)) for prompt, p in mappers.items()}
    if base_spec and base_spec.defaults:
        data["defaults"] = {k: v for k, v in base_spec.defaults.items() if k != "global_stats"}
    text = (f"# written by `styleclip models add {name}` (base: {base or 'none'}); sha256s computed from the files\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    from ..cache.result_cache import atomic_write_bytes

    atomic_write_bytes(target, text.encode("utf-8"))
    spec = registry.read_spec(target)
    checks = [registry.verify_file(spec, f, env) for f in spec.files()
              if f.role in ("generator", "encoder") or f.role.startswith("mapper:")]
    bad = [c for c in checks if c.status != "ok"]
    if bad:
        target.unlink(missing_ok=True)
        raise AddError("verification failed: " + "; ".join(f"{c.role} {c.filename}: {c.status} {c.detail}" for c in bad))
    return AddedSet(target, checks, gcfg, ecfg)
