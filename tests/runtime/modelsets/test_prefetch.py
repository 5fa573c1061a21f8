"""Prefetch: files come into ``<cache>/models/<set>/`` only from a given folder and only
when their size and sha256 match; shipped (``path:``) files are never copied."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from styleclip_runtime.modelsets import prefetch as pf
from styleclip_runtime.modelsets.registry import parse_spec


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture()
def env(tmp_path) -> dict[str, str]:
    return {"STYLECLIP_CACHE": str(tmp_path / "cache")}


def make_spec(tmp_path: Path, mappers: dict) -> object:
    return parse_spec({"schema": 1, "name": "mini", "mappers": mappers}, tmp_path / "mini.yaml")


def test_copies_verified_files_from_the_source_folder(tmp_path, env):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(b"alpha")
    spec = make_spec(tmp_path, {"a": {"name": "a.bin", "sha256": sha(b"alpha"), "size": 5}})
    [result] = pf.prefetch(spec, src, env)
    target = tmp_path / "cache" / "models" / "mini" / "a.bin"
    assert (result.status, result.path, result.ok) == ("copied", target, True)
    assert target.read_bytes() == b"alpha"
    assert [p.name for p in target.parent.iterdir()] == ["a.bin"]  # no temporary file left
    [again] = pf.prefetch(spec, None, env)
    assert again.status == "present"


def test_a_file_with_the_wrong_digest_is_not_copied(tmp_path, env):
    src = tmp_path / "src" / "mini"  # the <DIR>/<set>/<file> layout is found too
    src.mkdir(parents=True)
    (src / "a.bin").write_bytes(b"tampered")
    spec = make_spec(tmp_path, {"a": {"name": "a.bin", "sha256": sha(b"alpha")}})
    [result] = pf.prefetch(spec, tmp_path / "src", env)
    assert result.status == "mismatch" and not result.ok
    assert f"sha256 {sha(b'tampered')} != {sha(b'alpha')}" in result.detail
    assert not (tmp_path / "cache" / "models" / "mini" / "a.bin").exists()


def test_a_wrong_size_is_caught_before_hashing(tmp_path, env):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(b"alpha")
    spec = make_spec(tmp_path, {"a": {"name": "a.bin", "size": 6}})
    [result] = pf.prefetch(spec, src, env)
    assert result.status == "mismatch" and result.detail.endswith("size 5 != 6; not copied")


def test_a_bad_cached_file_is_replaced_from_the_source(tmp_path, env):
    cached = tmp_path / "cache" / "models" / "mini" / "a.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"stale")
    spec = make_spec(tmp_path, {"a": {"name": "a.bin", "sha256": sha(b"alpha")}})
    [without] = pf.prefetch(spec, None, env)
    assert without.status == "mismatch"
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(b"alpha")
    [with_src] = pf.prefetch(spec, src, env)
    assert with_src.status == "copied" and cached.read_bytes() == b"alpha"


def test_missing_files_report_target_and_url(tmp_path, env):
    spec = make_spec(tmp_path, {"a": {"name": "a.bin", "url": "https://example.org/a.bin"}})
    [result] = pf.prefetch(spec, None, env)
    assert (result.status, result.url) == ("missing", "https://example.org/a.bin")
    assert result.path == tmp_path / "cache" / "models" / "mini" / "a.bin"


def test_shipped_files_are_never_copied(tmp_path, env):
    (tmp_path / "weights.bin").write_bytes(b"w")
    spec = make_spec(tmp_path, {"a": {"path": "weights.bin"}, "b": {"path": "absent.bin"}})
    src = tmp_path / "src"
    src.mkdir()
    (src / "absent.bin").write_bytes(b"x")
    shipped, absent = pf.prefetch(spec, src, env)
    assert (shipped.status, shipped.path) == ("shipped", tmp_path / "weights.bin")
    assert absent.status == "missing" and "shipped file absent" in absent.detail
    assert not (tmp_path / "cache").exists()
