"""StyleCLIP LevelsMapper: the official key layout, level inference, the
PixelNorm-over-layers quirk, and the residual rule."""
from __future__ import annotations

import logging
import math

import pytest
import torch

from model_testlib import fixture_keys
from styleclip_runtime.models.checkpoints import CheckpointFormatError, CheckpointMismatchError
from styleclip_runtime.models.mapper import (
    LevelsMapper,
    apply_mapper,
    load_mapper_checkpoint,
    save_mapper_checkpoint,
)

MAPPER_KEYS = "styleclip-levels-mapper.keys.json"


def official_state(levels=("course", "medium", "fine"), seed: int = 0, decoder: bool = True) -> dict:
    rng = torch.Generator().manual_seed(seed)
    keys = fixture_keys(MAPPER_KEYS)
    state = {k: torch.randn(shape, generator=rng) for k, shape in keys.items()
             if k.split(".")[1].split("_")[0] in levels}
    if decoder:
        state["decoder.style.1.weight"] = torch.zeros(512, 512)
        state["decoder.noises.noise_0"] = torch.zeros(1, 1, 4, 4)
    return state


def test_official_three_level_file_loads_strictly(tmp_path, caplog):
    state = official_state()
    torch.save({"state_dict": state, "opts": {"stylegan_size": 1024, "no_fine_mapper": False}},
               tmp_path / "purple_hair.pt")
    with caplog.at_level(logging.INFO):
        mapper = load_mapper_checkpoint(tmp_path / "purple_hair.pt")
    assert mapper.levels == ("coarse", "medium", "fine")
    assert mapper.n_latent == 18 and mapper.style_dim == 512
    torch.testing.assert_close(mapper.fine_mapping.mapping[4].weight,
                               state["mapper.fine_mapping.mapping.4.weight"], rtol=0, atol=0)
    torch.testing.assert_close(mapper.course_mapping.mapping[1].bias,
                               state["mapper.course_mapping.mapping.1.bias"], rtol=0, atol=0)
    assert mapper.checkpoint_info.ignored == {"decoder.": 2}
    assert "ignored 2 'decoder.' keys" in caplog.text
    assert set(mapper.state_dict()) == {k[len("mapper."):] for k in state if k.startswith("mapper.")}


def test_coarse_medium_only_file_has_a_zero_fine_residual(tmp_path):
    state = official_state(levels=("course", "medium"))
    # the stored flag says the opposite: the keys decide
    torch.save({"state_dict": state, "opts": {"no_fine_mapper": False}}, tmp_path / "mohawk.pt")
    mapper = load_mapper_checkpoint(tmp_path / "mohawk.pt")
    assert mapper.levels == ("coarse", "medium")
    assert not hasattr(mapper, "fine_mapping")
    wplus = torch.randn(2, 18, 512)
    with torch.no_grad():
        residual = mapper(wplus)
    assert residual.shape == (2, 18, 512)
    assert not residual[:, 8:].any()
    assert residual[:, :8].abs().sum() > 0


def test_missing_layer_and_foreign_keys_fail_by_name(tmp_path):
    state = official_state(decoder=False)
    del state["mapper.medium_mapping.mapping.3.bias"]
    torch.save({"state_dict": state, "opts": {}}, tmp_path / "broken.pt")
    with pytest.raises(CheckpointMismatchError) as info:
        load_mapper_checkpoint(tmp_path / "broken.pt")
    assert info.value.missing == ["medium_mapping.mapping.3.bias"]
    state = official_state(decoder=False)
    state["encoder.x"] = torch.zeros(1)
    torch.save({"state_dict": state, "opts": {}}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointMismatchError) as info:
        load_mapper_checkpoint(tmp_path / "foreign.pt")
    assert info.value.unexpected == ["encoder.x"]
    torch.save({"state_dict": {"decoder.a": torch.zeros(1)}, "opts": {}}, tmp_path / "none.pt")
    with pytest.raises(CheckpointFormatError, match="no 'mapper.' keys"):
        load_mapper_checkpoint(tmp_path / "none.pt")


def test_pixelnorm_runs_over_the_layer_axis():
    torch.manual_seed(0)
    mapper = LevelsMapper(style_dim=4, n_latent=10, levels=("coarse",), n_layers=1)
    layer = mapper.course_mapping.mapping[1]
    with torch.no_grad():
        layer.bias.copy_(torch.tensor([10.0, -20.0, 30.0, 0.0]))
    wplus = torch.randn(1, 10, 4) * 3
    out = mapper(wplus)[0, :4]
    # by hand: x[l, c] / sqrt(mean over the 4 layers l of x[l, c]^2 + 1e-8), then one
    # EqualLinear (weight * 0.01 / sqrt(4), bias * 0.01) and leaky ReLU * sqrt(2)
    group = wplus[0, :4].tolist()
    rms = [math.sqrt(sum(group[k][c] ** 2 for k in range(4)) / 4 + 1e-8) for c in range(4)]
    normed = [[group[l][c] / rms[c] for c in range(4)] for l in range(4)]
    weight, bias = layer.weight.tolist(), layer.bias.tolist()
    expected = torch.empty(4, 4)
    for l in range(4):
        for c in range(4):
            pre = sum(normed[l][i] * weight[c][i] * 0.01 / 2 for i in range(4)) + bias[c] * 0.01
            expected[l, c] = (pre if pre > 0 else 0.2 * pre) * math.sqrt(2)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    # normalising over channels instead would give a different answer
    tgroup = wplus[0, :4]
    channel_norm = tgroup / tgroup.pow(2).mean(1, keepdim=True).add(1e-8).sqrt()
    alt = torch.nn.functional.leaky_relu(channel_norm @ (layer.weight * layer.scale).t() + layer.bias * 0.01,
                                         0.2) * math.sqrt(2)
    assert not torch.allclose(alt, out, atol=1e-4)


