"""An attribute judge (toon's): a classifier independent of the set's CLIP, for ``expect attribute``.

A small CNN with one softmax head per attribute family and a regression of
the background hue (as cos/sin of 2*pi*hue). It reads images the way the
generator writes them: float (B, 3, 64, 64) in [-1, 1].

Two architectures, named by the config's ``arch``, so that a set can ship two
differently built judges that must agree (``expect attribute``):

- ``strided`` (toon's first judge): a 2x pixel-unshuffle, 3x3 convolutions with
  batch norm, stride 2 after the first, flattened 4x4 features into the neck.
- ``pooled`` (toon's second judge): two coordinate channels appended to the
  image, wide (5x5) and narrow kernels with group norm and GELU, per-layer
  ``strides``, then global average and max pooling into the neck: where a
  feature is comes only through the coordinate channels, not the flattening.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn


@dataclass(frozen=True)
class JudgeConfig:
    """The judge's shape and vocabulary; ``families`` (family -> values, in head order) ships with the weights."""

    families: dict[str, tuple[str, ...]]
    image_size: int = 64
    channels: tuple[int, ...] = (48, 96, 128, 160)  # after a 2x pixel-unshuffle, then stride 2 each
    hidden: int = 256
    arch: str = "strided"                 # "strided" or "pooled" (see the module's docstring)
    kernels: tuple[int, ...] = ()         # pooled: one kernel size per layer of ``channels``
    strides: tuple[int, ...] = ()         # pooled: one stride per layer of ``channels``

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"unknown judge arch {self.arch!r} (known: {', '.join(ARCHS)})")
        if self.arch == "pooled" and not (len(self.kernels) == len(self.strides) == len(self.channels)):
            raise ValueError("a pooled judge needs one kernel size and one stride per layer of channels")

    def to_json(self) -> str:
        data = asdict(self)
        data["families"] = {k: list(v) for k, v in self.families.items()}
        return json.dumps(data, indent=2, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> "JudgeConfig":
        data = json.loads(text)
        return JudgeConfig(
            image_size=int(data["image_size"]),
            channels=tuple(int(c) for c in data["channels"]),
            hidden=int(data["hidden"]),
            families={k: tuple(v) for k, v in data["families"].items()},
            arch=str(data.get("arch", "strided")),  # configs written before the second judge have no arch
            kernels=tuple(int(k) for k in data.get("kernels", ())),
            strides=tuple(int(k) for k in data.get("strides", ())),
        )


ARCHS = ("strided", "pooled")


@dataclass(frozen=True)
class Verdict:
    """The judge's reading of one image: family -> (value, confidence); hue in [0, 1)."""

    attributes: dict[str, tuple[str, float]]
    background: float

    def __getitem__(self, family: str) -> tuple[str, float]:
        return self.attributes[family]

    def value(self, family: str) -> str:
        return self.attributes[family][0]


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.SiLU(inplace=True),
    )


