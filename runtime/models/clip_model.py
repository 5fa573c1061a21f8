"""CLIP through open_clip, strictly offline, with StyleCLIP's text handling.

Loading
    ``ClipModel.from_open_clip(arch, checkpoint)`` builds an open_clip built-in
    architecture (for the official ViT-B/32 weights: ``"ViT-B-32-quickgelu"``)
    from a local weights file: the file must exist, its path is passed as
    ``pretrained=`` (open_clip then reads it with ``weights_only=True`` or
    safetensors), and ``HF_HUB_OFFLINE=1`` is set while the model is created, so
    no network call can happen. ``ClipModel.from_config(config, weights)`` builds
    a custom model from an open_clip model config (``embed_dim``,
    ``vision_cfg``, ``text_cfg``) and a safetensors file (fp16 is cast to
    float32), e.g. the small CLIP of the ``toon`` model set.

Text
    ``encode_text`` encodes raw strings (unit vectors). ``encode_text_templates``
    is StyleCLIP's ``GetDt`` per class: format the 79 ImageNet templates, encode,
    L2-normalise each, average, L2-normalise. Results are memoised in memory and,
    when a store (``get(key) -> bytes | None`` / ``put(key, bytes)``) is given,
    on disk, keyed by the model fingerprint and the text.

Images: the normalisation choice
    StyleCLIP's CLIP loss feeds the generator output in [-1, 1] to CLIP
    *without* CLIP's mean/std normalisation, after a nearest-neighbour x7
    upsample and an average pool down to 224. Its fs3 precomputation (the
    channel relevances global directions are built on) instead uses CLIP's
    standard preprocessing: resize to 224, centre crop, mean/std. We default to
    the latter (``image_mode="clip"``): the input is mapped to [0, 1], resized
    (shortest side, bicubic, antialiased when shrinking) and centre-cropped to
    ``image_size``, then normalised with the model's mean/std. This keeps
    image features in the distribution CLIP was trained on and consistent with
    fs3. ``image_mode="styleclip"`` reproduces the loss's pooling exactly, for
    comparisons with published numbers.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..modelsets.registry import sha256_file
from .checkpoints import CheckpointFormatError, load_state_dict_checked, read_checkpoint
from .text_templates import STYLECLIP_TEMPLATES

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGE_MODES = ("clip", "styleclip")


class ByteStore(Protocol):
    """An optional on-disk memo (the runtime cache provides one)."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, payload: bytes) -> None: ...


@contextlib.contextmanager
def offline_hub() -> Iterator[None]:
    """Set HF_HUB_OFFLINE=1 (and TRANSFORMERS_OFFLINE=1) for the duration, then restore."""
    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    saved = {n: os.environ.get(n) for n in names}
    try:
        for n in names:
            os.environ[n] = "1"
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def config_name(config: dict[str, Any]) -> str:
    """A short description of a custom CLIP config for messages."""
    v, t = config.get("vision_cfg", {}), config.get("text_cfg", {})
    layers = v.get("layers")
    tower = (f"ResNet {v.get('image_size')}px {'-'.join(map(str, layers))} width {v.get('width')}"
             if isinstance(layers, (list, tuple)) else f"ViT {v.get('image_size')}px/{v.get('patch_size')} x{layers}")
    return f"(embed {config.get('embed_dim')}, vision {tower}, text x{t.get('layers')})"


def _as_pair(size: Any) -> int:
    if isinstance(size, (tuple, list)):
        if len(set(size)) != 1:
            raise ValueError(f"only square CLIP inputs are supported, got {size}")
        return int(size[0])
    return int(size)


