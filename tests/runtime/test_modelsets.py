"""Model sets: YAML schema, cache-dir resolution, verification, and the lazy ModelSet."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from styleclip_runtime.modelsets import registry
from styleclip_runtime.modelsets.registry import MissingModelFile, ModelSetError


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"STYLECLIP_CACHE": str(tmp_path / "cache"), "HF_HUB_CACHE": str(tmp_path / "hf")}


def test_cache_root_follows_the_conventions(tmp_path):
    home = Path.home()
    assert registry.cache_root({}) == home / ".cache" / "styleclip"
    assert registry.cache_root({"XDG_CACHE_HOME": "/x"}) == Path("/x/styleclip")
    assert registry.cache_root({"XDG_CACHE_HOME": "/x", "STYLECLIP_CACHE": "/y"}) == Path("/y")
    assert registry.models_dir("ffhq", {"STYLECLIP_CACHE": "/y"}) == Path("/y/models/ffhq")


def test_builtin_ffhq_names_the_official_files():
    spec = registry.find_spec("ffhq", {})
    assert spec.generator.file.name == "stylegan2-ffhq-config-f.pt"
    assert spec.generator.config == {"size": 1024, "style_dim": 512, "n_mlp": 8, "channel_multiplier": 2,
                                     "channel_max": 512}
    assert spec.encoder.file.name == "e4e_ffhq_encode.pt"
    assert spec.clip.arch == "ViT-B-32-quickgelu" and spec.clip.file.hf_hub
    assert spec.identity.file.name == "model_ir_se50.pth"
    assert len(spec.mappers) == 14 and spec.mappers["purple hair"].name == "purple_hair.pt"
    assert set(spec.global_stats) == {"s_mean_std", "fs3"}
    assert spec.global_stats["s_mean_std"].size == 75092
    assert all(f.url and f.url.startswith("https://") for f in spec.files())
    from styleclip_runtime.models.e4e import E4EConfig

    assert E4EConfig(**spec.encoder.config) == E4EConfig()


def test_toon_sample_paths_are_relative_to_its_yaml():
    spec = registry.find_spec("toon", {})
    assert spec.judge is not None and spec.identity is None
    assert spec.clip.config["embed_dim"] == 128 and spec.clip.arch is None
    path = registry.candidates(spec, spec.generator.file, {})[0]
    assert path == registry.BUILTIN_DIR / "toon" / "generator.safetensors"


def test_missing_file_says_where_and_from_where(tmp_path):
    env = env_for(tmp_path)
    spec = registry.find_spec("ffhq", env)
    with pytest.raises(MissingModelFile) as info:
        registry.resolve(spec, spec.encoder.file, env)
    text = str(info.value)
    assert str(tmp_path / "cache" / "models" / "ffhq" / "e4e_ffhq_encode.pt") in text
    assert "https://drive.google.com/uc?id=1cUv_reLE6k3604or78EranS7XzuVMWeO" in text


def test_hf_cache_is_a_fallback_for_clip(tmp_path):
    env = env_for(tmp_path)
    spec = registry.find_spec("ffhq", env)
    snap = tmp_path / "hf" / "models--timm--vit_base_patch32_clip_224.openai" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "open_clip_model.safetensors").write_bytes(b"x")
    assert registry.resolve(spec, spec.clip.file, env) == snap / "open_clip_model.safetensors"
    own = tmp_path / "cache" / "models" / "ffhq" / "open_clip_model.safetensors"
    own.parent.mkdir(parents=True)
    own.write_bytes(b"y")
    assert registry.resolve(spec, spec.clip.file, env) == own  # the set's own folder wins


def write_set(folder: Path, body: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{body['name']}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_verify_reports_each_status(tmp_path):
    env = env_for(tmp_path)
    files = tmp_path / "files"
    files.mkdir()
    (files / "good.bin").write_bytes(b"good")
    (files / "bad.bin").write_bytes(b"bad")
    (files / "free.bin").write_bytes(b"free")
    good = hashlib.sha256(b"good").hexdigest()
    body = {"schema": 1, "name": "mini", "description": "test",
            "identity": {"file": {"path": "../../files/good.bin", "sha256": good, "size": 4}},
            "mappers": {"a": {"path": "../../files/bad.bin", "sha256": "0" * 64},
                        "b": {"path": "../../files/free.bin"},
                        "c": {"name": "absent.bin", "url": "https://example.org/absent.bin"},
                        "d": {"path": "../../files/good.bin", "sha256": good, "size": 5}}}
    path = write_set(tmp_path / "cache" / "modelsets", body)
    spec = registry.find_spec("mini", env)
    assert spec.source == path.resolve()
    checks = {c.role: c for c in registry.verify(spec, env)}
    assert checks["identity"].status == "ok"
    assert checks["mapper:a"].status == "mismatch"
    assert checks["mapper:b"].status == "unpinned" and checks["mapper:b"].actual == hashlib.sha256(b"free").hexdigest()
    assert checks["mapper:c"].status == "missing" and "absent.bin" in checks["mapper:c"].detail
    assert checks["mapper:d"].status == "mismatch" and "size 4 != 5" in checks["mapper:d"].detail


@pytest.mark.parametrize("change, message", [
    ({"colour": 1}, "unknown key"),
    ({"identity": {"file": {"name": "a", "path": "b"}}}, "exactly one of 'name'"),
    ({"identity": {"file": {"name": "a", "sha256": "xyz"}}}, "sha256 must be 64 hex"),
    ({"identity": {"file": {"name": "a", "size": -1}}}, "size must be"),
    ({"clip": {"file": {"name": "a"}}}, "exactly one of 'arch'"),
    ({"schema": 2}, "schema 2"),
    ({"name": "two words"}, "'name' must be a word"),
    ({"mappers": ["a"]}, "'mappers' must be a mapping"),
])
def test_schema_errors_name_the_entry(tmp_path, change, message):
    body = {"schema": 1, "name": "bad", "description": "", **change}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(body))
    with pytest.raises(ModelSetError, match=message):
        registry.read_spec(path)


def test_unknown_set_lists_the_available_ones(tmp_path):
    with pytest.raises(ModelSetError, match=r"unknown model set 'nope' \(available: .*ffhq"):
        registry.find_spec("nope", env_for(tmp_path))


def test_prompt_keys_ignore_case_and_separators():
    assert registry.prompt_key("Purple  Hair") == registry.prompt_key("purple_hair") == "purple_hair"
    assert registry.prompt_key("bob-cut!") == "bob_cut"


def test_registry_and_cli_do_not_import_torch():
    code = ("import sys, styleclip_runtime.modelsets.registry, styleclip_dsl.commands.models; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- the torch side ------------------------------------------------------------------------------

@pytest.fixture
def tiny_set(tmp_path):
    """A complete small set on disk: generator, e4e (safetensors), custom CLIP, a mapper file."""
    from open_clip.model import CLIP
    from safetensors.torch import save_file

    from styleclip_runtime.models.e4e import E4EConfig, Encoder4Editing, save_e4e_checkpoint
    from styleclip_runtime.models.stylegan2 import Generator, save_generator_checkpoint

    folder = tmp_path / "sets"
    (folder / "tiny").mkdir(parents=True)
    torch.manual_seed(0)
    g = Generator(16, style_dim=32, n_mlp=2, channel_multiplier=0.5, channel_max=16, lr_mlp=1.0)
    save_generator_checkpoint(g, folder / "tiny" / "g.pt")
    enc_cfg = E4EConfig(input_size=32, n_styles=6, style_dim=32, stage_units=(1, 1, 1, 1), widths=(8, 16, 24, 32))
    save_e4e_checkpoint(Encoder4Editing(enc_cfg), torch.randn(6, 32), folder / "tiny" / "e4e.safetensors")
    clip_cfg = {"embed_dim": 16, "vision_cfg": {"image_size": 16, "patch_size": 8, "width": 16, "layers": 1,
                                                "head_width": 8},
                "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1}}
    clip = CLIP(embed_dim=16, vision_cfg=clip_cfg["vision_cfg"], text_cfg=clip_cfg["text_cfg"])
    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, str(folder / "tiny" / "clip.safetensors"))
    (folder / "tiny" / "purple.safetensors").write_bytes(b"mapper stand-in")
    body = {"schema": 1, "name": "tiny", "description": "tiny test set",
            "generator": {"file": {"path": "tiny/g.pt"}},
            "encoder": {"file": {"path": "tiny/e4e.safetensors"}, "config": enc_cfg.to_dict()},
            "clip": {"file": {"path": "tiny/clip.safetensors"}, "config": clip_cfg},
            "mappers": {"purple hair": {"path": "tiny/purple.safetensors",
                                        "sha256": hashlib.sha256(b"mapper stand-in").hexdigest()}},
            "defaults": {"neutral": "a face"}}
    return write_set(folder, body), g


def test_modelset_loads_each_network_once(tiny_set, tmp_path):
    from styleclip_runtime.models.e4e import Inverter
    from styleclip_runtime.models.modelset import ModelSet

    path, g = tiny_set
    ms = ModelSet.load(path, env=env_for(tmp_path))
    assert ms.name == "tiny" and ms.loaded() == []
    assert ms.cache_dir == tmp_path / "cache" / "models" / "tiny"
    gen = ms.generator
    assert gen is ms.generator and gen.config == g.config
    assert not any(p.requires_grad for p in gen.parameters())
    assert ms.latent_avg.shape == (gen.config.n_latent, 32)
    torch.testing.assert_close(ms.latent_avg[0], g.mean_latent(4096)[0])
    enc = ms.encoder
    assert isinstance(enc, Inverter) and enc is ms.encoder
    with torch.no_grad():
        assert enc(torch.zeros(1, 3, 32, 32)).shape == (1, 6, 32)
    clip = ms.clip
    assert clip is ms.clip and clip.encode_text(["a face"]).shape == (1, 16)
    assert ms.identity is None and ms.judge is None
    assert sorted(ms.loaded()) == ["clip", "encoder", "generator", "latent_avg"]
    assert ms.defaults == {"neutral": "a face"}
    ms.to("cpu")
    assert ms.device == torch.device("cpu")


def test_modelset_mapper_paths_and_fingerprints(tiny_set, tmp_path):
    from styleclip_runtime.models.modelset import ModelSet

    path, _ = tiny_set
    ms = ModelSet.load(path, env=env_for(tmp_path))
    assert ms.mapper_path("Purple_Hair") == path.parent / "tiny" / "purple.safetensors"
    assert ms.mapper_path("green hair") is None
    fps = ms.fingerprints()
    assert set(fps) == {"generator", "encoder", "clip", "mapper:purple hair"}
    assert fps["generator"] == hashlib.sha256((path.parent / "tiny" / "g.pt").read_bytes()).hexdigest()
    assert fps["mapper:purple hair"] == hashlib.sha256(b"mapper stand-in").hexdigest()
    assert ms.loaded() == []  # fingerprints never load a network


def test_modelset_missing_file_is_a_clear_error(tiny_set, tmp_path):
    from styleclip_runtime.models.modelset import ModelSet

    path, _ = tiny_set
    (path.parent / "tiny" / "g.pt").unlink()
    ms = ModelSet.load(path, env=env_for(tmp_path))
    with pytest.raises(MissingModelFile, match=r"generator file g\.pt is missing"):
        ms.generator
    assert "generator" not in ms.fingerprints()
