"""A model file whose bytes changed under a pinned sha256 is refused, never cached under the good
digest, and verification is remembered by (size, mtime_ns, inode) across processes (#20 item 4)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from styleclip_runtime.execution.errors import StepError
from styleclip_runtime.models.modelset import ModelSet
from styleclip_runtime.modelsets import verified
from styleclip_runtime.modelsets.registry import sha256_file
from styleclip_runtime.modelsets.verified import DigestRecord, ModelFileMismatch
from styleclip_runtime.execution.build_executor import open_executor

from ..test_executor import make_plan


@pytest.fixture()
def pinned(tmp_path: Path, monkeypatch) -> Path:
    """A model set of one tiny generator whose YAML pins its sha256, with a cache of the test's own."""
    import torch

    from styleclip_runtime.models.stylegan2 import Generator, save_generator_checkpoint

    from ..tiny_modelset import GEN

    folder = tmp_path / "set"
    folder.mkdir()
    torch.manual_seed(0)
    save_generator_checkpoint(Generator(**GEN), folder / "generator.pt")
    (folder / "notes.bin").write_bytes(b"an unpinned file")
    spec = {"schema": 1, "name": "pinned", "description": "one pinned generator",
            "generator": {"file": {"path": "generator.pt", "sha256": sha256_file(folder / "generator.pt")},
                          "config": GEN},
            "global_stats": {"stats": {"path": "notes.bin"}}}
    path = folder / "pinned.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    return path


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit: same size, and a loader would not notice
    path.write_bytes(bytes(data))


def test_a_damaged_model_file_is_refused_naming_it_and_lends_no_digest(pinned: Path, tmp_path: Path) -> None:
    good = ModelSet.load(pinned)
    pinned_digest = good.spec.component("generator").file.sha256
    assert good.fingerprints()["generator"] == pinned_digest
    good.generator  # the intact file loads
    generator_file = pinned.parent / "generator.pt"
    _damage(generator_file)
    later = ModelSet.load(pinned)  # a later process
    with pytest.raises(ModelFileMismatch, match=str(generator_file)):
        later.generator
    assert later.fingerprints()["generator"] == sha256_file(generator_file) != pinned_digest
    plan = make_plan([{"kind": "source", "op": "generate", "subject": "s", "params": {"seeds": [1],
                                                                                   "truncation": 0.7}},
                      {"kind": "save", "input": "s1", "mode": "image", "path": "x.png"}], modelset="pinned")
    with pytest.raises(StepError, match="generator.pt"):
        open_executor(str(pinned), "cpu").run(plan, "", tmp_path, tmp_path / "out")
    assert not (tmp_path / "out" / "x.png").exists()


def test_verification_is_remembered_by_size_mtime_and_inode(pinned: Path, monkeypatch) -> None:
    hashed: list[str] = []
    monkeypatch.setattr(verified, "sha256_file", lambda p: hashed.append(Path(p).name) or sha256_file(p))
    ModelSet.load(pinned).fingerprints()
    first = sorted(hashed)
    assert first == ["generator.pt", "notes.bin"]
    fresh = ModelSet.load(pinned)  # another process: reads the record, hashes nothing
    fresh.fingerprints()
    fresh.path(fresh.spec.component("generator").file)
    assert sorted(hashed) == first
    generator_file = pinned.parent / "generator.pt"
    st = generator_file.stat()
    os.utime(generator_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    ModelSet.load(pinned).fingerprints()
    assert hashed[len(first):] == ["generator.pt"]


def test_an_unreadable_record_is_ignored_and_rewritten(tmp_path: Path) -> None:
    record = tmp_path / "verified.json"
    record.write_text("{not json")
    model = tmp_path / "m.bin"
    model.write_bytes(b"weights")
    assert DigestRecord(record).sha256(model) == sha256_file(model)
    assert DigestRecord(record).known == {} and str(model.resolve()) in record.read_text()
