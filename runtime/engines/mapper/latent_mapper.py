"""Latent mapper (StyleCLIP §2): inference and training.

Inference: ``w_edit = w + strength * 0.1 * M(w)`` (strength 1 is the
published rule; other values give the strength control users asked for).

Training follows the published losses and weights:
``clip_lambda * CLIP(G(w_edit), t) + 0.8 * mean((0.1 M(w))^2) + 0.1 * ID``,
with the identity term off when the model set has no identity network.
Latents come from the generator (seeded z, truncation drawn per sample in
[psi_min, 1]) and, when given, from inverted images. The published run
(Ranger, lr 0.5, batch 2, 50k steps, ~10 h on a GPU) is out of reach on a
CPU; the defaults here (Adam, more subjects per step, a few hundred steps)
train a toon mapper in minutes, and every knob is a parameter. ``views`` and
``smooth`` (off by default) train against CLIP's view over a neighbourhood,
as ``optimize`` can (``robust_clip``). Two more options, off by default, are
this project's: ``space="w"`` trains a mapper whose residual is one W offset
on every row it covers (``LevelsMapper(space="w")``), and ``keep`` aims the
CLIP loss at the text's embedding made orthogonal to the kept texts'
directions from ``neutral`` (``keep.target_without``, as ``optimize keep=``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from ...cache.keys import MAPPER_VERSION
from ..robust_clip import StyleNoise, augmented_embedding

ENGINE_VERSION = MAPPER_VERSION  # the cache keys carry it: runtime/cache/keys.py


@dataclass(frozen=True)
class MapperTraining:
    steps: int = 300
    batch: int = 8
    lr: float = 0.5
    clip_lambda: float = 1.0
    l2_lambda: float = 0.8
    id_lambda: float = 0.1
    psi_min: float = 0.5
    seed: int = 0
    levels: tuple[str, ...] = ("coarse", "medium", "fine")
    views: int = 0        # CLIP over augmented copies (robust_clip; off, as published)
    smooth: float = 0.0   # StyleSpace noise in stds while training (robust_clip; off, as published)
    space: str = "wplus"  # "w": the residual is one W offset on every covered row (models/mapper.py)
    keep: tuple[str, ...] = ()  # texts whose directions CLIP's target is made orthogonal to (engines/keep.py)
    neutral: str = "a face"     # where those directions start (used only with keep)

    @classmethod
    def from_defaults(cls, defaults: dict) -> "MapperTraining":
        """The training a model set's ``defaults.mapper_training`` asks for (first-use training)."""
        return cls(**dict(defaults.get("mapper_training") or {}))

    def as_opts(self, text: str) -> dict:
        opts = asdict(self)
        opts["levels"] = list(self.levels)
        for name in ("views", "smooth"):  # absent when off: the published training keeps its keys
            if not opts[name]:
                del opts[name]
        # absent when off too; the checkpoint loader reads mapper_space
        space, keep = opts.pop("space"), opts.pop("keep")
        neutral = opts.pop("neutral")
        if space != "wplus":
            opts["mapper_space"] = space
        if keep:
            opts.update(keep=list(keep), neutral=neutral)
        opts.update(description=text, no_coarse_mapper="coarse" not in self.levels,
                    no_medium_mapper="medium" not in self.levels, no_fine_mapper="fine" not in self.levels)
        return opts


def apply_strength(mapper, wplus: torch.Tensor, strength: torch.Tensor | float = 1.0,
                   row_mask: torch.Tensor | None = None) -> torch.Tensor:
    """w + strength * 0.1 * M(w); strength is a scalar or (B,); ``row_mask`` ((L, 1) of 0/1,
    ``layers.wplus_mask``) keeps the residual to the W+ rows marked 1."""
    residual = mapper(wplus)
    if row_mask is not None:
        residual = residual * row_mask.to(residual)
    s = strength.view(-1, 1, 1).to(wplus) if torch.is_tensor(strength) else strength
    return wplus + s * 0.1 * residual


def _sample_codes(generator, n: int, gen: torch.Generator, psi_min: float, mean: torch.Tensor) -> torch.Tensor:
    z = torch.randn(n, generator.config.style_dim, generator=gen).to(mean.device)
    psi = psi_min + (1.0 - psi_min) * torch.rand(n, 1, generator=gen).to(mean.device)
    with torch.no_grad():
        w = generator.mapping(z)
        w = mean + psi * (w - mean)
        return generator.to_wplus(w)


class TrainingStateError(ValueError):
    """A mapper training's saved state (``<prompt>.training.pt``) that cannot be resumed; names the file."""


_STATE_KEYS = ("mapper", "optimizer", "rng", "step", "text", "config")


def read_training_state(path: Path, text: str, config: "MapperTraining") -> dict:
    """The saved state of an interrupted training of ``text`` with ``config`` (weights_only: tensors and
    plain containers only). ``TrainingStateError`` naming the file when it is unreadable, truncated, not
    a training state, or another run's."""
    from ...io.safe_pickle import first_line

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TrainingStateError(f"{path}: not a readable training state ({first_line(exc)}); "
                                 "remove it to train from the start") from exc
    missing = [k for k in _STATE_KEYS if k not in state] if isinstance(state, dict) else list(_STATE_KEYS)
    if missing:
        raise TrainingStateError(f"{path}: not a mapper training state (no {', '.join(missing)}); "
                                 "remove it to train from the start")
    if state.get("text") != text or state.get("config") != config.as_opts(text):
        raise TrainingStateError(f"{path} holds a different training run; remove it to start again")
    return state