def test_groups_are_independent_and_apply_mapper_scales_by_a_tenth():
    torch.manual_seed(1)
    mapper = LevelsMapper(style_dim=8, n_latent=12)
    wplus = torch.randn(3, 12, 8)
    with torch.no_grad():
        base = mapper(wplus)
        moved = wplus.clone()
        moved[:, 5] += 1.0  # a medium row
        out = mapper(moved)
        torch.testing.assert_close(out[:, :4], base[:, :4], rtol=0, atol=0)
        torch.testing.assert_close(out[:, 8:], base[:, 8:], rtol=0, atol=0)
        assert not torch.allclose(out[:, 4:8], base[:, 4:8])
        torch.testing.assert_close(apply_mapper(mapper, wplus), wplus + 0.1 * base)
        torch.testing.assert_close(apply_mapper(mapper, wplus, strength=-2.5), wplus - 0.25 * base)
    with pytest.raises(ValueError, match="W\\+"):
        mapper(torch.randn(3, 18, 8))


def test_last_layer_has_the_activation():
    torch.manual_seed(2)
    mapper = LevelsMapper(style_dim=16, n_latent=18)
    with torch.no_grad():
        out = mapper(torch.randn(64, 18, 16))
    # leaky ReLU * sqrt(2) on the output: negatives are shrunk by 0.2
    neg, pos = out[out < 0], out[out > 0]
    assert neg.numel() and pos.numel()
    assert neg.abs().mean() < 0.5 * pos.mean()


@pytest.mark.parametrize("name", ["m.pt", "m.safetensors"])
def test_save_load_round_trip(tmp_path, name):
    torch.manual_seed(3)
    mapper = LevelsMapper(style_dim=32, n_latent=10, levels=("coarse", "fine"))
    save_mapper_checkpoint(mapper, tmp_path / name, opts={"description": "a toon with a hat"})
    loaded = load_mapper_checkpoint(tmp_path / name)
    assert loaded.levels == ("coarse", "fine") and loaded.n_latent == 10 and loaded.style_dim == 32
    assert loaded.checkpoint_info.opts["description"] == "a toon with a hat"
    assert loaded.checkpoint_info.opts["no_medium_mapper"] is True
    wplus = torch.randn(2, 10, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(wplus), mapper(wplus), rtol=0, atol=0)


def test_unknown_levels_rejected():
    with pytest.raises(ValueError, match="levels"):
        LevelsMapper(levels=("coarse", "hair"))


@pytest.mark.parametrize("name", ["w.pt", "w.safetensors"])
def test_a_w_space_mapper_adds_one_offset_to_every_row_its_levels_cover(tmp_path, name):
    """``space="w"``: the residual is the mean of the levels' outputs over the rows they cover,
    the same on each of those rows and zero on the others; the checkpoint records it, and a file
    without the record (every official one) is a W+ mapper."""
    torch.manual_seed(4)
    plain = LevelsMapper(style_dim=32, n_latent=10, levels=("coarse", "medium"))
    shared = LevelsMapper(style_dim=32, n_latent=10, levels=("coarse", "medium"), space="w")
    shared.load_state_dict(plain.state_dict())
    wplus = torch.randn(3, 10, 32)
    with torch.no_grad():
        per_row, one = plain(wplus), shared(wplus)
    torch.testing.assert_close(one[:, :8], per_row[:, :8].mean(1, keepdim=True).expand(-1, 8, -1))
    assert torch.count_nonzero(one[:, 8:]) == 0
    save_mapper_checkpoint(shared, tmp_path / name, opts={})
    loaded = load_mapper_checkpoint(tmp_path / name)
    assert loaded.space == "w" and loaded.checkpoint_info.opts["mapper_space"] == "w"
    with torch.no_grad():
        torch.testing.assert_close(loaded(wplus), one, rtol=0, atol=0)
    save_mapper_checkpoint(plain, tmp_path / ("plain-" + name), opts={})
    assert load_mapper_checkpoint(tmp_path / ("plain-" + name)).space == "wplus"
    assert "mapper_space" not in load_mapper_checkpoint(tmp_path / ("plain-" + name)).checkpoint_info.opts


def test_an_unknown_mapper_space_is_a_format_error(tmp_path):
    torch.save({"state_dict": official_state(decoder=False), "opts": {"mapper_space": "s"}}, tmp_path / "x.pt")
    with pytest.raises(CheckpointFormatError, match="mapper_space 's'"):
        load_mapper_checkpoint(tmp_path / "x.pt")
    with pytest.raises(ValueError, match="space"):
        LevelsMapper(space="z")
