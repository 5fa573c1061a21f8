"""A complete model set at toy size, written to a folder: the real classes
(Generator, Encoder4Editing, open_clip CLIP) with random weights, described
by a YAML exactly like the shipped ones. Runtime tests run on it so they do
not depend on the trained toon weights (the toon tests check behaviour)."""
from __future__ import annotations

from pathlib import Path

import torch
import yaml

GEN = {"size": 32, "style_dim": 32, "n_mlp": 2, "channel_multiplier": 0.25, "channel_max": 16, "lr_mlp": 1.0}
ENC = {"input_size": 32, "n_styles": 8, "style_dim": 32, "stage_units": [1, 1, 1, 1], "widths": [4, 8, 12, 16]}
CLIP_CFG = {"embed_dim": 32,
            "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 1, "head_width": 16},
            "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}


def write_generator_and_encoder(folder: Path, seed: int = 0, mean_samples: int = 256):
    """``generator.pt`` and its e4e ``encoder.pt`` (random weights, the encoder's latent average the
    generator's mean W) in ``folder``; returns the generator."""
    from styleclip_runtime.models.e4e import E4EConfig, Encoder4Editing, save_e4e_checkpoint
    from styleclip_runtime.models.stylegan2 import Generator, save_generator_checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    g = Generator(**GEN)
    save_generator_checkpoint(g, folder / "generator.pt")
    enc = Encoder4Editing(E4EConfig(**ENC))
    with torch.no_grad():
        avg = g.mean_latent(mean_samples)
    save_e4e_checkpoint(enc, avg.expand(ENC["n_styles"], -1), folder / "encoder.pt")
    return g


def write_tiny_modelset(folder: Path, name: str = "tiny", seed: int = 0) -> Path:
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    g = write_generator_and_encoder(folder, seed)
    clip = CLIP(embed_dim=CLIP_CFG["embed_dim"], vision_cfg=dict(CLIP_CFG["vision_cfg"]),
                text_cfg=dict(CLIP_CFG["text_cfg"]))
    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, str(folder / "clip.safetensors"))
    # Precomputed global-direction statistics, as a shipped set has them
    # (computing them is tested in tests/runtime/engines).
    from open_clip.tokenizer import SimpleTokenizer

    from styleclip_runtime.models.clip_model import ClipModel
    from styleclip_runtime.execution.warm import compute_global_stats

    with torch.no_grad():
        stats = compute_global_stats(g.eval(), ClipModel(clip.float(), SimpleTokenizer(context_length=16),
                                                         fingerprint="tiny"), 256, 2, 5.0)
    stats.save(folder / "stats.safetensors")
    spec = {
        "schema": 1, "name": name, "description": "random toy set for runtime tests",
        "generator": {"file": {"path": "generator.pt"}, "config": GEN},
        "encoder": {"file": {"path": "encoder.pt"}, "config": ENC},
        "clip": {"file": {"path": "clip.safetensors"}, "config": CLIP_CFG},
        "global_stats": {"stats": {"path": "stats.safetensors"}},
        "defaults": {"neutral": "a face", "auto_train_mappers": True,
                     "mapper_training": {"steps": 3, "batch": 2},
                     # a 3-step training takes well under the time that asks for `run --train`
                     "estimates": {"cpu": {"mapper_training_step": 0.01}},
                     "global_stats": {"n_samples": 256, "n_images": 2}},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
