"""Train toon-G: the project's StyleGAN2 generator at 64 px on toon faces.

Three phases, all plain regression (no discriminator):

- **Phase A, autoencoding, then face codes.** A small training-only conv
  encoder (``CodeNet``) maps a rendered face to ONE w (``style_dim``), which
  is broadcast to every W+ row; the generator's synthesis network
  reconstructs the face (L1 plus an L1 on image gradients, which keeps
  features sharp). Because every layer reads the same w, the generator's W
  space is the meaningful one. An autoencoder's code is free to drop what
  costs few pixels, and this one dropped expression and eye state; so the
  last stages replace CodeNet by ``FaceCode``, a fixed vector per attribute
  value and rule layout (plus a hue term), summed: the code now names every
  family, and the generator must learn to draw each.
- **Phase B, the mapping network.** ``mapping(z)`` is regressed onto the
  phase-A code of ``rule(z)``, where ``rule`` (``z_rule``) is a fixed
  function from z to attributes; no synthesis runs. A margin term
  (``FaceCode.margin_loss``) makes the mapping hit every family's value, not
  only those with large codes. Samples ``G(mapping(z))``
  then show faces whose attribute frequencies are those of the rule: every
  family uniform (argmax of iid normals), background hue uniform.
- **Phase C, samples.** Mapping and synthesis together: ``G(mapping(z))`` is
  pulled toward ``render(rule(z))`` pixel by pixel, and the frozen toon-CLIP
  must read the rule's attributes from it (``clip_guidance``).

The z rule (on the pixel-normalised z, as the mapping network sees it): the
first coordinates are cut into one slice per attribute family (6, 6, 5, 2, 3,
2, 4 values, in ``FAMILIES`` order) and each family takes the argmax of its
slice; the next ``n_nuisance`` coordinates pick one of ``n_nuisance`` fixed
nuisance seeds (head position, proportions, shirt colour) by argmax; the next
coordinate gives the background hue ``Phi(z_k)``. The other coordinates are
ignored by the rule.

Training runs in float32 (this machine's CPUs have no AMX/avx512_bf16, and
bf16 convolutions measured 3-4x slower than float32 there) with channels_last
feature maps, the generator's fast shared-weight modulated convolution,
warm-up, cosine decay and gradient clipping. Runs checkpoint every ``ckpt_every`` steps into a work folder and
resume from there; the curves go to CSV files beside the checkpoints.

Run as ``python -m styleclip_zoo.toon.train_generator --work DIR``.
"""
from __future__ import annotations

from styleclip_runtime.modelsets.registry import BUILTIN_DIR  # the shipped sets: runtime/modelsets/

import argparse
import csv
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from styleclip_runtime.models.stylegan2 import Generator, GeneratorConfig
from .attributes import FAMILIES, Attributes
from .detail_mask import detail_weights
from .pool import RenderPool
from .renderer import render_batch

TOON_G_CONFIG = GeneratorConfig(size=64, style_dim=128, n_mlp=8, channel_multiplier=0.25, channel_max=128,
                                lr_mlp=1.0)
NUISANCE_BASE = 7_000  # the fixed nuisance seeds are NUISANCE_BASE + k


@dataclass(frozen=True)
class GeneratorTraining:
    """Hyper-parameters of the three phases (the defaults are the shipped run).

    Phase A grows the output resolution: ``stages`` lists (resolution, steps);
    at resolution r the loss compares the generator's skip image at r px
    (the sum of the toRGB outputs up to r) with the target average-pooled to
    r px, so the layers above r cost nothing yet. From the stage
    ``rule_layouts_stage`` on it trains only on the z rule's layouts, at peak
    lr ``lr_rule``, with ``detail_weight`` on the pixels expression and eyes
    change. From the stage ``face_code_stage`` on (every stage after it
    too), the decoded code is ``FaceCode``'s instead of CodeNet's.
    """

    seed: int = 0
    batch: int = 16
    batch_64: int = 8  # the full-resolution stage: twice the updates for the same time
    pool_size: int = 2_000
    refresh_every: int = 10
    refresh_count: int = 64
    stages: tuple[tuple[int, int], ...] = ((16, 150), (32, 120), (64, 4720), (64, 4000),
                                          (64, 3000), (64, 3000), (64, 3000), (64, 3000), (64, 3000))
    lr_a: float = 2e-3
    warmup_a: int = 50
    grad_weight: float = 1.0
    clip_norm: float = 1.0
    steps_b: int = 60_000
    batch_b: int = 512
    lr_b: float = 2e-3
    n_pairs_b: int = 60_000
    n_val_b: int = 2_000
    margin_weight_b: float = 0.03  # weight of ``FaceCode.margin_loss`` in phase B (face-code runs)
    margin_sharpness_b: float = 4.0
    n_nuisance: int = 8
    rule_layouts_stage: int | None = 3  # from this phase-A stage (index into stages) on, only the rule's layouts
    lr_rule: float | None = 1e-3  # the peak learning rate of those steps (None: lr_a)
    detail_weight: float = 8.0  # extra loss weight on eyes, brows and mouth (``detail_mask``) at 64 px
    face_code_stage: int | None = 4  # from this phase-A stage on, w is the face code of the rule (``FaceCode``)
    lr_face: float = 3e-3  # peak learning rate of the face-code table in that stage
    n_fit_face: int = 4_000  # rule renders whose CodeNet codes initialise the face-code table
    steps_c: int = 3_000
    batch_c: int = 8
    lr_c: float = 5e-4
    clip_weight_c: float = 0.5  # toon-CLIP zero-shot attribute loss on phase-C samples (``clip_guidance``)
    ckpt_every: int = 50
    sample_every: int = 50

    def __post_init__(self) -> None:
        for name in ("rule_layouts_stage", "face_code_stage"):
            index = getattr(self, name)
            if index is not None and not 0 <= index < len(self.stages):
                raise ValueError(f"{name}={index} names no stage of {self.stages}")

    @property
    def steps_a(self) -> int:
        return sum(n for _, n in self.stages)

    @property
    def rule_layouts_from(self) -> int | None:
        """The first phase-A step of stage ``rule_layouts_stage`` (None: never)."""
        if self.rule_layouts_stage is None:
            return None
        return sum(n for _, n in self.stages[:self.rule_layouts_stage])

    @property
    def face_code_from(self) -> int | None:
        """The first phase-A step of stage ``face_code_stage`` (None: never)."""
        if self.face_code_stage is None:
            return None
        return sum(n for _, n in self.stages[:self.face_code_stage])

    def in_face_codes(self, step: int) -> bool:
        """Whether phase-A step ``step`` decodes the face code instead of CodeNet's code."""
        first = self.face_code_from
        return first is not None and step >= first

    def in_rule_layouts(self, step: int) -> bool:
        """Whether phase-A step ``step`` trains on the rule's layouts only."""
        first = self.rule_layouts_from
        return (first is not None and step >= first) or self.in_face_codes(step)

    def stage_at(self, step: int) -> tuple[int, int, int]:
        """(resolution, first step, last step + 1) of the stage containing ``step``."""
        first = 0
        for res, n in self.stages:
            if step < first + n:
                return res, first, first + n
            first += n
        res, n = self.stages[-1]
        return res, first - n, first