class ClipModel:
    """A frozen open_clip model with StyleCLIP-style text and image encoding."""

    def __init__(self, model: nn.Module, tokenizer: Any, *, fingerprint: str,
                 device: str | torch.device = "cpu", store: ByteStore | None = None,
                 image_mode: str = "clip") -> None:
        if image_mode not in IMAGE_MODES:
            raise ValueError(f"image_mode must be one of {IMAGE_MODES}, got {image_mode!r}")
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tokenizer = tokenizer
        self.fingerprint = fingerprint
        self.store = store
        self.image_mode = image_mode
        visual = model.visual
        self.image_size = _as_pair(getattr(visual, "image_size", 224))
        self.mean = tuple(getattr(visual, "image_mean", None) or OPENAI_MEAN)
        self.std = tuple(getattr(visual, "image_std", None) or OPENAI_STD)
        self._text_cache: dict[tuple[str, str], torch.Tensor] = {}
        self.device = torch.device("cpu")
        self.to(device)

    # -- construction --------------------------------------------------------------
    @classmethod
    def from_open_clip(cls, arch: str, checkpoint: str | Path, device: str | torch.device = "cpu",
                       store: ByteStore | None = None, fingerprint: str | None = None,
                       image_mode: str = "clip") -> "ClipModel":
        """A built-in open_clip architecture with weights from a local file (never downloads).

        ``fingerprint`` may be given when the file's sha256 is already known
        (a pinned model set); otherwise the file is hashed.
        """
        import open_clip

        path = Path(checkpoint).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"CLIP weights not found: {path} (the model is never downloaded; "
                                    "place the open_clip weights file there)")
        if open_clip.get_model_config(arch) is None:
            raise ValueError(f"unknown open_clip architecture {arch!r}")
        with offline_hub():
            try:
                model = open_clip.create_model(arch, pretrained=str(path), device="cpu",
                                               require_pretrained=True, weights_only=True)
            except RuntimeError as exc:
                raise CheckpointFormatError(f"cannot load CLIP {arch} from {path}: {exc}") from exc
            tokenizer = open_clip.get_tokenizer(arch)
        digest = fingerprint or sha256_file(path)
        fp = hashlib.sha256(f"open_clip:{arch}:{digest}".encode()).hexdigest()
        return cls(model.float(), tokenizer, fingerprint=fp, device=device, store=store, image_mode=image_mode)

    @classmethod
    def from_config(cls, config: dict[str, Any], weights: str | Path, device: str | torch.device = "cpu",
                    store: ByteStore | None = None, image_mode: str = "clip") -> "ClipModel":
        """A custom open_clip CLIP (model-config dict) with safetensors (or weights-only .pt) weights."""
        from open_clip.model import CLIP
        from open_clip.tokenizer import SimpleTokenizer

        if "hf_model_name" in config.get("text_cfg", {}) or "timm_model_name" in config.get("vision_cfg", {}):
            raise ValueError("custom CLIP configs with Hugging Face or timm towers are not supported offline")
        path = Path(weights).expanduser()
        model = CLIP(embed_dim=int(config["embed_dim"]), vision_cfg=dict(config["vision_cfg"]),
                     text_cfg=dict(config["text_cfg"]), quick_gelu=bool(config.get("quick_gelu", False)))
        state = read_checkpoint(path)[0]
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        if "logit_scale" in state and state["logit_scale"].ndim != model.logit_scale.ndim:
            state["logit_scale"] = state["logit_scale"].reshape(model.logit_scale.shape)
        load_state_dict_checked(model, state, f"CLIP {config_name(config)} in {path}", strict=True)
        tokenizer = SimpleTokenizer(context_length=int(config["text_cfg"].get("context_length", 77)))
        canon = json.dumps(config, sort_keys=True, separators=(",", ":"))
        fp = hashlib.sha256(f"open_clip-config:{canon}:{sha256_file(path)}".encode()).hexdigest()
        return cls(model, tokenizer, fingerprint=fp, device=device, store=store, image_mode=image_mode)

    def to(self, device: str | torch.device) -> "ClipModel":
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    # -- text ----------------------------------------------------------------------
    @property
    def embed_dim(self) -> int:
        return int(self.model.text_projection.shape[-1]) if hasattr(self.model, "text_projection") \
            else int(self.encode_text(["a"]).shape[-1])

    def _cached(self, kind: str, text: str) -> torch.Tensor | None:
        hit = self._text_cache.get((kind, text))
        if hit is not None or self.store is None:
            return hit
        blob = self.store.get(self._store_key(kind, text))
        if blob is None or len(blob) % 4:
            return None
        vec = torch.from_numpy(np.frombuffer(blob, dtype="<f4").copy())
        if not torch.isfinite(vec).all() or abs(float(vec.norm()) - 1.0) > 1e-3:
            return None  # not one of ours: recompute
        self._text_cache[(kind, text)] = vec
        return vec

    def _remember(self, kind: str, text: str, vec: torch.Tensor) -> None:
        vec = vec.detach().float().cpu()
        self._text_cache[(kind, text)] = vec
        if self.store is not None:
            self.store.put(self._store_key(kind, text), vec.numpy().astype("<f4").tobytes())

    def _store_key(self, kind: str, text: str) -> str:
        return f"clip-text/{kind}/{self.fingerprint}/{text}"

    @torch.no_grad()
    def _encode_raw(self, texts: Sequence[str]) -> torch.Tensor:
        tokens = self.tokenizer(list(texts)).to(self.device)
        return F.normalize(self.model.encode_text(tokens).float(), dim=-1)

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """(N, D) unit embeddings of the raw strings (memoised)."""
        if isinstance(texts, str):
            raise TypeError("encode_text takes a list of strings")
        missing = [t for t in dict.fromkeys(texts) if self._cached("raw", t) is None]
        if missing:
            for t, vec in zip(missing, self._encode_raw(missing)):
                self._remember("raw", t, vec)
        return torch.stack([self._text_cache[("raw", t)] for t in texts]).to(self.device)

    def encode_text_templates(self, text: str, templates: Sequence[str] = STYLECLIP_TEMPLATES) -> torch.Tensor:
        """(D,) StyleCLIP class embedding: normalised mean of the normalised template embeddings."""
        kind = "templates-" + hashlib.sha256("\n".join(templates).encode()).hexdigest()[:16]
        hit = self._cached(kind, text)
        if hit is None:
            each = self._encode_raw([t.format(text) for t in templates])
            hit = F.normalize(each.mean(dim=0), dim=0)
            self._remember(kind, text, hit)
            hit = self._text_cache[(kind, text)]
        return hit.to(self.device)

    # -- images --------------------------------------------------------------------
    def prepare_images(self, img: torch.Tensor) -> torch.Tensor:
        """Generator output (B,3,H,W) in [-1, 1] -> CLIP's input (see the module docstring)."""
        if img.ndim != 4 or img.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) images, got {tuple(img.shape)}")
        size = self.image_size
        img = img.to(self.device, torch.float32)
        if self.image_mode == "styleclip":
            h, w = img.shape[-2:]
            if h != w or (7 * h) % size:
                raise ValueError(f"styleclip image mode needs square input with 7*H divisible by {size}, "
                                 f"got {h}x{w}")
            up = F.interpolate(img, scale_factor=7, mode="nearest")
            return F.avg_pool2d(up, kernel_size=7 * h // size)
        x = (img + 1.0) / 2.0
        h, w = x.shape[-2:]
        if (h, w) != (size, size):
            scale = size / min(h, w)
            nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
            x = F.interpolate(x, size=(nh, nw), mode="bicubic", align_corners=False, antialias=scale < 1)
            top, left = (nh - size) // 2, (nw - size) // 2
            x = x[:, :, top:top + size, left:left + size]
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def encode_images(self, img: torch.Tensor) -> torch.Tensor:
        """(B, D) unit embeddings of images in [-1, 1], any size; differentiable in ``img``."""
        return F.normalize(self.model.encode_image(self.prepare_images(img)).float(), dim=-1)

    def similarity(self, img: torch.Tensor, text: str | torch.Tensor) -> torch.Tensor:
        """(B,) cosine similarity of each image to a text (raw string) or a (D,) embedding.

        StyleCLIP's CLIP loss is ``1 - similarity`` with the plain (untemplated) text.
        """
        t = self.encode_text([text])[0] if isinstance(text, str) else F.normalize(text.to(self.device), dim=-1)
        return self.encode_images(img) @ t
