"""ArcFace IR-SE50 identity network and StyleCLIP's identity preprocessing.

``ArcFaceBackbone`` is the IR-SE network of the published ``model_ir_se50.pth``
(a plain state dict: ``input_layer``, ``body.N``, ``output_layer``):

    input_layer -> body -> BN2d -> Dropout -> flatten -> Linear(512*7*7, 512) -> BN1d -> L2-normalise

``IdentityNet`` adds StyleCLIP's preprocessing of generator output (in
[-1, 1], any square size): adaptive-average-pool to 256 unless already 256,
crop rows 35:223 and columns 32:220, adaptive-average-pool to 112. Identity
similarity is the dot product of the unit embeddings; StyleCLIP's ID loss is
``1 - similarity``. Gradients flow to the input image; the network's own
weights are frozen and it always runs in eval mode (BatchNorm statistics).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .irse import make_body, make_input_layer
from .checkpoints import CheckpointFormatError, load_state_dict_checked, read_checkpoint

CROP_ROWS = (35, 223)
CROP_COLS = (32, 220)
POOL_SIZE = 256
FACE_SIZE = 112


class ArcFaceBackbone(nn.Module):
    """IR-SE face-recognition network; ``forward(x: (B,3,112,112)) -> (B, 512)`` unit vectors."""

    def __init__(self, units: Sequence[int] = (3, 4, 14, 3), widths: Sequence[int] = (64, 128, 256, 512),
                 input_size: int = FACE_SIZE, embed_dim: int = 512, drop_ratio: float = 0.6) -> None:
        super().__init__()
        self.input_size = input_size
        self.input_layer = make_input_layer(widths[0])
        self.body = make_body(units, widths)
        final = input_size // 2 ** len(units)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(widths[-1]),
            nn.Dropout(drop_ratio),
            nn.Flatten(),
            nn.Linear(widths[-1] * final * final, embed_dim),
            nn.BatchNorm1d(embed_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.output_layer(self.body(self.input_layer(x)))
        return F.normalize(x, dim=1)


def face_crop(img: torch.Tensor) -> torch.Tensor:
    """StyleCLIP's identity preprocessing: (B,3,H,W) -> (B,3,112,112)."""
    if img.ndim != 4 or img.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) images, got {tuple(img.shape)}")
    if tuple(img.shape[-2:]) != (POOL_SIZE, POOL_SIZE):
        img = F.adaptive_avg_pool2d(img, (POOL_SIZE, POOL_SIZE))
    img = img[:, :, CROP_ROWS[0]:CROP_ROWS[1], CROP_COLS[0]:CROP_COLS[1]]
    return F.adaptive_avg_pool2d(img, (FACE_SIZE, FACE_SIZE))


class IdentityNet(nn.Module):
    """Frozen ArcFace with StyleCLIP's crop: embeddings and identity similarity."""

    def __init__(self, backbone: ArcFaceBackbone | None = None) -> None:
        super().__init__()
        self.backbone = backbone if backbone is not None else ArcFaceBackbone()
        for p in self.backbone.parameters():
            p.requires_grad_(False)
        self.backbone.eval()

    def train(self, mode: bool = True) -> "IdentityNet":
        # BatchNorm must use its stored statistics and dropout must stay off.
        super().train(mode)
        self.backbone.eval()
        return self

    def embed(self, img: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] (B,3,H,W) -> (B, 512) unit embeddings (differentiable in ``img``)."""
        return self.backbone(face_crop(img))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.embed(img)

    def similarity(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of identities, (B,). ``b`` may be images or precomputed embeddings."""
        ea = self.embed(a)
        eb = b if b.ndim == 2 else self.embed(b)
        return (ea * eb).sum(dim=1)


def load_arcface_checkpoint(path: str | Path, strict: bool = True) -> IdentityNet:
    """Load ``model_ir_se50.pth`` (a plain state dict, optionally under 'state_dict')."""
    state = read_checkpoint(path)[0]
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointFormatError(f"cannot load ArcFace from {path}: expected a state dict, got {type(state).__name__}")
    if any(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    backbone = ArcFaceBackbone()
    load_state_dict_checked(backbone, state, f"ArcFace IR-SE50 in {path}", strict)
    return IdentityNet(backbone)
