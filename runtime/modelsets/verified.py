"""Model files checked against their sha256 before use, cheaply.

A model file whose bytes changed while its YAML keeps the old sha256 must not
be served (every pixel would be wrong) nor have its results filed under the
good digest. ``DigestRecord.sha256`` hashes a file the first time a process
asks and remembers the digest by the file's (size, mtime_ns, inode), in memory
and in a small JSON record on disk (``<cache>/verified-models.json``), so that
later processes only ``stat`` the file. Any change of size, modification time
or inode (a rewrite, a copy, a replace) makes it hash the bytes again.
``check_file`` compares the digest (and the size, when the YAML gives one)
with the YAML's and raises ``ModelFileMismatch`` naming the file.

Torch-free, like ``registry``. The record is a cache: losing it costs one
hash per file; an unreadable record is ignored and rewritten.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..cache.result_cache import atomic_write_bytes
from .registry import FileSpec, ModelSetSpec, cache_root, locate, sha256_file

RECORD_NAME = "verified-models.json"


class ModelFileMismatch(RuntimeError):
    """A model file's bytes do not match the sha256 (or size) its model set pins."""


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class DigestRecord:
    """sha256 of model files by (path, size, mtime_ns, inode); owned by one ``ModelSet``."""

    path: Path
    known: dict[str, list] = field(default_factory=dict)  # resolved path -> [size, mtime_ns, inode, sha256]
    _read: bool = False

    @classmethod
    def for_cache(cls, env: dict[str, str] | None = None) -> "DigestRecord":
        return cls(cache_root(env) / RECORD_NAME)

    def sha256(self, file: Path) -> str:
        """The digest of ``file``'s bytes as they are now (hashed unless remembered for this identity)."""
        file = Path(file).resolve()
        before = _identity(file.stat())
        key = str(file)
        if key not in self.known and not self._read:
            self.known.update(self._load())
            self._read = True
        entry = self.known.get(key)
        if entry is not None and tuple(entry[:3]) == before:
            return str(entry[3])
        digest = sha256_file(file)
        if _identity(file.stat()) == before:  # not rewritten while we read it
            self.known[key] = [*before, digest]
            self._save(key)
        return digest

    def _load(self) -> dict[str, list]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items()
                if isinstance(v, list) and len(v) == 4 and all(isinstance(x, int) for x in v[:3])
                and isinstance(v[3], str)}

    def _save(self, key: str) -> None:
        merged = self._load()  # another process may have recorded other files meanwhile
        merged[key] = self.known[key]
        try:
            atomic_write_bytes(self.path, (json.dumps(merged, sort_keys=True, indent=0) + "\n").encode())
        except OSError:
            pass  # a read-only cache only costs hashing again next time


def fingerprints(spec: ModelSetSpec, digests: DigestRecord, env: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of every file of ``spec`` by role: of its bytes when present (so a file whose bytes
    changed under a pinned YAML digest never lends that digest to cache keys; loading it then fails),
    the YAML's digest when absent (what a run would need), nothing for an absent unpinned file.
    Torch-free: ``ModelSet.fingerprints`` and the output cache's replay both use it.

    Roles: generator, encoder, clip, identity, judge, ``mapper:<prompt>``, ``global_stats:<key>``.
    """
    out: dict[str, str] = {}
    for f in spec.files():
        path = locate(spec, f, env)
        if path is not None:
            out[f.role] = digests.sha256(path)
        elif f.sha256:
            out[f.role] = f.sha256
    return out


def check_file(f: FileSpec, path: Path, digest: str, set_name: str) -> None:
    """Raise ``ModelFileMismatch`` when ``path`` is not the file ``f`` pins."""
    size = path.stat().st_size
    if f.size is not None and size != f.size:
        detail = f"its size is {size} bytes, the model set says {f.size}"
    elif f.sha256 and digest != f.sha256:
        detail = f"its sha256 is {digest}, the model set says {f.sha256}"
    else:
        return
    raise ModelFileMismatch(
        f"model file {path} ({f.role} of model set '{set_name}') is not the file its model set names: "
        f"{detail}. It changed or is damaged; restore the original file "
        f"(`styleclip models verify {set_name}` checks every file), or fix the sha256 in the YAML "
        "if you replaced it on purpose.")
