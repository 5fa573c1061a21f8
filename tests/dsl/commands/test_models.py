"""`styleclip models list` / `styleclip models verify`: tables and exit codes."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from styleclip_dsl.commands.models import app, human_size


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("STYLECLIP_CACHE", str(root))
    files = root / "models" / "mini"
    files.mkdir(parents=True)
    (files / "a.bin").write_bytes(b"alpha")
    (files / "b.bin").write_bytes(b"beta")
    return root


def write_set(cache: Path, name: str, entries: dict) -> None:
    folder = cache / "modelsets"
    folder.mkdir(exist_ok=True)
    body = {"schema": 1, "name": name, "description": f"{name} set", "mappers": entries}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(body))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_verify_all_good_exits_0(cache):
    write_set(cache, "mini", {"a": {"name": "a.bin", "sha256": sha(b"alpha")},
                              "b": {"name": "b.bin", "sha256": sha(b"beta"), "size": 4}})
    result = run("verify", "mini")
    assert result.exit_code == 0, result.output
    assert result.output.count(" ok ") >= 2 and "2 ok, 0 unpinned, 0 missing, 0 mismatch" in result.output


def test_verify_mismatch_or_missing_exits_1(cache):
    write_set(cache, "mini", {"a": {"name": "a.bin", "sha256": sha(b"other")},
                              "c": {"name": "c.bin", "url": "https://example.org/c.bin"}})
    result = run("verify", "mini")
    assert result.exit_code == 1
    assert "mismatch" in result.output and "missing" in result.output
    assert "0 ok, 0 unpinned, 1 missing, 1 mismatch" in result.output


def test_unpinned_passes_unless_strict(cache):
    write_set(cache, "mini", {"a": {"name": "a.bin"}})
    result = run("verify", "mini")
    assert result.exit_code == 0 and "unpinned" in result.output
    assert sha(b"alpha") in result.output  # shown so that it can be pinned
    assert run("verify", "mini", "--strict").exit_code == 1


def test_verify_unknown_set_exits_1(cache):
    result = run("verify", "no-such-set")
    assert result.exit_code == 1


def test_list_shows_presence_and_size(cache):
    write_set(cache, "mini", {"a": {"name": "a.bin"}, "b": {"name": "b.bin"}, "c": {"name": "c.bin"}})
    result = run("list")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "mini" in line)
    assert "2/3" in row and "9 B" in row
    assert "ffhq" in result.output and "toon" in result.output


def test_human_size():
    assert human_size(None) == "-"
    assert human_size(512) == "512 B"
    assert human_size(3 * 1024 ** 2) == "3.0 MiB"
