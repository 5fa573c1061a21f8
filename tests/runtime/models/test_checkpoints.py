"""Generator checkpoint loading: official layouts, strict key reports, config
inference, safetensors, dtype/device, and unreadable files."""
from __future__ import annotations

import argparse
import warnings

import pytest
import torch

from model_testlib import fixture_keys, randomize
from styleclip_runtime.models.checkpoints import (
    CheckpointError,
    CheckpointFormatError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    infer_generator_config,
    load_generator_checkpoint,
    load_state_dict_checked,
    save_generator_checkpoint,
)
from styleclip_runtime.models.stylegan2 import Generator, GeneratorConfig

FFHQ_KEYS = "stylegan2-ffhq-1024-g_ema.keys.json"


def random_state(keys: dict[str, list[int]], seed: int = 0) -> dict[str, torch.Tensor]:
    rng = torch.Generator().manual_seed(seed)
    return {k: torch.randn(shape, generator=rng) for k, shape in keys.items()}


@pytest.fixture(scope="module")
def ffhq_generator() -> Generator:
    return Generator(1024, 512, 8, channel_multiplier=2)


@pytest.fixture(scope="module")
def ffhq_state() -> dict[str, torch.Tensor]:
    return random_state(fixture_keys(FFHQ_KEYS))


def _tiny(seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    return randomize(Generator(16, style_dim=32, n_mlp=2, channel_max=16), seed=seed)


# ---------------------------------------------------------------- FFHQ keys

def test_ffhq_key_file_loads_strictly(ffhq_generator, ffhq_state):
    report = load_state_dict_checked(ffhq_generator, ffhq_state, "FFHQ generator")
    assert report.ok
    sd = ffhq_generator.state_dict()
    for key in ("conv1.conv.weight", "convs.15.activate.bias", "to_rgbs.7.conv.modulation.weight",
                "noises.noise_16", "style.8.bias"):
        torch.testing.assert_close(sd[key], ffhq_state[key], rtol=0, atol=0)


def test_ffhq_config_is_inferred_from_shapes(ffhq_state):
    assert infer_generator_config(ffhq_state) == GeneratorConfig(1024, 512, 8, 2, 512)


@pytest.mark.parametrize("config", [
    GeneratorConfig(64, style_dim=128, n_mlp=4, channel_multiplier=0.25, channel_max=128),
    GeneratorConfig(256, style_dim=64, n_mlp=3, channel_multiplier=1, channel_max=64),
    GeneratorConfig(32, style_dim=16, n_mlp=1, channel_max=8),
    GeneratorConfig(128, style_dim=32, n_mlp=2, channel_multiplier=0.5, channel_max=512),
])
def test_config_inference_round_trips(config):
    state = Generator.from_config(config).state_dict()
    inferred = infer_generator_config(state)
    assert inferred.channel_widths() == config.channel_widths()
    assert (inferred.size, inferred.style_dim, inferred.n_mlp) == (config.size, config.style_dim, config.n_mlp)


def test_missing_extra_and_misshaped_keys_are_all_named(ffhq_generator, ffhq_state):
    state = dict(ffhq_state)
    del state["convs.3.noise.weight"]
    state["convs.16.conv.weight"] = torch.zeros(1)
    state["to_rgbs.2.conv.modulation.weight"] = torch.zeros(256, 512)
    before = ffhq_generator.conv1.conv.weight.detach().clone()
    state["conv1.conv.weight"] = torch.zeros_like(before)
    with pytest.raises(CheckpointMismatchError) as info:
        load_state_dict_checked(ffhq_generator, state, "FFHQ generator")
    err = info.value
    assert err.missing == ["convs.3.noise.weight"]
    assert err.unexpected == ["convs.16.conv.weight"]
    assert err.mismatched == [("to_rgbs.2.conv.modulation.weight", (512, 512), (256, 512))]
    text = str(err)
    for needle in ("missing", "convs.3.noise.weight", "unexpected", "convs.16.conv.weight",
                   "mis-shaped", "to_rgbs.2.conv.modulation.weight", "[256, 512]"):
        assert needle in text
    assert isinstance(err, CheckpointError)
    # strict failure loads nothing
    torch.testing.assert_close(ffhq_generator.conv1.conv.weight, before, rtol=0, atol=0)


# ----------------------------------------------------------- file layouts

def test_official_training_layout_with_args_and_optimizers(tmp_path):
    g = _tiny()
    other = _tiny(seed=1)
    path = tmp_path / "train.pt"
    torch.save({
        "g": other.state_dict(), "d": {"conv.weight": torch.zeros(2)}, "g_ema": g.state_dict(),
        "g_optim": {"state": {}, "param_groups": [{"lr": 0.002}]}, "d_optim": {"state": {}},
        "args": argparse.Namespace(size=16, latent=32, n_mlp=2), "ada_aug_p": 0.1,
        "latent_avg": torch.arange(32.0),
    }, path)
    loaded, latent_avg = load_generator_checkpoint(path)
    torch.testing.assert_close(latent_avg, torch.arange(32.0))
    w = torch.randn(2, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(w), g(w), rtol=0, atol=0)  # g_ema, not g
    assert not loaded.training


def test_save_and_load_round_trip_pt_and_safetensors(tmp_path):
    config = GeneratorConfig(32, style_dim=32, n_mlp=2, channel_multiplier=0.5, channel_max=16, lr_mlp=1.0)
    torch.manual_seed(3)
    g = randomize(Generator.from_config(config), seed=3)
    avg = torch.randn(32)
    w = torch.randn(2, 32)
    with torch.no_grad():
        expected = g(w)
    for name in ("g.pt", "g.safetensors"):
        save_generator_checkpoint(g, tmp_path / name, latent_avg=avg)
        loaded, latent_avg = load_generator_checkpoint(tmp_path / name)
        assert loaded.config == config  # lr_mlp is not in the weights: stored config
        torch.testing.assert_close(latent_avg, avg, rtol=0, atol=0)
        with torch.no_grad():
            torch.testing.assert_close(loaded(w), expected, rtol=0, atol=0)
    save_generator_checkpoint(g, tmp_path / "no_avg.pt")
    assert load_generator_checkpoint(tmp_path / "no_avg.pt")[1] is None


def test_bare_state_dict_and_decoder_wrapper(tmp_path):
    g = _tiny()
    torch.save(g.state_dict(), tmp_path / "bare.pt")
    wrapped = {f"decoder.{k}": v for k, v in g.state_dict().items()}
    wrapped["encoder.x"] = torch.zeros(1)
    torch.save({"state_dict": wrapped, "opts": {"stylegan_size": 16}}, tmp_path / "e4e.pt")
    w = torch.randn(1, 32)
    for name in ("bare.pt", "e4e.pt"):
        loaded, avg = load_generator_checkpoint(tmp_path / name)
        assert avg is None
        with torch.no_grad():
            torch.testing.assert_close(loaded(w), g(w), rtol=0, atol=0)


def test_dtype_and_device(tmp_path):
    g = _tiny()
    save_generator_checkpoint(g, tmp_path / "g.pt", latent_avg=torch.zeros(32))
    loaded, avg = load_generator_checkpoint(tmp_path / "g.pt", device="cpu", dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in loaded.parameters())
    assert avg.dtype == torch.float64 and avg.device.type == "cpu"
    w = torch.randn(1, 32, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(w).float(), g(w.float()), rtol=1e-5, atol=1e-5)


def test_explicit_config_mismatch_fails_strictly(tmp_path):
    g = _tiny()
    save_generator_checkpoint(g, tmp_path / "g.pt")
    with pytest.raises(CheckpointMismatchError) as info:
        load_generator_checkpoint(tmp_path / "g.pt", config=GeneratorConfig(32, 32, 2, channel_max=16))
    assert {"convs.4.conv.weight", "convs.5.conv.weight", "to_rgbs.2.bias"} <= set(info.value.missing)
    assert not info.value.unexpected and not info.value.mismatched


def test_non_strict_load_warns_and_loads_the_rest(tmp_path):
    g = _tiny()
    state = g.state_dict()
    del state["convs.1.noise.weight"]
    state["extra.weight"] = torch.zeros(3)
    torch.save({"g_ema": state}, tmp_path / "partial.pt")
    with pytest.raises(CheckpointMismatchError):
        load_generator_checkpoint(tmp_path / "partial.pt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded, _ = load_generator_checkpoint(tmp_path / "partial.pt", strict=False)
    text = " ".join(str(w.message) for w in caught)
    assert "partial load" in text and "convs.1.noise.weight" in text and "extra.weight" in text
    torch.testing.assert_close(loaded.conv1.conv.weight, g.conv1.conv.weight, rtol=0, atol=0)


# ------------------------------------------------------------ bad files

@pytest.mark.parametrize("name", ["g.pt", "g.safetensors"])
def test_truncated_file_gives_a_clear_error(tmp_path, name):
    save_generator_checkpoint(_tiny(), tmp_path / name)
    data = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointFormatError, match="truncated or corrupt") as info:
        load_generator_checkpoint(tmp_path / name)
    assert name in str(info.value)


class _Evil:
    def __reduce__(self):
        return (print, ("ran",))


def test_pickled_code_is_refused(tmp_path):
    torch.save({"g_ema": _tiny().state_dict(), "hook": _Evil()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointFormatError, match="refused"):
        load_generator_checkpoint(tmp_path / "evil.pt")


def test_missing_file_and_unknown_layout(tmp_path):
    with pytest.raises(CheckpointNotFoundError):
        load_generator_checkpoint(tmp_path / "nope.pt")
    torch.save({"weights": {"a": torch.zeros(1)}}, tmp_path / "odd.pt")
    with pytest.raises(CheckpointFormatError, match="no generator weights"):
        load_generator_checkpoint(tmp_path / "odd.pt")


def test_latent_avg_of_the_wrong_width_is_rejected(tmp_path):
    torch.save({"g_ema": _tiny().state_dict(), "latent_avg": torch.zeros(512)}, tmp_path / "g.pt")
    with pytest.raises(CheckpointFormatError, match="latent_avg"):
        load_generator_checkpoint(tmp_path / "g.pt")