class _Heads(nn.Module):
    """What both architectures share: the input size, the heads, and reading their outputs."""

    config: JudgeConfig
    neck: nn.Module

    def _heads(self, config: JudgeConfig) -> None:
        self.heads = nn.ModuleDict({f: nn.Linear(config.hidden, len(v)) for f, v in config.families.items()})
        self.hue = nn.Linear(config.hidden, 2)

    def embed(self, img: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, img: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Logits per family and the (cos, sin) hue regression, for images in [-1, 1]."""
        if img.shape[-2:] != (self.config.image_size, self.config.image_size):
            img = nn.functional.interpolate(img, size=self.config.image_size, mode="bilinear",
                                            antialias=True, align_corners=False)
        h = self.embed(img)
        return {f: head(h) for f, head in self.heads.items()}, self.hue(h)

    @torch.no_grad()
    def probabilities(self, img: torch.Tensor) -> dict[str, torch.Tensor]:
        """Softmax probabilities per family, each (B, n_values)."""
        logits, _ = self(img.float())
        return {f: v.float().softmax(-1) for f, v in logits.items()}

    @torch.no_grad()
    def background_hue(self, img: torch.Tensor) -> torch.Tensor:
        """Predicted background hue in [0, 1), shape (B,)."""
        _, hue = self(img.float())
        return (torch.atan2(hue[:, 1], hue[:, 0]) / (2 * math.pi)) % 1.0

    @torch.no_grad()
    def predict(self, img: torch.Tensor) -> list[Verdict]:
        """The most likely value of every family, with its probability, per image."""
        was_training = self.training
        self.eval()
        try:
            logits, hue = self(img.float())
        finally:
            self.train(was_training)
        probs = {f: v.float().softmax(-1) for f, v in logits.items()}
        hues = (torch.atan2(hue[:, 1], hue[:, 0]) / (2 * math.pi)) % 1.0
        out = []
        for i in range(img.shape[0]):
            reading = {}
            for f, p in probs.items():
                conf, idx = p[i].max(0)
                reading[f] = (self.config.families[f][int(idx)], float(conf))
            out.append(Verdict(reading, float(hues[i])))
        return out


class Judge(_Heads):
    """Multi-head attribute classifier for toon faces (the ``strided`` arch)."""

    def __init__(self, config: JudgeConfig) -> None:
        super().__init__()
        if config.arch != "strided":
            raise ValueError(f"Judge is the strided arch; a {config.arch!r} config builds with build_judge")
        self.config = config
        # space-to-depth keeps every pixel but runs the first conv at half resolution
        layers: list[nn.Module] = [nn.PixelUnshuffle(2)]
        cin = 12
        for i, cout in enumerate(config.channels):
            layers.append(_block(cin, cout, 1 if i == 0 else 2))
            cin = cout
        self.features = nn.Sequential(*layers)
        side = config.image_size // 2 ** len(config.channels)
        self.neck = nn.Sequential(nn.Flatten(), nn.Linear(cin * side * side, config.hidden), nn.SiLU(inplace=True))
        self._heads(config)

    def embed(self, img: torch.Tensor) -> torch.Tensor:
        return self.neck(self.features(img))


def _coords(img: torch.Tensor) -> torch.Tensor:
    """Two channels holding each pixel's x and y in [-1, 1]."""
    b, _, h, w = img.shape
    ys = torch.linspace(-1, 1, h, dtype=img.dtype, device=img.device).view(1, 1, h, 1).expand(b, 1, h, w)
    xs = torch.linspace(-1, 1, w, dtype=img.dtype, device=img.device).view(1, 1, 1, w).expand(b, 1, h, w)
    return torch.cat([xs, ys], 1)


class PooledJudge(_Heads):
    """Multi-head attribute classifier for toon faces (the ``pooled`` arch): coordinate channels,
    wide kernels, group norm, global average + max pooling."""

    def __init__(self, config: JudgeConfig) -> None:
        super().__init__()
        if config.arch != "pooled":
            raise ValueError(f"PooledJudge is the pooled arch, not {config.arch!r}")
        self.config = config
        layers: list[nn.Module] = []
        cin = 3 + 2
        for cout, k, stride in zip(config.channels, config.kernels, config.strides):
            layers += [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
                       nn.GroupNorm(8 if cout % 8 == 0 else 1, cout), nn.GELU()]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.neck = nn.Sequential(nn.Linear(2 * cin, config.hidden), nn.GELU())
        self._heads(config)

    def embed(self, img: torch.Tensor) -> torch.Tensor:
        f = self.features(torch.cat([img, _coords(img)], 1))
        return self.neck(torch.cat([f.mean((2, 3)), f.amax((2, 3))], 1))


def build_judge(config: JudgeConfig) -> _Heads:
    """A freshly initialised judge of the config's arch."""
    return Judge(config) if config.arch == "strided" else PooledJudge(config)


def default_paths(directory: Path) -> tuple[Path, Path]:
    return directory / "judge.safetensors", directory / "judge_config.json"


def load_judge(path: str | Path, config: JudgeConfig | str | Path | None = None) -> _Heads:
    """Load a judge from ``judge.safetensors`` (or its folder) and its config (strict).

    ``config`` is a ``JudgeConfig``, a path to ``judge_config.json``, or None for
    the JSON beside the weights. Weights may be stored in fp16; they load as float32.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "judge.safetensors"
    if config is None:  # judge2.safetensors -> judge2_config.json; any other name -> judge_config.json
        own = path.with_name(f"{path.stem}_config.json")
        config = own if own.is_file() else path.with_name("judge_config.json")
    if not isinstance(config, JudgeConfig):
        try:
            config = JudgeConfig.from_json(Path(config).read_text())
        except Exception as exc:
            raise ValueError(f"{config}: cannot read the judge's config ({exc.__class__.__name__}: {exc})") from exc
    judge = build_judge(config)
    try:
        state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
        judge.load_state_dict(state, strict=True)
    except Exception as exc:  # a damaged or foreign file: say which
        first = " ".join(str(exc).split())[:300]  # torch's heading alone does not say what differs
        raise ValueError(f"{path}: cannot load the judge from it ({exc.__class__.__name__}: {first})") from exc
    return judge.eval()