def _save_training_state(path: Path, mapper, opt, gen: torch.Generator, step: int, text: str,
                         config: MapperTraining, aug: torch.Generator | None = None) -> None:
    import io

    from ...cache.result_cache import atomic_write_bytes

    buf = io.BytesIO()
    state = {"mapper": mapper.state_dict(), "optimizer": opt.state_dict(), "rng": gen.get_state(),
             "step": step, "text": text, "config": config.as_opts(text)}
    if aug is not None:
        state["aug_rng"] = aug.get_state()
    torch.save(state, buf)
    atomic_write_bytes(Path(path), buf.getvalue())


@torch.no_grad()
def training_target(clip, text: str, config: MapperTraining) -> torch.Tensor:
    """CLIP's target for training a mapper toward ``text``: its embedding, made orthogonal to
    the kept texts' directions (from ``config.neutral``) when ``config.keep`` names any."""
    from ..keep import conditional_target

    return conditional_target(clip, clip.encode_text([text])[0].detach().float(), config.keep, config.neutral)


def train_mapper(generator, clip, text: str, config: MapperTraining = MapperTraining(), identity=None,
                 extra_latents: torch.Tensor | None = None,
                 progress: Callable[[int, int, dict], None] | None = None,
                 should_stop: Callable[[], bool] | None = None, init_state: dict | None = None,
                 checkpoint: Path | None = None, checkpoint_every: int = 50,
                 style_std: Sequence[torch.Tensor] | None = None):
    """Train a LevelsMapper for ``text``; returns (mapper, final metrics).

    ``config.views`` / ``config.smooth`` make the CLIP term an expectation
    (``robust_clip``), drawn from a generator seeded by ``config.seed``;
    ``smooth`` needs ``style_std`` (per style layer, (C,)).

    With ``checkpoint``, the run saves its state (mapper, optimiser, step,
    random generator) there every ``checkpoint_every`` steps, atomically, and
    resumes from it when the file exists: an interrupted training continues
    where it stopped and ends with the same weights as an uninterrupted one.
    """
    from ...models.mapper import LevelsMapper

    # a saved state that cannot be resumed stops the training before any work (TrainingStateError)
    state = read_training_state(Path(checkpoint), text, config) \
        if checkpoint is not None and Path(checkpoint).exists() else None
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    mapper = LevelsMapper(style_dim=generator.config.style_dim, n_latent=generator.n_latent,
                          levels=tuple(config.levels), space=config.space)
    if init_state is not None:
        mapper.load_state_dict(init_state)
    device = next(generator.parameters()).device
    mapper.to(device).train()
    for p in generator.parameters():
        p.requires_grad_(False)
    text_emb = training_target(clip, text, config).to(device)
    mean = generator.mean_latent(seed=config.seed)
    opt = torch.optim.Adam(mapper.parameters(), lr=config.lr, betas=(0.9, 0.999))
    use_id = identity is not None and config.id_lambda > 0
    if config.views < 0 or config.smooth < 0:
        raise ValueError("views and smooth must be >= 0")
    if config.smooth and style_std is None:
        raise ValueError("smooth needs the per-channel style stds")
    robust = bool(config.views or config.smooth)
    aug = torch.Generator(device=device).manual_seed(config.seed + 1) if robust else None
    noise = StyleNoise(generator.layout, config.smooth, style_std, device) if config.smooth else None
    metrics: dict = {}
    start = 0
    if state is not None:
        try:
            mapper.load_state_dict(state["mapper"])
            opt.load_state_dict(state["optimizer"])
            gen.set_state(state["rng"])
            if aug is not None:
                aug.set_state(state["aug_rng"])
            start = int(state["step"])
        except Exception as exc:
            raise TrainingStateError(f"{checkpoint}: cannot resume from it ({exc.__class__.__name__}: "
                                     f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}); "
                                     "remove it to train from the start") from exc
    for step in range(start, config.steps):
        w = _sample_codes(generator, config.batch, gen, config.psi_min, mean)
        if extra_latents is not None and len(extra_latents):
            pick = torch.randint(len(extra_latents), (config.batch // 2,), generator=gen)
            w[: len(pick)] = extra_latents[pick].to(w)
        residual = 0.1 * mapper(w)
        if noise is None:
            image = generator(w + residual)
        else:
            styles = generator.styles(w + residual)
            image = generator.synthesize([x + n for x, n in zip(styles, noise.draw(len(w), [aug]))])
        emb = augmented_embedding(clip, image, config.views, [aug]) if config.views else clip.encode_images(image)
        clip_loss = (1.0 - emb @ text_emb).mean()
        l2 = (residual ** 2).mean()
        loss = config.clip_lambda * clip_loss + config.l2_lambda * l2
        if use_id:
            with torch.no_grad():
                ref = identity.embed(generator(w))
            id_loss = (1.0 - (identity.embed(image) * ref).sum(-1)).mean()
            loss = loss + config.id_lambda * id_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        metrics = {"loss": loss.item(), "clip": clip_loss.item(), "l2": l2.item()}
        if progress:
            progress(step + 1, config.steps, metrics)
        if checkpoint is not None and ((step + 1) % checkpoint_every == 0 or step + 1 == config.steps):
            _save_training_state(checkpoint, mapper, opt, gen, step + 1, text, config, aug)
        if should_stop and should_stop():
            break
    mapper.eval()
    return mapper, metrics