# ---------------------------------------------------------------- z rule
def rule_slices(n_nuisance: int) -> dict[str, slice]:
    """Which z coordinates each family (and "nuisance", "background") reads."""
    out, start = {}, 0
    for family, values in FAMILIES.items():
        out[family] = slice(start, start + len(values))
        start += len(values)
    out["nuisance"] = slice(start, start + n_nuisance)
    out["background"] = slice(start + n_nuisance, start + n_nuisance + 1)
    return out


def z_rule(z: torch.Tensor, n_nuisance: int = 8) -> tuple[list[Attributes], list[int]]:
    """The attributes and nuisance seed the shipped toon-G draws for each z.

    ``z`` is (B, style_dim); it is pixel-normalised first (as ``mapping`` does).
    """
    z = z.float()
    z = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)
    sl = rule_slices(n_nuisance)
    if sl["background"].stop > z.shape[1]:
        raise ValueError(f"the rule needs {sl['background'].stop} z coordinates, got {z.shape[1]}")
    picks = {f: z[:, sl[f]].argmax(1).tolist() for f in FAMILIES}
    nuisance = z[:, sl["nuisance"]].argmax(1).tolist()
    hue = (0.5 * (1 + torch.erf(z[:, sl["background"]][:, 0] / math.sqrt(2)))).clamp(0, 1 - 1e-6).tolist()
    attrs = [Attributes(**{f: FAMILIES[f][picks[f][i]] for f in FAMILIES}, background=float(hue[i]))
             for i in range(z.shape[0])]
    seeds = rule_nuisance_seeds(n_nuisance)
    return attrs, [seeds[k] for k in nuisance]


def rule_nuisance_seeds(n_nuisance: int = 8) -> tuple[int, ...]:
    """The fixed nuisance seeds (layouts) the z rule picks from."""
    return tuple(NUISANCE_BASE + k for k in range(n_nuisance))


def z_for(attrs: list[Attributes], layouts: list[int], generator: torch.Generator | None = None,
          n_nuisance: int = 8, style_dim: int = 128) -> torch.Tensor:
    """The rule's inverse: a random z for each face that ``z_rule`` maps to ``attrs[i]``
    in rule layout ``layouts[i]`` (an index into ``rule_nuisance_seeds``).

    Each family's chosen coordinate is raised above the rest of its slice;
    the background coordinate is solved so that, after pixel normalisation,
    ``Phi(z_k)`` is the face's hue.
    """
    sl = rule_slices(n_nuisance)
    z = torch.randn(len(attrs), style_dim, generator=generator)
    for i, a in enumerate(attrs):
        picks = {f: a.index(f) for f in FAMILIES} | {"nuisance": int(layouts[i])}
        for key, k in picks.items():
            part = z[i, sl[key]]
            part[k] = part.abs().max() + 0.5
        b = sl["background"].start
        q = torch.tensor(min(max(a.background, 1e-4), 1 - 1e-4), dtype=torch.float64)
        target = float(math.sqrt(2) * torch.erfinv(2 * q - 1))
        rest = float(z[i].square().sum() - z[i, b].square())
        z[i, b] = target * math.sqrt(rest / (style_dim - target**2))
    return z


