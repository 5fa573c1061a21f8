"""`styleclip models add`: a verified YAML for one's own checkpoints (the tiny set's generator and
encoder stand in for real FFHQ files): configs read from the weights, sha256s pinned and checked,
the set usable by name; networks that are not a pair, or not checkpoints, refused."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from styleclip_runtime.models.modelset import ModelSet
from styleclip_runtime.modelsets import registry
from typer.testing import CliRunner

from styleclip_dsl.cli import app

from ..tiny_modelset import ENC, GEN, write_generator_and_encoder


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    """A tiny generator and its e4e encoder (random weights; what `models add` reads is their layout)."""
    import torch

    from styleclip_runtime.models.e4e import E4EConfig, Encoder4Editing, save_e4e_checkpoint

    folder = tmp_path_factory.mktemp("checkpoints")
    write_generator_and_encoder(folder, mean_samples=64)
    other = E4EConfig(**{**ENC, "style_dim": 16})  # for a generator with 16-wide styles
    save_e4e_checkpoint(Encoder4Editing(other), torch.zeros(ENC["n_styles"], 16), folder / "other_encoder.pt")
    (folder / "smile.pt").write_bytes(b"a mapper's bytes")  # hashed and pinned; mappers load on first use
    return folder


def test_models_add_writes_a_verified_yaml_usable_by_name(checkpoints, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    folder = checkpoints
    result = CliRunner().invoke(app, ["models", "add", "mine", "--generator", str(folder / "generator.pt"),
                                      "--e4e", str(folder / "encoder.pt"), "--mapper", f"smile={folder / 'smile.pt'}"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "cache" / "modelsets" / "mine.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["align"] == "ffhq" and data["clip"]["arch"] == "ViT-B-32-quickgelu"  # from the base set, ffhq
    assert {k: data["generator"]["config"][k] for k in GEN} == GEN  # read from the weights
    assert data["encoder"]["config"]["n_styles"] == ENC["n_styles"]
    assert data["generator"]["file"]["sha256"] == registry.sha256_file(folder / "generator.pt")
    spec = registry.find_spec("mine")
    statuses = {c.role: c.status for c in registry.verify(spec)}
    assert statuses["generator"] == statuses["encoder"] == statuses["mapper:smile"] == "ok"
    ms = ModelSet.load("mine")
    assert ms.generator.config.size == GEN["size"] and ms.encoder is not None
    again = CliRunner().invoke(app, ["models", "add", "mine", "--generator", str(folder / "generator.pt"),
                                     "--e4e", str(folder / "encoder.pt")])
    assert again.exit_code == 1 and "--force" in again.output


def test_models_add_refuses_what_is_not_a_pair_or_not_a_checkpoint(checkpoints, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    folder = checkpoints
    swapped = CliRunner().invoke(app, ["models", "add", "bad", "--generator", str(folder / "encoder.pt"),
                                       "--e4e", str(folder / "encoder.pt"), "--base", "none"])
    assert swapped.exit_code == 1 and "--generator" in swapped.output
    unpaired = CliRunner().invoke(app, ["models", "add", "bad", "--generator", str(folder / "generator.pt"),
                                        "--e4e", str(folder / "other_encoder.pt"), "--base", "none"])
    assert unpaired.exit_code == 1 and "not a pair" in unpaired.output
    shutil.copy(folder / "generator.pt", tmp_path / "g.pt")
    (tmp_path / "e.pt").write_bytes(b"not a checkpoint")
    broken = CliRunner().invoke(app, ["models", "add", "bad", "--generator", str(tmp_path / "g.pt"),
                                      "--e4e", str(tmp_path / "e.pt"), "--base", "none"])
    assert broken.exit_code == 1 and "--e4e" in broken.output
    assert not (tmp_path / "cache" / "modelsets" / "bad.yaml").exists()


def test_the_documented_template_is_a_valid_set(tmp_path) -> None:
    """docs/models.md's template parses with the schema it documents (and says align: ffhq)."""
    import re

    text = (Path(__file__).resolve().parents[3] / "docs" / "models.md").read_text()
    block = re.search(r"### A template\n\n```yaml\n(.*?)```", text, re.S).group(1)
    spec = registry.parse_spec(yaml.safe_load(block), tmp_path / "myfaces.yaml")
    assert spec.name == "myfaces" and spec.align == "ffhq" and set(spec.mappers) == {"smile"}
