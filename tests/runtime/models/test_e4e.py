"""e4e encoder: official layout, strict loading, progressive deltas, preprocessing."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from styleclip_runtime.models.checkpoints import CheckpointFormatError, CheckpointMismatchError
from styleclip_runtime.models.e4e import (
    E4EConfig,
    Encoder4Editing,
    Inverter,
    e4e_from_checkpoint,
    infer_e4e_config,
    load_e4e_checkpoint,
    preprocess_image,
    save_e4e_checkpoint,
)
from styleclip_runtime.models.strict_load import CheckpointError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "official-formats"
TINY = E4EConfig(input_size=64, n_styles=10, style_dim=128, stage_units=(1, 1, 1, 1), widths=(16, 32, 64, 128))


def fixture_keys(name: str) -> dict[str, list[int]]:
    return json.loads((FIXTURES / name).read_text())["keys"]


def plausible_random_state(keys: dict[str, list[int]], seed: int) -> dict[str, torch.Tensor]:
    """Random values with the fixture's shapes, scaled so that a forward pass stays finite."""
    torch.manual_seed(seed)
    out = {}
    for key, shape in keys.items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(0)
        elif key.endswith("running_var"):
            out[key] = torch.empty(shape).uniform_(1.0, 1.1)
        elif len(shape) >= 2:
            # unit variance after the layer's fan-in (EqualLinear applies its own 1/sqrt(fan_in))
            bound = math.sqrt(3.0) if key.endswith("linear.weight") else math.sqrt(3.0 / math.prod(shape[1:]))
            out[key] = torch.empty(shape).uniform_(-bound, bound)
        elif key.endswith(".weight"):
            out[key] = torch.empty(shape).uniform_(0.9, 1.1)
        else:
            out[key] = torch.empty(shape).uniform_(-0.1, 0.1)
    return out


@pytest.fixture(scope="module")
def official_checkpoint() -> dict:
    """An e4e_ffhq_encode.pt look-alike: fixture keys under state_dict with prefixes, latent_avg, opts."""
    enc = plausible_random_state(fixture_keys("e4e-ffhq-encoder.keys.json"), seed=3)
    state = {f"encoder.{k}": v for k, v in enc.items()}
    for k, shape in fixture_keys("stylegan2-ffhq-1024-g_ema.keys.json").items():
        state[f"decoder.{k}"] = torch.empty(shape)  # present, never loaded by the encoder loader
    torch.manual_seed(4)
    latent_avg = torch.randn(512).expand(18, 512).clone()
    opts = {"encoder_type": "Encoder4Editing", "stylegan_size": 1024, "start_from_latent_avg": True}
    return {"state_dict": state, "latent_avg": latent_avg, "opts": opts}


@pytest.fixture(scope="module")
def official_encoder(official_checkpoint):
    return e4e_from_checkpoint(official_checkpoint, source="e4e_ffhq_encode.pt")


def test_official_layout_loads_strictly_with_its_values(official_checkpoint, official_encoder):
    encoder, latent_avg, opts = official_encoder
    assert encoder.config == E4EConfig()
    assert encoder.config.taps == (6, 20, 23)
    state = encoder.state_dict()
    for key in ("input_layer.0.weight", "body.23.res_layer.5.fc2.weight", "styles.17.linear.bias",
                "latlayer2.weight", "body.3.shortcut_layer.1.running_var"):
        assert torch.equal(state[key], official_checkpoint["state_dict"][f"encoder.{key}"])
    assert torch.equal(latent_avg, official_checkpoint["latent_avg"])
    assert opts["stylegan_size"] == 1024
    assert opts["_decoder_keys"] == len(fixture_keys("stylegan2-ffhq-1024-g_ema.keys.json"))
    assert not encoder.training