# ------------------------------------------------------- phase-A encoder
class CodeNet(nn.Module):
    """Training-only encoder: a 64 px face in [-1, 1] -> one w (B, style_dim)."""

    def __init__(self, style_dim: int = 128, widths: tuple[int, ...] = (32, 64, 128, 128)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(cin, w, 3, 2, 1), nn.LeakyReLU(0.2)]
            if i < len(widths) - 1:
                layers += [nn.Conv2d(w, w, 3, 1, 1), nn.LeakyReLU(0.2)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(cin * 4 * 4, 256), nn.LeakyReLU(0.2),
                                  nn.Linear(256, style_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).float()


class FaceCode(nn.Module):
    """Training-only code of a rule face: w = linear(features), where the
    features are one indicator per attribute value (28), one per rule layout
    (``n_nuisance``) and the background hue's first three Fourier pairs.

    It is a table of one vector per attribute value and layout (plus a hue
    term) that are summed, so every family has its own fixed direction in W
    and the generator cannot drop a family the way an autoencoder's code
    can. ``fit`` initialises it by least squares on codes that already decode
    to faces (CodeNet's).
    """

    n_hue: int = 3

    def __init__(self, style_dim: int = 128, n_nuisance: int = 8) -> None:
        super().__init__()
        self.layouts = rule_nuisance_seeds(n_nuisance)
        self.n_values = sum(len(v) for v in FAMILIES.values())
        self.linear = nn.Linear(self.n_values + len(self.layouts) + 2 * self.n_hue, style_dim)

    def features(self, attrs: list[Attributes], seeds: list[int]) -> torch.Tensor:
        """(B, n_features): the indicators and hue terms of each face (``seeds``: rule layouts)."""
        out = torch.zeros(len(attrs), self.linear.in_features)
        hue = torch.tensor([a.background for a in attrs], dtype=torch.float32)
        blocks = self.family_blocks()
        for i, (a, seed) in enumerate(zip(attrs, seeds)):
            for family, block in zip(FAMILIES, blocks):
                out[i, block.start + a.index(family)] = 1.0
            out[i, self.n_values + self.layouts.index(int(seed))] = 1.0
        k = torch.arange(1, self.n_hue + 1, dtype=torch.float32)
        angle = 2 * math.pi * hue[:, None] * k[None]
        out[:, -2 * self.n_hue:] = torch.cat([angle.cos(), angle.sin()], 1)
        return out

    def forward(self, attrs: list[Attributes], seeds: list[int]) -> torch.Tensor:
        return self.linear(self.features(attrs, seeds))

    def family_blocks(self) -> list[slice]:
        """The columns of each family's indicators in ``features`` (``FAMILIES`` order)."""
        blocks, offset = [], 0
        for values in FAMILIES.values():
            blocks.append(slice(offset, offset + len(values)))
            offset += len(values)
        return blocks

    def margin_loss(self, error: torch.Tensor, features: torch.Tensor, sharpness: float = 4.0) -> torch.Tensor:
        """How far codes ``target + error`` stray toward another value of a family.

        For each family and each other value v, the code of the same face with
        v instead of the target's value t lies ``d = W_v - W_t`` away; the code
        is nearer the target's than v's while ``e.d < |d|^2 / 2``. The loss is
        the cross-entropy of the target value against the logits
        ``sharpness * (2 e.d / |d|^2 - 1)`` (0 for t), averaged over the
        families. Each family counts the same whatever its share of the
        code's norm, unlike the plain squared error, in which the small
        footprints (expression, hair colour) hardly register. The table is
        not trained by it.
        """
        per_family = self._family_logits(error, features, sharpness)
        return sum(F.cross_entropy(logits, target) for logits, target in per_family) / len(per_family)

    @torch.no_grad()
    def family_accuracy(self, error: torch.Tensor, features: torch.Tensor) -> list[float]:
        """Per family, the share of codes ``target + error`` that lie nearer the
        target's code than the code of any other value of that family."""
        return [float((logits.argmax(1) == target).float().mean())
                for logits, target in self._family_logits(error, features, 1.0)]

    def _family_logits(self, error: torch.Tensor, features: torch.Tensor,
                       sharpness: float) -> list[tuple[torch.Tensor, torch.Tensor]]:
        table = self.linear.weight.detach()  # (style_dim, n_features)
        along = error @ table  # e . W_v
        gram = table.T @ table
        out = []
        for block in self.family_blocks():
            target = features[:, block].argmax(1) + block.start
            e_d = along[:, block] - along.gather(1, target[:, None])
            d_d = gram.diagonal()[block][None] - 2 * gram[target][:, block] + gram[target, target][:, None]
            logits = sharpness * (2 * e_d / d_d.clamp_min(1e-8) - 1)
            is_target = torch.arange(block.start, block.stop)[None] == target[:, None]
            out.append((torch.where(is_target, torch.zeros_like(logits), logits), target - block.start))
        return out

    @torch.no_grad()
    def fit(self, attrs: list[Attributes], seeds: list[int], codes: torch.Tensor) -> float:
        """Least-squares weights that map these faces' features to ``codes``;
        returns the share of the codes' variance explained."""
        a = torch.cat([self.features(attrs, seeds), torch.ones(len(attrs), 1)], 1).double()
        solution = torch.linalg.lstsq(a, codes.double()).solution
        self.linear.weight.copy_(solution[:-1].T.float())
        self.linear.bias.copy_(solution[-1].float())
        residual = (a @ solution - codes.double()).square().mean()
        return float(1 - residual / codes.double().var(0).mean())


def synthesize_to(gen: Generator, w: torch.Tensor, resolution: int) -> torch.Tensor:
    """The generator's skip image at ``resolution`` px (const noise): the full
    image at ``gen.size``, and the partial sum of toRGB outputs below it."""
    if resolution >= gen.size:
        return gen(w, noise_mode="const")
    styles = gen.styles(w)
    noise = gen.noise_inputs(w.shape[0], "const")
    x = gen.conv1(gen.input(w.shape[0]), styles[0], noise[0])
    skip = gen.to_rgb1(x, styles[1])
    res = 4
    for k in range(len(gen.to_rgbs)):
        if res >= resolution:
            break
        x = gen.convs[2 * k](x, styles[3 * k + 2], noise[2 * k + 1])
        x = gen.convs[2 * k + 1](x, styles[3 * k + 3], noise[2 * k + 2])
        skip = gen.to_rgbs[k](x, styles[3 * k + 4], skip)
        res *= 2
    return skip


# ---------------------------------------------------------------- helpers
def image_loss(fake: torch.Tensor, real: torch.Tensor, grad_weight: float,
               weight: torch.Tensor | None = None) -> torch.Tensor:
    """L1 + ``grad_weight`` * L1 between the horizontal and vertical differences.

    ``weight`` (B, 1, H, W), optional: per-pixel weights of both terms.
    """
    fake, real = fake.float(), real.float()
    w = torch.ones_like(fake[:, :1]) if weight is None else weight.to(fake.device, torch.float32)
    loss = ((fake - real).abs() * w).mean()
    if grad_weight > 0:
        dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
        dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
        loss = loss + grad_weight * (((dx(fake) - dx(real)).abs() * w[..., :, 1:]).mean()
                                     + ((dy(fake) - dy(real)).abs() * w[..., 1:, :]).mean())
    return loss


def lr_at(step: int, total: int, base: float, warmup: int, first: int = 0) -> float:
    """Linear warm-up, then cosine decay to 10% of ``base``, over steps [first, total)."""
    step, total = step - first, total - first
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def _channels_last(gen: Generator) -> None:
    """Keep the constant input channels_last so every feature map follows (faster convs on CPU)."""
    gen.input.input.data = gen.input.input.data.contiguous(memory_format=torch.channels_last)


def new_generator(seed: int, config: GeneratorConfig = TOON_G_CONFIG) -> Generator:
    torch.manual_seed(seed)
    return Generator.from_config(config).set_impl("fast")


def load_synthesis(gen: Generator, state: dict[str, torch.Tensor]) -> None:
    """Load every weight but the mapping network's (``style.*``), which phase A
    does not train, so a phase-A checkpoint serves any mapping depth."""
    synthesis = {k: v for k, v in state.items() if not k.startswith("style.")}
    missing, unexpected = gen.load_state_dict(synthesis, strict=False)
    wrong = [k for k in missing if not k.startswith("style.")] + list(unexpected)
    if wrong:
        raise KeyError(f"phase-A checkpoint does not fit the generator: {wrong[:5]}")


class CurveLog:
    """Append rows to a CSV file (header written once)."""

    def __init__(self, path: Path, fields: list[str]) -> None:
        self.path, self.fields = path, fields
        if not path.exists():
            with path.open("w", newline="") as f:
                csv.writer(f).writerow(fields)

    def write(self, **row: float) -> None:
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([row.get(k, "") for k in self.fields])


def _save(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(payload, str(tmp))
    tmp.replace(path)


def _load(path: Path) -> dict | None:
    return torch.load(str(path), map_location="cpu", weights_only=True) if path.exists() else None


def _resume(path: Path, opt: torch.optim.Optimizer, restore: Callable[[dict], None],
            log: Callable[[str], None], phase: str) -> int:
    """Load a phase's checkpoint if there is one (``restore`` takes its modules,
    the optimiser state follows); returns the step to start from."""
    ckpt = _load(path)
    if ckpt is None:
        return 0
    restore(ckpt)
    opt.load_state_dict(ckpt["opt"])
    start = int(ckpt["step"])
    log(f"{phase}: resuming at step {start}")
    return start


def to_signed(x01: torch.Tensor) -> torch.Tensor:
    return x01 * 2 - 1


# ---------------------------------------------------------------- phase A
@dataclass
class PhaseA:
    """What phase A trains: the generator, CodeNet and the face-code table."""

    gen: Generator
    enc: CodeNet
    face: FaceCode

    def code(self, step: int, cfg: GeneratorTraining, x: torch.Tensor, attrs: list[Attributes],
             seeds: list[int]) -> torch.Tensor:
        """The w that phase-A step ``step`` decodes for these renders."""
        return self.face(attrs, seeds) if cfg.in_face_codes(step) else self.enc(x)

    def optimizer(self, step: int, cfg: GeneratorTraining) -> torch.optim.Adam:
        """Adam over what step ``step`` trains: synthesis + CodeNet, or, in the
        face-code stage (a fresh optimiser), synthesis + the face-code table."""
        synthesis = [p for n, p in self.gen.named_parameters() if not n.startswith("style.")]
        if cfg.in_face_codes(step):
            groups = [{"params": synthesis, "peak": cfg.lr_rule or cfg.lr_a},
                      {"params": list(self.face.parameters()), "peak": cfg.lr_face}]
        else:
            groups = [{"params": synthesis + list(self.enc.parameters()), "peak": cfg.lr_a}]
        return torch.optim.Adam(groups, lr=cfg.lr_a, betas=(0.9, 0.99))


def fit_face_code(model: PhaseA, cfg: GeneratorTraining, log: Callable[[str], None]) -> None:
    """Initialise the face-code table by least squares on CodeNet's codes of
    ``cfg.n_fit_face`` rule-layout renders, so the stage starts from faces."""
    pool = RenderPool(cfg.n_fit_face, np.random.default_rng([cfg.seed, 0xFC]),
                      nuisance_seeds=rule_nuisance_seeds(cfg.n_nuisance))
    assert pool.images is not None
    model.enc.eval()
    with torch.no_grad():
        codes = torch.cat([model.enc(to_signed(pool.images[i:i + 500].float() / 255.0))
                           for i in range(0, cfg.n_fit_face, 500)])
    explained = model.face.fit(pool.attrs, pool.seeds, codes)
    log(f"phase A: face codes fitted to CodeNet's codes of {cfg.n_fit_face} renders "
        f"({100 * explained:.0f} % of their variance)")


def train_phase_a(work: Path, cfg: GeneratorTraining, log: Callable[[str], None] = print,
                  sample_hook: Callable[[PhaseA, int], None] | None = None) -> PhaseA:
    """Autoencode renders through ``CodeNet`` and the synthesis network, then
    (stage ``face_code_stage`` on) decode ``FaceCode`` instead; resumes from
    ``work/phase_a.pt``."""
    work.mkdir(parents=True, exist_ok=True)
    model = PhaseA(new_generator(cfg.seed), CodeNet(TOON_G_CONFIG.style_dim),
                   FaceCode(TOON_G_CONFIG.style_dim, cfg.n_nuisance))
    model.enc = model.enc.to(memory_format=torch.channels_last)
    gen = model.gen
    ckpt = _load(work / "phase_a.pt")
    start = 0 if ckpt is None else int(ckpt["step"])
    if ckpt is not None:
        load_synthesis(gen, ckpt["gen"])
        model.enc.load_state_dict(ckpt["enc"])
        if "face" in ckpt:
            model.face.load_state_dict(ckpt["face"])
        log(f"phase A: resuming at step {start}")
    opt = model.optimizer(start, cfg)
    if ckpt is not None and start != cfg.face_code_from:  # at that step the stage's fresh optimiser starts
        opt.load_state_dict(ckpt["opt"])
    _channels_last(gen)
    if start >= cfg.steps_a:
        return _eval(model)
    def make_pool(at: int) -> RenderPool:
        seeds = rule_nuisance_seeds(cfg.n_nuisance) if cfg.in_rule_layouts(at) else None
        return RenderPool(cfg.pool_size, np.random.default_rng([cfg.seed, 0xA, at]), nuisance_seeds=seeds)

    pool = make_pool(start)
    torch.manual_seed(cfg.seed * 1_000 + start)
    curve = CurveLog(work / "phase_a.csv", ["step", "res", "loss", "l1", "lr", "seconds"])
    gen.train(), model.enc.train()
    t0 = time.time()
    for step in range(start, cfg.steps_a):
        res, first, last = cfg.stage_at(step)
        if step == cfg.face_code_from:
            fit_face_code(model, cfg, log)
            if step > start:
                opt = model.optimizer(step, cfg)
        if not cfg.in_face_codes(step):
            use_rule_lr = cfg.in_rule_layouts(step) and cfg.lr_rule is not None
            opt.param_groups[0]["peak"] = cfg.lr_rule if use_rule_lr else cfg.lr_a
        for group in opt.param_groups:
            group["lr"] = lr_at(step, last, group["peak"], cfg.warmup_a, first)
        lr = opt.param_groups[0]["lr"]
        if step in (cfg.rule_layouts_from, cfg.face_code_from) and step > start:
            pool = make_pool(step)
        elif step % cfg.refresh_every == 0 and step > start:
            pool.refresh(cfg.refresh_count)
        x01, attrs, seeds = pool.sample_with_seeds(cfg.batch_64 if res >= gen.size else cfg.batch)
        x = to_signed(x01).contiguous(memory_format=torch.channels_last)
        target = F.avg_pool2d(x, x.shape[-1] // res) if res < x.shape[-1] else x
        fake = synthesize_to(gen, model.code(step, cfg, x, attrs, seeds), res)
        weight = detail_weights(seeds, res, cfg.detail_weight) if cfg.detail_weight > 0 and res >= gen.size else None
        loss = image_loss(fake, target, cfg.grad_weight, weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], cfg.clip_norm)
        opt.step()
        if step % 10 == 0 or step == cfg.steps_a - 1:
            l1 = float((fake.detach().float() - target).abs().mean())
            curve.write(step=step, res=res, loss=float(loss.detach()), l1=l1, lr=lr, seconds=round(time.time() - t0, 1))
            log(f"phase A step {step} res {res} loss {float(loss.detach()):.4f} l1 {l1:.4f} lr {lr:.2e} {time.time() - t0:.0f}s")
        done = step + 1
        if done % cfg.ckpt_every == 0 or done == cfg.steps_a:
            payload = {"gen": gen.state_dict(), "enc": model.enc.state_dict(), "opt": opt.state_dict(), "step": done}
            if cfg.in_face_codes(step):
                payload["face"] = model.face.state_dict()
            _save(work / "phase_a.pt", payload)
        if sample_hook is not None and (done % cfg.sample_every == 0 or done == cfg.steps_a):
            sample_hook(model, done)
    return _eval(model)


def _eval(model: PhaseA) -> PhaseA:
    model.gen.eval(), model.enc.eval(), model.face.eval()
    return model


# ---------------------------------------------------------------- phase B
@torch.no_grad()
def rule_pairs(model: PhaseA, n: int, cfg: GeneratorTraining,
               seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``n`` triples (z, phase-A code of the face ``z_rule(z)``, its ``FaceCode``
    features): the face code when phase A ends in the face-code stage, else
    CodeNet's code of its render (and no features)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, TOON_G_CONFIG.style_dim, generator=g)
    ws, xs = [], []
    model.enc.eval(), model.face.eval()
    for i in range(0, n, 500):
        attrs, seeds = z_rule(z[i:i + 500], cfg.n_nuisance)
        if cfg.face_code_stage is not None:
            ws.append(model.face(attrs, seeds).float())
            xs.append(model.face.features(attrs, seeds))
        else:
            img = torch.from_numpy(render_batch(attrs, seeds)).permute(0, 3, 1, 2).float() / 255.0
            ws.append(model.enc(to_signed(img)).float())
    return z, torch.cat(ws), (torch.cat(xs) if xs else None)


def train_phase_b(model: PhaseA, work: Path, cfg: GeneratorTraining,
                  log: Callable[[str], None] = print) -> Generator:
    """Regress ``gen.mapping(z)`` onto the phase-A codes of the rule's faces (no
    synthesis). On face codes the loss adds ``cfg.margin_weight_b`` times
    ``FaceCode.margin_loss``, so every family's value is hit, not only the
    ones with large codes; the curve logs the validation share per family
    (``FaceCode.family_accuracy``)."""
    gen = model.gen
    path = work / "phase_b.pt"
    ckpt = _load(path)
    if ckpt is not None and int(ckpt["step"]) >= cfg.steps_b:
        gen.style.load_state_dict(ckpt["style"])
        return gen
    t0 = time.time()
    z, w, x = rule_pairs(model, cfg.n_pairs_b, cfg, seed=cfg.seed * 7 + 11)
    zv, wv, xv = rule_pairs(model, cfg.n_val_b, cfg, seed=cfg.seed * 7 + 12)
    margin = x is not None and cfg.margin_weight_b > 0
    log(f"phase B: {len(z)} training pairs in {time.time() - t0:.0f}s")
    curve = CurveLog(work / "phase_b.csv", ["step", "mse", "val_mse", "val_family_accuracy", "lr", "seconds"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is several times faster on a busy machine
    opt = torch.optim.Adam(gen.style.parameters(), lr=cfg.lr_b, betas=(0.9, 0.99))
    g = torch.Generator().manual_seed(cfg.seed * 7 + 13)
    gen.style.train()
    for step in range(cfg.steps_b):
        lr = lr_at(step, cfg.steps_b, cfg.lr_b, 100)
        for group in opt.param_groups:
            group["lr"] = lr
        idx = torch.randint(0, len(z), (cfg.batch_b,), generator=g)
        error = gen.mapping(z[idx]) - w[idx]
        mse = error.square().mean()
        loss = mse
        if margin:
            loss = loss + cfg.margin_weight_b * model.face.margin_loss(error, x[idx], cfg.margin_sharpness_b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 1000 == 0 or step == cfg.steps_b - 1:
            with torch.no_grad():
                val_error = gen.mapping(zv) - wv
            val = float(val_error.square().mean())
            accuracy = " ".join(f"{a:.3f}" for a in model.face.family_accuracy(val_error, xv)) if xv is not None else ""
            curve.write(step=step, mse=float(mse.detach()), val_mse=val, val_family_accuracy=accuracy, lr=lr,
                        seconds=round(time.time() - t0, 1))
            log(f"phase B step {step} mse {float(mse.detach()):.4f} val {val:.4f} families {accuracy}")
    torch.set_num_threads(threads)
    gen.style.eval()
    _save(path, {"style": gen.style.state_dict(), "step": cfg.steps_b})
    return gen


# ---------------------------------------------------------------- phase C
def train_phase_c(gen: Generator, work: Path, cfg: GeneratorTraining,
                  log: Callable[[str], None] = print, clip: torch.nn.Module | None = None) -> Generator:
    """Fine-tune mapping and synthesis together so that a sample ``G(mapping(z))``
    reproduces ``render(z_rule(z))`` itself (phase B only matched codes; this
    matches pixels, which sharpens the small features: eyes, mouths).
    With ``cfg.clip_weight_c > 0`` and a toon-CLIP ``clip``, toon-CLIP must also
    read the rule's attributes from the sample (``CLIPAttributeLoss``).
    Fresh rule faces every step; resumes from ``work/phase_c.pt``."""
    if cfg.steps_c <= 0:
        return gen
    teacher = None
    if cfg.clip_weight_c > 0:
        if clip is None:
            raise ValueError("phase C with clip_weight_c > 0 needs the toon-CLIP model")
        from .clip_guidance import CLIPAttributeLoss

        teacher = CLIPAttributeLoss(clip)
    path = work / "phase_c.pt"
    params = list(gen.parameters())
    opt = torch.optim.Adam(params, lr=cfg.lr_c, betas=(0.9, 0.99))
    start = _resume(path, opt, lambda ckpt: gen.load_state_dict(ckpt["gen"]), log, "phase C")
    _channels_last(gen)
    if start >= cfg.steps_c:
        return gen.eval()
    g = torch.Generator().manual_seed(cfg.seed * 7 + 17 + start)
    curve = CurveLog(work / "phase_c.csv", ["step", "loss", "l1", "clip", "lr", "seconds"])
    gen.train()
    t0 = time.time()
    for step in range(start, cfg.steps_c):
        lr = lr_at(step, cfg.steps_c, cfg.lr_c, 50)
        for group in opt.param_groups:
            group["lr"] = lr
        z = torch.randn(cfg.batch_c, TOON_G_CONFIG.style_dim, generator=g)
        attrs, seeds = z_rule(z, cfg.n_nuisance)
        target = to_signed(torch.from_numpy(render_batch(attrs, seeds)).permute(0, 3, 1, 2).float() / 255.0)
        fake = gen(gen.mapping(z), noise_mode="const")
        weight = detail_weights(seeds, gen.size, cfg.detail_weight) if cfg.detail_weight > 0 else None
        loss = image_loss(fake, target.contiguous(memory_format=torch.channels_last), cfg.grad_weight, weight)
        clip_l = teacher(fake, attrs) if teacher is not None else torch.zeros(())
        loss = loss + cfg.clip_weight_c * clip_l
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.clip_norm)
        opt.step()
        if step % 10 == 0 or step == cfg.steps_c - 1:
            l1 = float((fake.detach().float() - target).abs().mean())
            curve.write(step=step, loss=float(loss.detach()), l1=l1, clip=float(clip_l.detach()), lr=lr,
                        seconds=round(time.time() - t0, 1))
            log(f"phase C step {step} loss {float(loss.detach()):.4f} l1 {l1:.4f} clip {float(clip_l.detach()):.3f} "
                f"lr {lr:.2e} {time.time() - t0:.0f}s")
        done = step + 1
        if done % cfg.ckpt_every == 0 or done == cfg.steps_c:
            _save(path, {"gen": gen.state_dict(), "opt": opt.state_dict(), "step": done})
    return gen.eval()


# ------------------------------------------------------------------ all
def train_generator(work: Path, cfg: GeneratorTraining = GeneratorTraining(),
                    log: Callable[[str], None] = print, clip: torch.nn.Module | None = None) -> Generator:
    """All phases; returns the trained generator (float32, eval mode). ``clip``:
    the toon-CLIP model phase C learns from when ``cfg.clip_weight_c > 0``."""
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = train_phase_a(Path(work), cfg, log, sample_hook=_grid_hook(Path(work), cfg))
    gen = train_phase_b(model, Path(work), cfg, log)
    gen = train_phase_c(gen, Path(work), cfg, log, clip)
    return gen.eval()


def continue_phase_c(generator_path: Path, work: Path, cfg: GeneratorTraining,
                     log: Callable[[str], None] = print, clip: torch.nn.Module | None = None) -> Generator:
    """Phase C again, from a finished generator (float32 copy of a shipped fp16 file): more steps of
    samples against their renders, a fresh optimiser and its own warm-up and decay. Phases A and B are
    not needed: the mapping already names the rule's attributes."""
    from styleclip_runtime.models.checkpoints import load_generator_checkpoint

    torch.set_num_threads(max(1, torch.get_num_threads()))
    gen, _ = load_generator_checkpoint(generator_path, config=TOON_G_CONFIG)
    return train_phase_c(gen, Path(work), cfg, log, clip).eval()


@torch.no_grad()
def fit_face_code_to_mapping(gen: Generator, face: FaceCode, n: int = 20_000, seed: int = 0,
                             n_nuisance: int = 8) -> float:
    """Initialise ``face`` by least squares on a finished generator's
    ``mapping(z)`` against the features of ``z_rule(z)``: phase B regressed the
    mapping onto the face codes, so its codes recover the table that phase A
    ended with (the shipped files keep no phase-A checkpoint). Returns the
    share of the codes' variance explained."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, TOON_G_CONFIG.style_dim, generator=g)
    attrs, seeds = z_rule(z, n_nuisance)
    codes = torch.cat([gen.mapping(z[i:i + 2_000]).float() for i in range(0, n, 2_000)])
    return face.fit(attrs, seeds, codes)


def seed_phase_a(generator_path: Path, work: Path, cfg: GeneratorTraining, done_steps: int,
                 log: Callable[[str], None] = print) -> None:
    """Write ``work/phase_a.pt`` as if phase A had run its first ``done_steps``
    steps and produced this finished generator's synthesis network, with the
    face-code table fitted to its mapping (``fit_face_code_to_mapping``), so
    ``train_generator`` goes on with the stages after them (more face-code
    stages), then phases B and C from their start. ``done_steps`` must end a
    face-code stage of ``cfg.stages``."""
    from styleclip_runtime.models.checkpoints import load_generator_checkpoint

    face_from = cfg.face_code_from
    ends = {sum(n for _, n in cfg.stages[:k + 1]) for k in range(len(cfg.stages))}
    if face_from is None or done_steps <= face_from or done_steps not in ends or done_steps >= cfg.steps_a:
        raise ValueError(f"{done_steps} steps must end a face-code stage before the last of {cfg.stages}")
    gen, _ = load_generator_checkpoint(generator_path, config=TOON_G_CONFIG)
    gen = gen.float()
    face = FaceCode(TOON_G_CONFIG.style_dim, cfg.n_nuisance)
    explained = fit_face_code_to_mapping(gen, face, seed=cfg.seed, n_nuisance=cfg.n_nuisance)
    log(f"phase A: face codes fitted to {generator_path.name}'s mapping ({100 * explained:.0f} % of its variance)")
    model = PhaseA(gen, CodeNet(TOON_G_CONFIG.style_dim), face)
    opt = model.optimizer(done_steps, cfg)  # a fresh Adam, as at every stage's start
    work.mkdir(parents=True, exist_ok=True)
    _save(work / "phase_a.pt", {"gen": gen.state_dict(), "enc": model.enc.state_dict(), "face": face.state_dict(),
                                "opt": opt.state_dict(), "step": done_steps})


def _grid_hook(work: Path, cfg: GeneratorTraining) -> Callable[[PhaseA, int], None]:
    from .evaluate_generator import save_grid

    fixed = RenderPool(16, np.random.default_rng(123), nuisance_seeds=rule_nuisance_seeds(cfg.n_nuisance))

    @torch.no_grad()
    def hook(model: PhaseA, step: int) -> None:
        assert fixed.images is not None
        x = to_signed(fixed.images.float() / 255.0)
        res = cfg.stage_at(step - 1)[0]
        w = model.code(step - 1, cfg, x, fixed.attrs, fixed.seeds)
        rec = F.interpolate(synthesize_to(model.gen, w, res), size=64, mode="nearest")
        save_grid(torch.cat([x, rec]), work / f"phase_a_{step:05d}.png", nrow=16)

    return hook


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps-b", type=int, default=GeneratorTraining.steps_b)
    p.add_argument("--out", type=Path, default=None, help="write the fp16 generator.safetensors here")
    p.add_argument("--clip", type=Path, default=BUILTIN_DIR / "toon",
                   help="folder of the toon-CLIP that teaches phase C (default: the shipped one)")
    p.add_argument("--continue-c", type=Path, default=None, metavar="GENERATOR",
                   help="skip phases A and B: run phase C again from this generator.safetensors (e.g. the "
                        "shipped one), with --steps-c, --lr-c and --clip-weight-c")
    p.add_argument("--continue-a", type=Path, default=None, metavar="GENERATOR",
                   help="go on from this finished generator.safetensors with --more-face-stages more phase-A "
                        "face-code stages (its synthesis network, the face codes fitted to its mapping), "
                        "then phases B and C from their start")
    p.add_argument("--more-face-stages", type=int, default=3,
                   help="with --continue-a: how many more 3,000-step face-code stages")
    p.add_argument("--steps-c", type=int, default=GeneratorTraining.steps_c)
    p.add_argument("--lr-c", type=float, default=GeneratorTraining.lr_c)
    p.add_argument("--clip-weight-c", type=float, default=GeneratorTraining.clip_weight_c)
    args = p.parse_args(argv)
    cfg = GeneratorTraining(seed=args.seed, steps_b=args.steps_b, steps_c=args.steps_c, lr_c=args.lr_c,
                            clip_weight_c=args.clip_weight_c)
    if args.continue_a is not None and args.continue_c is not None:
        p.error("--continue-a and --continue-c exclude each other")
    shipped_steps = cfg.steps_a
    if args.continue_a is not None:
        cfg = replace(cfg, stages=cfg.stages + ((64, 3000),) * args.more_face_stages)
    (args.work).mkdir(parents=True, exist_ok=True)
    (args.work / "config.json").write_text(str(asdict(cfg) | {"continue_c": str(args.continue_c or ""),
                                                              "continue_a": str(args.continue_a or "")}))
    if args.continue_a is not None and not (args.work / "phase_a.pt").exists():
        seed_phase_a(args.continue_a, args.work, cfg, shipped_steps)
    from .clip import load_clip

    clip = load_clip(args.clip) if cfg.clip_weight_c > 0 else None
    if args.continue_c is not None:
        gen = continue_phase_c(args.continue_c, args.work, cfg, clip=clip)
    else:
        gen = train_generator(args.work, cfg, clip=clip)
    if args.out is not None:
        save_shipped_generator(gen, args.out)


def save_shipped_generator(gen: Generator, path: Path) -> None:
    """The fp16 safetensors file with ``latent_avg`` (``mean_latent()``)."""
    from styleclip_runtime.models.checkpoints import save_generator_checkpoint

    half = Generator.from_config(gen.config)
    half.load_state_dict(gen.state_dict())
    latent_avg = gen.mean_latent()[0]
    half = half.half()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_generator_checkpoint(half, path, latent_avg.half())


if __name__ == "__main__":
    main()
