"""`zoo build toon` end to end, at smoke size: every trainer runs, in order,
and writes the files the model set is loaded from."""
from __future__ import annotations

import json

import pytest
import torch

from styleclip_runtime.models.checkpoints import load_generator_checkpoint
from styleclip_runtime.models.e4e import load_e4e_checkpoint
from styleclip_zoo.toon.build import BuildSettings, build_toon, load_toon_clip
from styleclip_zoo.toon.clip import CLIP_CONFIG
from styleclip_runtime.models.judge import load_judge


@pytest.mark.slow
def test_smoke_build_writes_a_loadable_model_set(tmp_path):
    messages: list[str] = []
    report = build_toon(tmp_path / "toon", seed=0, log=messages.append, settings=BuildSettings.smoke())
    out = tmp_path / "toon"
    assert set(report.seconds) == {"judge", "judge2", "clip", "generator", "encoder", "global_stats", "mappers"}
    judge = load_judge(out / "judge.safetensors")
    verdicts = judge.predict(torch.zeros(2, 3, 64, 64))
    assert len(verdicts) == 2
    second = load_judge(out / "judge2.safetensors")  # its own config beside it: the pooled arch
    assert second.config.arch == "pooled" and judge.config.arch == "strided"
    assert len(second.predict(torch.zeros(2, 3, 64, 64))) == 2
    assert json.loads((out / "clip_config.json").read_text()) == json.loads(json.dumps(CLIP_CONFIG))
    clip = load_toon_clip(out)
    assert clip.encode_text(["smile"]).shape == (1, CLIP_CONFIG["embed_dim"])
    gen, _ = load_generator_checkpoint(out / "generator.safetensors")
    assert gen.size == 64
    enc, avg, _ = load_e4e_checkpoint(out / "encoder.safetensors")
    assert avg.shape == (gen.n_latent, gen.style_dim)
    from styleclip_runtime.engines.global_directions import GlobalStats

    stats = GlobalStats.load(out / "global_stats.safetensors")
    assert stats.fs3.shape[0] == 1_088  # every non-toRGB style channel of toon-G
    assert torch.isfinite(stats.fs3).all()
    from styleclip_runtime.engines.mapper import apply_strength
    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_runtime.modelsets import registry

    # the build's YAML pins the files it wrote, and the set loads through it
    yaml_path = report.files["yaml"]
    assert yaml_path == out / "toon.yaml"
    checks = registry.verify(registry.read_spec(yaml_path))
    assert checks and all(c.status == "ok" for c in checks), [(c.role, c.status) for c in checks]
    assert {c.role for c in checks} >= {"generator", "encoder", "clip", "judge", "global_stats:stats", "mapper:smile"}
    assert "mapper:beard" not in {c.role for c in checks}  # not built at smoke size: trained on first use instead
    ms = ModelSet.load(yaml_path)
    w = ms.generator.mean_latent(16, seed=0).expand(1, ms.generator.n_latent, -1)
    from styleclip_runtime.models.mapper import load_mapper_checkpoint

    mapper = load_mapper_checkpoint(ms.mapper_path("smile"))
    with torch.no_grad():
        assert not torch.equal(apply_strength(mapper, w, 1.0), w)
    # a second build keeps every finished step: nothing is trained or rewritten
    from styleclip_zoo.toon.build import STEP_OUTPUTS, step_marker

    def stamps() -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in out.glob("*.safetensors")}

    before, later = stamps(), []
    again = build_toon(out, seed=0, log=later.append, settings=BuildSettings.smoke())
    assert stamps() == before
    # each kept step reports the time it took when it ran (the mappers step keeps its files by itself)
    assert {k: again.seconds[k] for k in STEP_OUTPUTS} == {k: report.seconds[k] for k in STEP_OUTPUTS}
    assert again.metrics["judge"] == json.loads(json.dumps(report.metrics["judge"]))
    assert [m for m in later if m.endswith(" ...")] == ["[toon build] mappers ..."], later
    assert any("exists, kept" in m for m in later)
    # a step whose file went missing trains again; the steps before it are kept
    (out / "encoder.safetensors").unlink()
    later.clear()
    build_toon(out, seed=0, log=later.append, settings=BuildSettings.smoke(), steps=("judge", "encoder"))
    assert "[toon build] encoder ..." in later and "[toon build] judge ..." not in later
    assert (out / "encoder.safetensors").exists()
    # --redo trains a finished step again; another seed is not the finished step
    judge_stamp = (out / "judge.safetensors").stat().st_mtime_ns
    build_toon(out, seed=0, log=later.append, settings=BuildSettings.smoke(), steps=("judge",), redo=True)
    assert (out / "judge.safetensors").stat().st_mtime_ns != judge_stamp
    later.clear()
    build_toon(out, seed=1, log=later.append, settings=BuildSettings.smoke(), steps=("judge",))
    assert "[toon build] judge ..." in later
    # a step cut short (no marker) resumes from its checkpoints instead of starting over
    step_marker(out / "work", "generator").unlink()
    resumed = build_toon(out, seed=0, log=messages.append, settings=BuildSettings.smoke(), steps=("generator",))
    assert resumed.seconds["generator"] < report.seconds["generator"]

def test_the_shipped_yaml_pins_the_shipped_files():
    """Rewriting the shipped toon.yaml from the shipped files changes nothing: what a rebuild into
    the shipped folder would write is what a clean checkout has."""
    from styleclip_zoo.toon.modelset_yaml import SHIPPED_DIR, SHIPPED_YAML, toon_yaml_text

    text = SHIPPED_YAML.read_text()
    assert toon_yaml_text(SHIPPED_DIR, text) == text
    import re

    stale = re.sub(r"sha256: [0-9a-f]{64}", "sha256: " + "0" * 64, text, count=1)  # the generator's
    assert stale != text and toon_yaml_text(SHIPPED_DIR, stale) == text
