"""Latent files: the project's own typed format, plus the field's usual ones.

Our files record what the numbers mean, so that loading them into another
generator is an error instead of a garbage image:

- ``.pt`` (torch.save of plain tensors/strings, loadable with weights_only):
  ``{"format": "styleclip-dsl/latent-v1", "space": "W+" | "W" | "S",
  "generator": sha256, "names": [...], "wplus": (N, L, C),
  "s_offset": [(N, C_l) per style layer] (only when space is "S")}``
- ``.npz``: the same fields; ``meta`` holds the JSON of the scalar fields and
  ``s_offset_00``... the offsets.

Also read (space W+ or W, generator unknown, so only shapes are checked):
a bare tensor ``(N, L, C)`` / ``(L, C)`` / ``(N, C)`` in ``.pt`` (StyleCLIP,
e4e ``latents.pt``), ``.npz`` with key ``w`` (the NVlabs projector), ``.npy``
arrays and ``.npy`` dicts keyed by file name (ReStyle, HyperStyle).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..cache.result_cache import atomic_write_bytes

FORMAT = "styleclip-dsl/latent-v1"


class LatentFileError(ValueError):
    """A latent file that cannot be used with this generator (says why)."""


@dataclass
class LatentBatch:
    wplus: torch.Tensor                      # (N, L, C)
    names: list[str]
    space: str = "W+"
    generator: str | None = None             # sha256 of the generator file, when known
    s_offset: list[torch.Tensor] | None = None
    notes: list[str] = field(default_factory=list)


def save_latents(path: Path, batch: LatentBatch) -> None:
    path = Path(path)
    space = "S" if batch.s_offset is not None else batch.space
    if path.suffix == ".pt":
        obj = {"format": FORMAT, "space": space, "generator": batch.generator or "",
               "names": list(batch.names), "wplus": batch.wplus.detach().cpu().float().contiguous()}
        if batch.s_offset is not None:
            obj["s_offset"] = [t.detach().cpu().float().contiguous() for t in batch.s_offset]
        buf = io.BytesIO()
        torch.save(obj, buf)
        atomic_write_bytes(path, buf.getvalue())
    elif path.suffix == ".npz":
        arrays = {"wplus": batch.wplus.detach().cpu().float().numpy()}
        for i, t in enumerate(batch.s_offset or []):
            arrays[f"s_offset_{i:02d}"] = t.detach().cpu().float().numpy()
        meta = {"format": FORMAT, "space": space, "generator": batch.generator or "",
                "names": list(batch.names), "n_offsets": len(batch.s_offset or [])}
        arrays["meta"] = np.array(json.dumps(meta))
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())
    else:
        raise LatentFileError(f"{path}: unsupported latent file type {path.suffix!r} (use .pt or .npz)")


def load_latents(path: Path, n_latent: int, style_dim: int, generator_fingerprint: str | None) -> LatentBatch:
    """Read any supported latent file and check it against the generator."""
    path = Path(path)
    if not path.exists():
        raise LatentFileError(f"{path}: no such file")
    try:
        batch = _read(path)
    except LatentFileError:
        raise
    except Exception as exc:  # first_line: never torch's advice to load with weights_only=False
        from .safe_pickle import first_line

        raise LatentFileError(f"{path}: not a readable latent file ({exc.__class__.__name__}: "
                              f"{first_line(exc)})") from exc
    _check(path, batch, n_latent, style_dim, generator_fingerprint)
    return batch


def _read(path: Path) -> LatentBatch:
    stem = path.stem
    if path.suffix == ".pt":
        obj = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(obj, dict) and obj.get("format") == FORMAT:
            return LatentBatch(obj["wplus"].float(), list(obj["names"]), obj["space"],
                               obj["generator"] or None, obj.get("s_offset"))
        if isinstance(obj, dict) and "latents" in obj:  # some tools wrap the tensor
            obj = obj["latents"]
        if isinstance(obj, torch.Tensor):
            return _from_array(obj.float(), stem)
        raise LatentFileError(f"{path}: a .pt latent file must hold a tensor or a styleclip-dsl latent dict")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            if "meta" in data.files:
                meta = json.loads(str(data["meta"]))
                offsets = [torch.from_numpy(data[f"s_offset_{i:02d}"]) for i in range(meta["n_offsets"])]
                return LatentBatch(torch.from_numpy(data["wplus"]).float(), meta["names"], meta["space"],
                                   meta["generator"] or None, offsets or None)
            key = "w" if "w" in data.files else data.files[0]
            return _from_array(torch.from_numpy(data[key]).float(), stem)
    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
            return _from_array(torch.from_numpy(arr).float(), stem)
        except ValueError:
            pass
        # A dict keyed by file name (ReStyle) needs pickle: read it with a
        # restricted unpickler that builds only numpy arrays and builtins.
        from .safe_pickle import load_restricted

        obj = load_restricted(path.read_bytes())
        if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
            obj = obj.item()
        if not isinstance(obj, dict):
            raise LatentFileError(f"{path}: expected an array or a dict of arrays")
        names = sorted(obj)
        arrays = [torch.as_tensor(np.asarray(obj[n]), dtype=torch.float32) for n in names]
        arrays = [a[None] if a.ndim == 2 else a for a in arrays]
        return LatentBatch(torch.cat(arrays), [Path(n).stem for n in names])
    raise LatentFileError(f"{path}: unsupported latent file type {path.suffix!r}")


def _from_array(t: torch.Tensor, stem: str) -> LatentBatch:
    notes = []
    if t.ndim == 2:
        return LatentBatch(t[None], [stem], "W+?", None, None, notes)  # resolved in _check
    if t.ndim == 3:
        names = [stem] if t.shape[0] == 1 else [f"{stem}_{i}" for i in range(t.shape[0])]
        return LatentBatch(t, names, "W+", None, None, notes)
    raise LatentFileError(f"latent tensor has shape {tuple(t.shape)}; expected (N, L, C), (L, C) or (N, C)")


def _check(path: Path, batch: LatentBatch, n_latent: int, style_dim: int, fingerprint: str | None) -> None:
    if batch.generator and fingerprint and batch.generator != fingerprint:
        raise LatentFileError(
            f"{path}: these latents belong to generator {batch.generator[:12]}, not to the current "
            f"model set's generator {fingerprint[:12]}; invert or generate them again with this model set")
    t = batch.wplus
    if batch.space == "W+?":
        two_d = t[0]
        if two_d.shape == (n_latent, style_dim):
            batch.space = "W+"
            batch.notes.append(f"{path.name}: read a ({n_latent}, {style_dim}) tensor as one W+ code")
        elif two_d.shape[-1] == style_dim:
            batch.wplus = two_d[:, None, :].expand(-1, n_latent, -1).clone()
            batch.names = [f"{path.stem}_{i}" for i in range(two_d.shape[0])]
            batch.space = "W"
        else:
            raise LatentFileError(f"{path}: shape {tuple(two_d.shape)} does not fit this generator "
                                  f"(W+ is ({n_latent}, {style_dim}))")
        return
    if t.shape[1:] != (n_latent, style_dim):
        raise LatentFileError(f"{path}: W+ codes of shape {tuple(t.shape[1:])} do not fit this generator, "
                              f"which takes ({n_latent}, {style_dim})")
