"""Hostile, truncated and foreign files give errors that name the file and never advise loading
with weights_only=False (#20 item 6): latent files, a mapper training's saved state, the judge,
shipped statistics."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from styleclip_dsl.cli import app
from styleclip_runtime.engines.mapper import MapperTraining, TrainingStateError, read_training_state
from styleclip_runtime.io.latents import LatentFileError, load_latents
from styleclip_runtime.io.safe_pickle import UnsafePickle, load_restricted
from styleclip_runtime.execution.warm import _load_shipped_stats
from styleclip_runtime.models.judge import load_judge


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def _hostile_pt(path: Path) -> Path:
    torch.save({"mapper": _Evil()}, path)
    return path


def test_a_restyle_dict_npy_loads_and_a_broken_one_says_why(tmp_path: Path) -> None:
    codes = {"b.png": np.ones((4, 8), np.float32), "a.png": np.zeros((1, 4, 8), np.float32)}
    np.save(tmp_path / "restyle.npy", codes, allow_pickle=True)
    batch = load_latents(tmp_path / "restyle.npy", 4, 8, None)
    assert batch.names == ["a", "b"] and batch.wplus.shape == (2, 4, 8)
    assert float(batch.wplus[1].sum()) == 32.0
    (tmp_path / "cut.npy").write_bytes((tmp_path / "restyle.npy").read_bytes()[:200])
    with pytest.raises(LatentFileError, match="cut.npy"):
        load_latents(tmp_path / "cut.npy", 4, 8, None)
    with pytest.raises(UnsafePickle, match="refusing"):
        load_restricted(pickle.dumps(_Evil()))


def test_latent_errors_never_advise_weights_only_false(tmp_path: Path) -> None:
    with pytest.raises(LatentFileError) as info:
        load_latents(_hostile_pt(tmp_path / "evil.pt"), 4, 8, None)
    assert "evil.pt" in str(info.value) and "objects other than tensors" in str(info.value)
    assert "weights_only" not in str(info.value) and "False" not in str(info.value)


def test_a_damaged_training_state_is_a_clear_error(tmp_path: Path) -> None:
    config = MapperTraining(steps=2, batch=2)
    bad = {"evil": _hostile_pt(tmp_path / "evil.training.pt"), "cut": tmp_path / "cut.training.pt",
           "list": tmp_path / "list.training.pt"}
    bad["cut"].write_bytes(b"PK\x03\x04 truncated")
    torch.save([1, 2], bad["list"])
    for path in bad.values():
        with pytest.raises(TrainingStateError, match=path.name) as info:
            read_training_state(path, "smile", config)
        assert "weights_only" not in str(info.value) and "remove it" in str(info.value)


def test_train_mapper_on_a_hostile_state_exits_3_naming_it(tmp_path: Path, monkeypatch) -> None:
    from styleclip_runtime.models.modelset import ModelSet

    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    state = ModelSet.load("toon").user_mapper_path("frown").with_suffix(".training.pt")
    state.parent.mkdir(parents=True)
    _hostile_pt(state)
    result = CliRunner().invoke(app, ["train", "mapper", "frown", "--models", "toon", "--steps", "1",
                                      "--batch", "2", "--device", "cpu"])
    assert result.exit_code == 3, result.output
    flat = result.output.replace("\n", "")
    assert state.name in flat and "Traceback" not in flat and "weights_only" not in flat


def test_judge_and_statistics_errors_name_the_file(tmp_path: Path) -> None:
    judge = tmp_path / "judge.safetensors"
    judge.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    (tmp_path / "judge_config.json").write_text("{}")
    with pytest.raises(ValueError, match="judge"):
        load_judge(judge)
    with pytest.raises(ValueError, match="judge.safetensors"):
        load_judge(judge, config=_toon_judge_config())
    stats = tmp_path / "stats.safetensors"
    stats.write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="stats.safetensors"):
        _load_shipped_stats({"stats": stats}, layout=[])
    s_mean_std = tmp_path / "S_mean_std"
    s_mean_std.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(ValueError, match="S_mean_std"):
        _load_shipped_stats({"s_mean_std": s_mean_std, "fs3": tmp_path / "fs3.npy"}, layout=[])


def _toon_judge_config():
    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_runtime.models.judge import JudgeConfig

    path = ModelSet.load("toon").path(ModelSet.load("toon").spec.judge.file)
    return JudgeConfig.from_json(path.with_name("judge_config.json").read_text())


def test_plan_explain_on_a_decompression_bomb_is_a_clean_error(tmp_path: Path, monkeypatch) -> None:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 900 M pixels claimed, 100 bytes given
    (tmp_path / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                                       + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))
    (tmp_path / "r.sc").write_text("invert big.png\nsave out/{name}.png\n")
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["plan", str(tmp_path / "r.sc"), "--explain"])
    assert result.exit_code == 3, result.output
    flat = result.output.replace("\n", "")
    assert "big.png" in flat and "too large" in flat and "Traceback" not in flat