@pytest.mark.slow
def test_full_size_forward_is_progressive(official_encoder):
    """Batch 1 at 256 px (about 4.5 CPU-seconds): one pass, with the style blocks observed by hooks."""
    encoder = official_encoder[0]
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = [encoder.styles[i].register_forward_hook(lambda m, inp, out, i=i: seen.__setitem__(i, (inp[0], out)))
             for i in (0, 4, 10)]
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        w = encoder(x)
    for h in hooks:
        h.remove()
    assert w.shape == (1, 18, 512) and torch.isfinite(w).all()
    # coarse styles read c3 (16 px, 512 ch), middle ones p2 (32 px), fine ones p1 (64 px)
    assert [tuple(seen[i][0].shape[1:]) for i in (0, 4, 10)] == [(512, 16, 16), (512, 32, 32), (512, 64, 64)]
    s0 = seen[0][1]
    torch.testing.assert_close(w[:, 0], s0)
    torch.testing.assert_close(w[:, 4], s0 + seen[4][1])
    torch.testing.assert_close(w[:, 10], s0 + seen[10][1])
    assert not torch.allclose(w[:, 4], w[:, 10])


def test_official_layout_errors_name_the_key(official_checkpoint):
    base = official_checkpoint["state_dict"]
    missing = {k: v for k, v in base.items() if k != "encoder.styles.5.linear.weight"}
    with pytest.raises(CheckpointMismatchError, match=r"(?s)missing.*styles\.5\.linear\.weight"):
        e4e_from_checkpoint({**official_checkpoint, "state_dict": missing})
    shaped = dict(base)
    shaped["encoder.latlayer1.weight"] = torch.zeros(512, 128, 1, 1)
    with pytest.raises(CheckpointMismatchError, match=r"latlayer1\.weight expected \[512, 256, 1, 1\] found \[512, 128, 1, 1\]"):
        e4e_from_checkpoint({**official_checkpoint, "state_dict": shaped})


def test_tap_indices_and_block_sizes_follow_the_config():
    assert E4EConfig(stage_units=(2, 3, 5, 2)).taps == (4, 9, 11)
    enc = Encoder4Editing(TINY)
    assert TINY.taps == (1, 2, 3)
    convs = [sum(isinstance(m, torch.nn.Conv2d) for m in block.convs) for block in enc.styles]
    # c3 is 64/16 = 4 px (2 convs), p2 8 px (3 convs), p1 16 px (4 convs)
    assert convs == [2, 2, 2, 3, 3, 3, 3, 4, 4, 4]
    assert infer_e4e_config(enc.state_dict()) == TINY


@pytest.mark.parametrize("bad", [dict(widths=(16, 16, 32, 64)), dict(stage_units=(1, 1, 1)),
                                 dict(input_size=48), dict(coarse_index=5, middle_index=4)])
def test_invalid_configs_are_rejected(bad):
    fields = {**TINY.to_dict(), **bad}
    if "stage_units" in bad:
        fields["widths"] = (16, 32, 64)
    with pytest.raises(ValueError):
        E4EConfig(**fields)


@pytest.fixture
def tiny_encoder() -> Encoder4Editing:
    torch.manual_seed(0)
    return Encoder4Editing(TINY).eval()


def test_progressive_deltas_start_from_style0(tiny_encoder):
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        w = tiny_encoder(x)
        for block in tiny_encoder.styles[1:]:
            block.linear.weight.zero_()
            block.linear.bias.zero_()
        flat = tiny_encoder(x)
    assert w.shape == (2, 10, 128)
    # with every delta silenced, all styles equal style 0 (and style 0 is unchanged)
    torch.testing.assert_close(flat, flat[:, :1].expand_as(flat))
    torch.testing.assert_close(flat[:, 0], w[:, 0])
    assert not torch.allclose(w[:, 1], w[:, 0])


def test_each_delta_only_moves_its_own_style(tiny_encoder):
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        before = tiny_encoder(x)
        tiny_encoder.styles[7].linear.bias.add_(1.0)
        after = tiny_encoder(x)
    changed = (after - before).abs().amax(dim=-1)[0]
    assert changed[7] > 0.5
    assert torch.all(changed[torch.arange(10) != 7] == 0)


