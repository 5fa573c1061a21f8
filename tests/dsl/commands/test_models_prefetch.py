"""`styleclip models prefetch`: exit codes and what it tells a CI log."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from styleclip_dsl.commands.models import app


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("STYLECLIP_CACHE", str(root))
    (root / "modelsets").mkdir(parents=True)
    body = {"schema": 1, "name": "mini", "description": "mini set",
            "mappers": {"a": {"name": "a.bin", "sha256": hashlib.sha256(b"alpha").hexdigest(),
                              "url": "https://example.org/a.bin"}}}
    (root / "modelsets" / "mini.yaml").write_text(yaml.safe_dump(body))
    return root


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_without_files_it_lists_what_is_missing_and_exits_1(cache):
    result = run("prefetch", "mini")
    assert result.exit_code == 1
    assert f"put it at {cache / 'models' / 'mini' / 'a.bin'}" in result.output
    assert "from https://example.org/a.bin" in result.output
    assert "nothing is downloaded" in result.output


def test_from_a_folder_it_fills_the_cache_and_exits_0(cache, tmp_path):
    src = tmp_path / "artifact"
    src.mkdir()
    (src / "a.bin").write_bytes(b"alpha")
    result = run("prefetch", "mini", "--from", str(src))
    assert result.exit_code == 0, result.output
    assert "copied" in result.output and "all 1 files of 'mini' are in place" in result.output
    assert (cache / "models" / "mini" / "a.bin").read_bytes() == b"alpha"
    assert run("prefetch", "mini").exit_code == 0  # now present


def test_a_tampered_file_is_refused(cache, tmp_path):
    src = tmp_path / "artifact"
    src.mkdir()
    (src / "a.bin").write_bytes(b"beta")
    result = run("prefetch", "mini", "--from", str(src))
    assert result.exit_code == 1
    assert "mismatch" in result.output and not (cache / "models" / "mini" / "a.bin").exists()


def test_unknown_set_or_bad_folder_exit_1(cache, tmp_path):
    assert run("prefetch", "nope").exit_code == 1
    assert run("prefetch", "mini", "--from", str(tmp_path / "nowhere")).exit_code == 1
