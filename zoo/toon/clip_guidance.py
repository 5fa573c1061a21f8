"""toon-CLIP as a teacher for toon-G: zero-shot attribute cross-entropy on samples.

``CLIPAttributeLoss(clip)(images, attrs)`` scores generated images (in
[-1, 1]) the way toon-CLIP's zero-shot check does: for each family, the
image embedding against the texts "a face with {phrase}" of every value, a
softmax at CLIP's logit scale, and cross-entropy with the value the face
should show (eyes behind sunglasses are not scored). The text side is fixed;
gradients flow through the image tower into the generator.

An L1 image loss alone lets a small generator blur a two-pixel mouth line
into a smudge at little cost; this loss makes a smile that CLIP cannot read
expensive. The judge, which scores toon-G afterwards, is a separate network
trained separately, so it stays an independent witness.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .attributes import FAMILIES, Attributes
from .captions import zero_shot_prompts
from .clip import encode_texts, image_size, preprocess
from .training import attribute_cross_entropy


class CLIPAttributeLoss:
    """Frozen toon-CLIP zero-shot classifier used as a differentiable loss."""

    def __init__(self, clip: torch.nn.Module) -> None:
        self.clip = clip.eval()
        for p in self.clip.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            self.texts = {f: encode_texts(self.clip, zero_shot_prompts(f)) for f in FAMILIES}
        self.scale = float(self.clip.logit_scale.exp())

    def logits(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per family (B, n_values) zero-shot logits of images in [-1, 1]."""
        emb = F.normalize(self.clip.encode_image(preprocess(images, image_size(self.clip))).float(), dim=-1)
        return {f: self.scale * emb @ t.T for f, t in self.texts.items()}

    def __call__(self, images: torch.Tensor, attrs: list[Attributes]) -> torch.Tensor:
        return attribute_cross_entropy(self.logits(images), attrs)
