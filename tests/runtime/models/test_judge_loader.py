"""The judge loader: both architectures, their configs beside the weights, strict keys; a set's second judge."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from styleclip_runtime.models.judge import Judge, JudgeConfig, PooledJudge, build_judge, load_judge
from styleclip_zoo.toon.attributes import FAMILIES
from styleclip_zoo.toon.train_judge2 import judge2_config
from styleclip_zoo.toon.training import export_fp16

ROOT = Path(__file__).resolve().parents[3]
TOON = ROOT / "runtime" / "modelsets"


@pytest.fixture()
def pooled(tmp_path) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(3)
    judge = build_judge(judge2_config()).eval()
    export_fp16(judge, tmp_path / "judge2.safetensors")
    (tmp_path / "judge2_config.json").write_text(judge.config.to_json())
    return tmp_path / "judge2.safetensors", judge


def test_a_pooled_judge_loads_from_its_own_config_with_its_values(pooled):
    path, judge = pooled
    # a strided judge's config in the same folder must not be picked for judge2.safetensors
    (path.parent / "judge_config.json").write_text(JudgeConfig(families=dict(FAMILIES)).to_json())
    loaded = load_judge(path)
    assert isinstance(loaded, PooledJudge) and loaded.config == judge.config
    x = torch.rand(4, 3, 64, 64) * 2 - 1
    ours, theirs = judge.half().float()(x), loaded(x)  # fp16 on disk, float32 in memory
    for f in FAMILIES:
        torch.testing.assert_close(theirs[0][f], ours[0][f], atol=1e-4, rtol=1e-4)
    assert [v.attributes for v in loaded.predict(x)] == [v.attributes for v in judge.half().float().predict(x)]


def test_the_loader_is_strict_about_keys_and_shapes(pooled, tmp_path):
    from safetensors.torch import load_file, save_file

    path, _ = pooled
    state = load_file(str(path))
    del state["hue.bias"]
    save_file(state, str(tmp_path / "judge2.safetensors"))
    with pytest.raises(ValueError, match=r"judge2.safetensors: cannot load the judge.*hue.bias"):
        load_judge(tmp_path / "judge2.safetensors")
    # the pooled weights under a strided config: refused, not half-loaded
    with pytest.raises(ValueError, match="cannot load the judge"):
        load_judge(path, JudgeConfig(families=dict(FAMILIES)))


def test_configs_say_what_they_build():
    old = json.loads((TOON / "toon" / "judge_config.json").read_text())
    old.pop("arch", None)  # a config written before the second judge has no arch: the strided one
    assert JudgeConfig.from_json(json.dumps(old)).arch == "strided"
    config = judge2_config()
    assert JudgeConfig.from_json(config.to_json()) == config
    assert isinstance(build_judge(JudgeConfig(families=dict(FAMILIES))), Judge)
    with pytest.raises(ValueError, match="one kernel size and one stride per layer"):
        JudgeConfig(families=dict(FAMILIES), arch="pooled", channels=(8, 16), kernels=(3,), strides=(2, 2))
    with pytest.raises(ValueError, match="unknown judge arch 'vit'"):
        JudgeConfig(families=dict(FAMILIES), arch="vit")
    n = sum(p.numel() for p in build_judge(config).parameters())
    assert n * 2 <= 2.5e6  # fp16 on disk: within the 2.5 MB


def _set_with_judge2(tmp_path: Path, judge2: Path) -> Path:
    """toon.yaml with a second judge (its config: the JSON beside its weights)."""
    text = (TOON / "toon.yaml").read_text().replace("path: toon/", f"path: {TOON / 'toon'}/")
    text += f"\njudge2:\n  file: {{path: {judge2}, sha256: null, size: null}}\n  config: {{}}\n"
    (tmp_path / "toon2.yaml").write_text(text)
    return tmp_path / "toon2.yaml"


def test_a_set_with_a_second_judge_serves_both_and_checks_their_families(pooled, tmp_path):
    from styleclip_runtime.models.modelset import ModelSet

    path, _ = pooled
    ms = ModelSet.load(str(_set_with_judge2(tmp_path, path)))
    roles = [(role, type(j).__name__) for role, j in ms.judges]
    assert roles == [("judge", "Judge"), ("judge2", "PooledJudge")]
    assert "judge2" in {f.role for f in ms.spec.files()}  # verified and fingerprinted like every file
    # a second judge that reads one family less: it loads, and the set refuses the pair
    from dataclasses import replace

    other = tmp_path / "other"
    other.mkdir()
    fewer = build_judge(replace(judge2_config(), families={f: v for f, v in FAMILIES.items() if f != "skin"}))
    export_fp16(fewer, other / "judge2.safetensors")
    (other / "judge2_config.json").write_text(fewer.config.to_json())
    ms = ModelSet.load(str(_set_with_judge2(other, other / "judge2.safetensors")))
    with pytest.raises(ValueError, match="judge2 reads other attribute families than judge"):
        ms.judges