def test_inverter_adds_latent_avg(tiny_encoder):
    avg = torch.randn(128)
    inv = Inverter(tiny_encoder, avg)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(inv(x) - tiny_encoder(x), avg.expand(2, 10, 128))
    img = Image.fromarray((np.random.default_rng(0).random((80, 80, 3)) * 255).astype(np.uint8))
    codes = inv.invert_images([img, img])
    assert codes.shape == (2, 10, 128)
    torch.testing.assert_close(codes[0], codes[1])
    with pytest.raises(ValueError, match="latent_avg"):
        Inverter(tiny_encoder, torch.zeros(9, 128))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_save_and_load_round_trip(tiny_encoder, tmp_path, suffix):
    path = tmp_path / f"enc{suffix}"
    avg = torch.randn(10, 128)
    save_e4e_checkpoint(tiny_encoder, avg, path, opts={"stylegan_size": 64})
    encoder, latent_avg, opts = load_e4e_checkpoint(path)
    assert encoder.config == TINY
    torch.testing.assert_close(latent_avg, avg)
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(encoder(x), tiny_encoder(x))


def _saved(tmp_path, encoder, mutate=None) -> Path:
    path = tmp_path / "enc.pt"
    save_e4e_checkpoint(encoder, torch.zeros(10, 128), path)
    if mutate:
        ckpt = torch.load(path, weights_only=True)
        mutate(ckpt)
        torch.save(ckpt, path)
    return path


def test_missing_extra_and_misshaped_keys_are_named(tiny_encoder, tmp_path):
    path = _saved(tmp_path, tiny_encoder, lambda c: c["state_dict"].pop("encoder.styles.3.linear.bias"))
    with pytest.raises(CheckpointMismatchError, match=r"(?s)1 missing key.*styles\.3\.linear\.bias"):
        load_e4e_checkpoint(path)
    path = _saved(tmp_path, tiny_encoder, lambda c: c["state_dict"].__setitem__("encoder.extra.weight", torch.zeros(1)))
    with pytest.raises(CheckpointMismatchError, match=r"(?s)unexpected.*extra\.weight"):
        load_e4e_checkpoint(path)
    path = _saved(tmp_path, tiny_encoder,
                  lambda c: c["state_dict"].__setitem__("encoder.styles.0.linear.weight", torch.zeros(128, 64)))
    with pytest.raises(CheckpointMismatchError, match=r"styles\.0\.linear\.weight expected \[128, 128\] found \[128, 64\]"):
        load_e4e_checkpoint(path)
    path = _saved(tmp_path, tiny_encoder, lambda c: c.pop("latent_avg"))
    with pytest.raises(CheckpointFormatError, match="latent_avg"):
        load_e4e_checkpoint(path)


def test_truncated_file_fails_clearly(tiny_encoder, tmp_path):
    path = _saved(tmp_path, tiny_encoder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"truncated or corrupt"):
        load_e4e_checkpoint(path)


def test_not_strict_loads_what_matches(tiny_encoder, tmp_path):
    path = _saved(tmp_path, tiny_encoder, lambda c: c["state_dict"].pop("encoder.latlayer1.bias"))
    with pytest.warns(RuntimeWarning, match="latlayer1.bias"):
        encoder, _, _ = load_e4e_checkpoint(path, strict=False)
    assert torch.equal(encoder.state_dict()["latlayer2.weight"], tiny_encoder.state_dict()["latlayer2.weight"])


def test_preprocess_resizes_and_maps_to_unit_range():
    img = Image.new("RGB", (300, 200), (255, 0, 51))
    x = preprocess_image(img, 256)
    assert x.shape == (3, 256, 256)
    torch.testing.assert_close(x[:, 100, 100], torch.tensor([1.0, -1.0, 51 / 255 * 2 - 1]))
    gray = preprocess_image(Image.new("L", (64, 64), 128), 64)
    assert gray.shape == (3, 64, 64)
    torch.testing.assert_close(gray, torch.full((3, 64, 64), 128 / 255 * 2 - 1))
    ramp = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (256, 1)))
    r = preprocess_image(ramp, 256)
    assert r.min() == -1.0 and r.max() == 1.0
    assert torch.all(r[0, :, 1:] >= r[0, :, :-1])  # left-to-right ramp preserved
