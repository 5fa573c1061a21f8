"""The toon encoder: e4e's delta penalty, the fp16 file, and the shipped
encoder inverting shipped photos (renders) of the toon world."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from styleclip_runtime.models.e4e import Encoder4Editing, load_e4e_checkpoint, preprocess_image
from styleclip_zoo.toon.attributes import Attributes
from styleclip_zoo.toon.evaluate_generator import agreement, psnr
from styleclip_zoo.toon.pool import held_out
from styleclip_zoo.toon.renderer import render
from styleclip_zoo.toon.train_encoder import (
    TOON_E4E_CONFIG,
    delta_penalty,
    nearest_rule_layout,
    save_shipped_encoder,
)
from styleclip_zoo.toon.train_generator import rule_nuisance_seeds

ROOT = Path(__file__).resolve().parents[2]
TOON_DIR = ROOT / "runtime" / "modelsets" / "toon"


def test_delta_penalty_measures_rows_against_row_zero():
    codes = torch.zeros(2, 3, 4)
    codes[:, 1, 0] = 1.0  # row 1 one unit away
    codes[:, 2, :2] = 2.0  # row 2: 2^2 + 2^2 = 8
    assert float(delta_penalty(codes)) == pytest.approx((1.0 + 8.0) / 2)
    assert float(delta_penalty(codes[:, :1].expand(-1, 3, -1))) == 0.0


def test_nearest_rule_layout_matches_geometry():
    seeds = rule_nuisance_seeds()
    assert [nearest_rule_layout(s) for s in seeds] == list(range(8))
    # other seeds spread over several rule layouts (not all onto one)
    assert len({nearest_rule_layout(s) for s in range(200)}) >= 5


def test_shipped_file_is_fp16_and_round_trips(tmp_path):
    torch.manual_seed(0)
    enc = Encoder4Editing(TOON_E4E_CONFIG).eval()
    avg = torch.randn(TOON_E4E_CONFIG.n_styles, TOON_E4E_CONFIG.style_dim)
    path = tmp_path / "encoder.safetensors"
    save_shipped_encoder(enc, avg, path)
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        # every weight is fp16 (latent_avg, 10 x 128 values, is kept in float32 by the e4e writer)
        assert {f.get_tensor(k).dtype for k in f.keys() if k.startswith("encoder.")
                and f.get_tensor(k).is_floating_point()} == {torch.float16}
    loaded, loaded_avg, opts = load_e4e_checkpoint(path)
    assert loaded.config == TOON_E4E_CONFIG
    assert torch.allclose(loaded_avg, avg.half().float())
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        ref, got = enc(x), loaded(x)
    assert (ref - got).abs().max() < 0.05 * ref.abs().max()


def _photos() -> list[Image.Image]:
    """The shipped photos (recipes/photos/*.png), or renders of the same world when none ship yet."""
    files = sorted((ROOT / "recipes" / "photos").glob("*.png"))
    if files:
        return [Image.open(f).convert("RGB") for f in files[:8]]
    faces = [Attributes(hair_style="curly", hair_color="red", expression="smile", glasses="round"),
             Attributes(hair_style="long", hair_color="blonde", skin="tan", background=0.1),
             Attributes(hair_style="mohawk", hair_color="purple", beard="beard", skin="dark", background=0.8),
             Attributes(hair_style="bob", hair_color="black", expression="surprised", glasses="sunglasses")]
    return [render(a, 40 + i) for i, a in enumerate(faces)]


@pytest.fixture(scope="module")
def toon():
    from styleclip_runtime.models.modelset import ModelSet

    if not (TOON_DIR / "encoder.safetensors").exists():
        pytest.fail("runtime/modelsets/toon/encoder.safetensors is not shipped")
    return ModelSet.load("toon")


def test_shipped_encoder_inverts_photos(toon):
    """Bars at what the shipped (blurry) toon-G allows: docs/toon.md has the figures
    (mean PSNR 21.0 dB and judge agreement 0.96 on the four shipped photos)."""
    photos = torch.stack([preprocess_image(p, 64) for p in _photos()])
    with torch.no_grad():
        codes = toon.encoder(photos)
        recon = toon.generator(codes, noise_mode="const").clamp(-1, 1)
    assert codes.shape == (len(photos), 10, 128)
    assert float(psnr(recon, photos).mean()) > 17.5
    # a wrong pairing reconstructs much worse: the encoder reads the photo
    assert float(psnr(recon, photos.roll(1, 0)).mean()) < float(psnr(recon, photos).mean()) - 3.0
    if toon.spec.judge is None or not (TOON_DIR / "judge.safetensors").exists():
        pytest.skip("the toon judge is not shipped yet")
    assert agreement(toon.judge, photos, recon)["all"] >= 0.85


def test_shipped_encoder_inverts_generator_samples(toon):
    """The issue's bar: PSNR >= 24 dB on toon-G samples (measured 28.7 dB on 300; 26.9 dB on these 8)."""
    gen = toon.generator
    z = torch.randn(8, gen.style_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        images = gen(gen.mapping(z), noise_mode="const").clamp(-1, 1)
        recon = gen(toon.encoder(images), noise_mode="const").clamp(-1, 1)
    assert float(psnr(recon, images).mean()) >= 24.0


def test_shipped_encoder_keeps_the_attributes_of_renders(toon):
    """The issue's other bar: the judge agrees on >= 90 % of attributes
    between a render (a "photo" of the toon world) and its reconstruction
    (measured 94.5 % on 300 held-out renders; on these 48: 91.6 %)."""
    if toon.spec.judge is None or not (TOON_DIR / "judge.safetensors").exists():
        pytest.skip("the toon judge is not shipped yet")
    renders, _ = held_out(48)
    renders = renders * 2 - 1
    with torch.no_grad():
        recon = toon.generator(toon.encoder(renders), noise_mode="const").clamp(-1, 1)
    assert agreement(toon.judge, renders, recon)["all"] >= 0.9
