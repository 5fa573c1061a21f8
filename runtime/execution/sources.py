"""Source steps: ``invert`` (images -> W+ through the encoder, cached by the
decoded pixels), ``generate`` (seeds -> W+ through the mapping network) and
``load`` (latent files, type-checked against the generator)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from styleclip_dsl.plan import SourceStep

from ..cache.keys import inversion_key
from .errors import StepError
from ..io.image_input import ImageDigests, expand_paths, select_faces
from ..io.latents import LatentFileError, load_latents
from .state import Item, Photo


def file_identity(step: SourceStep, base: Path) -> tuple | None:
    """(path, size, modification time) of every file an ``invert`` or ``load`` step reads, as they
    are now; None when they cannot be listed (the step itself then says why)."""
    try:
        if step.op == "invert":
            paths = expand_paths(step.params["paths"], base, step)
        else:
            path = Path(step.params["path"])
            paths = [path if path.is_absolute() else base / path]
        return tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    except (StepError, OSError):
        return None


def _inversion_code(payload: bytes) -> torch.Tensor:
    """A cached inversion's W+ code (n_latent, style_dim); raises on anything else."""
    code = st_load(payload)["wplus"]
    if code.ndim != 2 or not code.is_floating_point():
        raise ValueError(f"an inversion is a 2-d float code, got {tuple(code.shape)} {code.dtype}")
    return code


def invert(models, step: SourceStep, base: Path, cache, device,
           digests: ImageDigests | None = None) -> tuple[list[Item], dict]:
    """Images -> W+ codes: one item per photo, or per face of it when the set aligns faces
    (``align: ffhq``; ``face=N`` picks one)."""
    paths = expand_paths(step.params["paths"], base, step)
    size = models.encoder_input_size
    align = photo_alignment(models)
    face = step.params.get("face")
    subject_name = step.subject
    fps = models.fingerprints()
    digests = digests if digests is not None else ImageDigests()
    subjects = [s for path in paths for s in select_faces(digests.subjects(path, size, step, align), face, step)]
    for subj in (s for s in subjects if s.cropped):  # the new user: an off-centre face lost, unannounced
        w, h = subj.alignment["photo_size"]
        getattr(models, "notify", lambda m: None)(
            f"{subj.path.name} is {w}x{h}: only its centre {min(w, h)}x{min(w, h)} is inverted "
            f"(this model set does not align faces; a set with `align: ffhq` would)")
    items: list[Item | None] = [None] * len(subjects)
    todo: list[tuple[int, np.ndarray, str]] = []
    stats = {"hits": 0, "misses": 0}
    photos: list[Photo] = []
    for i, subj in enumerate(subjects):
        key = inversion_key(subj.sha256, subj.shape, fps)
        payload = cache.get("inversion", key, _inversion_code)  # the W+ code, or None (a damaged entry: recomputed)
        pixels = None if payload is not None else digests.subject_pixels(subj, size, step, align)
        photos.append(Photo(pixels, str(subj.path), subj.face, subj.faces, subj.alignment,
                            load=_loader(digests, subj, size, step, align)))
        if payload is not None:
            stats["hits"] += 1
            items[i] = Item(subj.name, subject_name, i, payload, labels={"step": 0},
                            photo=photos[i])
        else:
            stats["misses"] += 1
            todo.append((i, pixels, key))
    if todo:
        batch = torch.stack([torch.from_numpy(p.copy()).permute(2, 0, 1).float() / 127.5 - 1.0 for _, p, _ in todo])
        from .batching import AdaptiveBatch

        with torch.no_grad():
            codes = torch.cat(AdaptiveBatch(16).run(
                len(batch), lambda a, b: models.invert(batch[a:b].to(device)).float().cpu()))
        for (i, _, key), code in zip(todo, codes):
            cache.put_bytes("inversion", key, st_save({"wplus": code.contiguous()}))
            items[i] = Item(subjects[i].name, subject_name, i, code, labels={"step": 0}, photo=photos[i])
    return [it for it in items if it is not None], stats


def photo_records(items: list[Item]) -> list[dict]:
    """run.json's record of each inverted subject: its name, file, face and alignment (landmarks, quad)."""
    return [{"name": it.name, "subject": it.subject, **it.photo.record()} for it in items if it.photo is not None]


def _loader(digests: ImageDigests, subj, size: int, step: SourceStep, align: str | None):
    return lambda: digests.subject_pixels(subj, size, step, align)


def photo_alignment(models) -> str | None:
    """The set's ``align:`` (None for sets that centre-crop photos, such as toon)."""
    modelset = getattr(models, "modelset", None)
    return getattr(getattr(modelset, "spec", None), "align", None)


@torch.no_grad()
def generate(models, step: SourceStep, device) -> list[Item]:
    g = models.generator
    params = step.params
    psi = float(params.get("truncation", 0.7))
    mean = models.mean_latent()
    items = []
    for i, seed in enumerate(params["seeds"]):
        z = torch.randn(1, g.config.style_dim, generator=torch.Generator().manual_seed(int(seed)))
        w = g.mapping(z.to(device))
        w = g.truncate(w, psi, mean)
        items.append(Item(f"seed{seed}", step.subject, i, g.to_wplus(w)[0].cpu(), labels={"step": 0}))
    return items


def load(models, step: SourceStep, base: Path) -> list[Item]:
    raw = step.params["path"]
    path = Path(raw) if Path(raw).is_absolute() else base / raw
    g = models.generator
    try:
        batch = load_latents(path, g.n_latent, g.config.style_dim, models.fingerprints().get("generator"))
    except LatentFileError as exc:
        raise StepError(str(exc), step) from exc
    items = []
    for i, (name, code) in enumerate(zip(batch.names, batch.wplus)):
        offset = [o[i] for o in batch.s_offset] if batch.s_offset is not None else None
        items.append(Item(name, step.subject, i, code, offset, labels={"step": 0}))
    return items
