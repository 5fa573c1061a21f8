"""Where the result cache keeps its entries: a small interface, a local (or NFS-mounted) folder by
default, so that an object store can stand in for it (docs/cluster.md).

``Cache`` (cache.py) wraps and checks every entry (magic, sha256); a store only keeps bytes under a
name (``<kind>/<key[:2]>/<key>.entry``) and serialises the computation of one key. Every worker of a
run on Ray reads and writes the same store, so an inversion, a direction or a mapper one of them
files is a hit on the others. Maintenance (``info``, ``prune``, ``clear``) walks a local folder; an
object store has its own lifecycle rules for that.
"""
from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
import shutil
from pathlib import Path
from typing import ContextManager, Iterator, Protocol, runtime_checkable


@runtime_checkable
class CacheStore(Protocol):
    """The bytes of the cache's entries, by name."""

    def read(self, name: str) -> bytes | None:
        """The entry's bytes; None when there is none. An unreadable one raises OSError
        (IsADirectoryError for a folder where an entry should be)."""

    def write(self, name: str, data: bytes) -> None:
        """Store ``data`` whole or not at all: a reader never sees part of it."""

    def exists(self, name: str) -> bool:
        """Whether an entry is stored under ``name`` (reads nothing)."""

    def remove(self, name: str) -> None:
        """Drop a damaged entry (missing is fine)."""

    def lock(self, key: str) -> ContextManager[None]:
        """Held while one process computes ``key``, so that the others wait and then read it."""


class LocalFolderStore:
    """Files under ``root``: written to a temporary file, fsynced and renamed (atomic on one
    filesystem, NFS included); per-key ``flock`` locks under ``root/locks``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / name

    def read(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        from .result_cache import atomic_write_bytes

        atomic_write_bytes(self.path(name), data)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def remove(self, name: str) -> None:
        path = self.path(name)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            return
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        lock_dir = self.root / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / f"{key}.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


STORE_ENV = "STYLECLIP_CACHE_STORE"  # "package.module:factory"; factory(root) -> CacheStore


def store_for(root: Path | str) -> CacheStore:
    """The store of a result cache: ``$STYLECLIP_CACHE_STORE`` (``module:factory``, called with the
    cache's root) when set, else the local folder ``root``."""
    spec = os.environ.get(STORE_ENV, "").strip()
    if not spec:
        return LocalFolderStore(root)
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"{STORE_ENV}={spec!r}: expected 'package.module:factory'")
    store = getattr(importlib.import_module(module), name)(Path(root))
    if not isinstance(store, CacheStore):
        raise ValueError(f"{STORE_ENV}={spec!r} gave {type(store).__name__}, which is not a cache store "
                         "(read, write, exists, remove, lock)")
    return store
