"""toon-CLIP: a small open_clip CLIP for 64 px toon faces.

The model is a plain ``open_clip.CLIP`` built from ``clip_config.json``
(open_clip's own config format: ``embed_dim``, ``vision_cfg``, ``text_cfg``)
and loaded from fp16 ``clip.safetensors``. Text goes through the standard
open_clip tokenizer (``get_tokenizer('ViT-B-32')``, bundled with open_clip:
nothing is downloaded) at the config's context length.

Images go in the way the runtime feeds them: generator output in [-1, 1]
-> [0, 1] -> resized to the vision tower's size -> OPENAI mean/std.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import open_clip
import torch
import torch.nn.functional as F
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

CLIP_CONFIG: dict = {
    "embed_dim": 128,
    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 2},
}

_MEAN = torch.tensor(OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(OPENAI_DATASET_STD).view(1, 3, 1, 1)


def build_clip(config: dict = CLIP_CONFIG) -> open_clip.CLIP:
    """An untrained open_clip CLIP with this config."""
    return open_clip.CLIP(embed_dim=config["embed_dim"], vision_cfg=dict(config["vision_cfg"]),
                          text_cfg=dict(config["text_cfg"]))


def load_clip(directory: str | Path) -> open_clip.CLIP:
    """Load ``clip_config.json`` + ``clip.safetensors`` from ``directory`` (strict), in eval mode."""
    directory = Path(directory)
    config = json.loads((directory / "clip_config.json").read_text())
    model = build_clip(config)
    open_clip.load_checkpoint(model, str(directory / "clip.safetensors"), strict=True)
    return model.float().eval()


def image_size(model: open_clip.CLIP) -> int:
    size = model.visual.image_size
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def preprocess(img: torch.Tensor, size: int) -> torch.Tensor:
    """Generator-style images in [-1, 1] (B, 3, H, W) -> normalised CLIP input."""
    x = (img.float() + 1) / 2
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)
    return (x - _MEAN.to(x.device)) / _STD.to(x.device)


def tokenize(texts: Sequence[str], context_length: int) -> torch.Tensor:
    """Token ids (B, context_length) from the standard open_clip BPE tokenizer."""
    return open_clip.get_tokenizer("ViT-B-32")(list(texts), context_length=context_length)


def context_length(model: open_clip.CLIP) -> int:
    return int(model.context_length)


def encode_images(model: open_clip.CLIP, img: torch.Tensor) -> torch.Tensor:
    """Unit-norm image embeddings of images in [-1, 1]."""
    return F.normalize(model.encode_image(preprocess(img, image_size(model))).float(), dim=-1)


def encode_texts(model: open_clip.CLIP, texts: Sequence[str]) -> torch.Tensor:
    """Unit-norm text embeddings."""
    return F.normalize(model.encode_text(tokenize(texts, context_length(model))).float(), dim=-1)
