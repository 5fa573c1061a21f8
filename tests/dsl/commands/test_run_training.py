"""`styleclip run` says what it would train and for how long, and starts only with --train; `styleclip
test` shows each recipe's error once."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from styleclip_dsl.cli import app
from styleclip_dsl.commands.test import run_one

from ...runtime.tiny_modelset import write_tiny_modelset

RECIPE = "generate seed=1\nmapper 'frown'\nsave out/{name}.png\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_modelset(tmp_path_factory.mktemp("tiny-models"))


def invoke(args: list[str], cwd: Path, cache: Path):
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, args, env={"STYLECLIP_CACHE": str(cache), "COLUMNS": "200"})
    finally:
        os.chdir(old)


def test_a_long_training_needs_the_train_flag(tiny, tmp_path) -> None:
    spec = yaml.safe_load(tiny.read_text())
    yaml_path = tiny.parent / "tiny-slow.yaml"  # the same files, with a slow training estimate
    spec["defaults"]["estimates"] = {"cpu": {"mapper_training_step": 20.0}}  # 3 steps: "about 60 s"
    yaml_path.write_text(yaml.safe_dump(spec))
    (tmp_path / "r.sc").write_text(RECIPE)
    args = ["run", "r.sc", "--models", str(yaml_path), "--device", "cpu"]
    refused = invoke(args, tmp_path, tmp_path / "cache")
    assert refused.exit_code == 2, refused.output
    assert "this would train a mapper for 'frown' (3 training steps), about 60 s on cpu" in refused.output
    assert "--train" in refused.output and not (tmp_path / "out").exists()
    started = invoke(args + ["--train"], tmp_path, tmp_path / "cache")
    assert started.exit_code == 0, started.output
    assert (tmp_path / "out" / "seed1.png").is_file()
    # trained and cached: the next run needs no flag
    assert invoke(args, tmp_path, tmp_path / "cache").exit_code == 0


def test_test_prints_a_runtime_error_once_and_shows_progress(tiny, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    yaml_path = tiny
    recipe = tmp_path / "broken.sc"
    recipe.write_text("generate seed=1\nglobal 'smile' beta=50\nsave out/{name}.png\n")
    bars = Console(file=io.StringIO(), force_terminal=True, width=120)
    result = run_one(recipe, sets={}, out=tmp_path, device="cpu", models=str(yaml_path), no_cache=False,
                     update_golden=False, progress=bars)
    assert result.status == "error" and result.message.count("keeps no StyleSpace channel") == 1
    assert "line 2: global 'smile'" in bars.file.getvalue()  # the live bar named the running step
    (tmp_path / "ok.sc").write_text("generate seed=1\nsave out/{name}.png\n")
    output = invoke(["test", "broken.sc", "ok.sc", "--models", str(yaml_path), "--device", "cpu"], tmp_path,
                    tmp_path / "cache").output
    assert output.count("keeps no StyleSpace channel") == 1 and "ERROR   broken.sc" in output
    assert "PASSED  ok.sc" in output
