"""Content-addressed, crash-safe, multi-process result cache.

Layout under ``root`` (by default ``<cache dir>/results``)::

    <kind>/<key[:2]>/<key>.entry     one entry: MAGIC | sha256(payload) | payload
    locks/<key>.lock                 per-key lock: one process computes, others wait
    .evict.lock                      held while pruning

Keys are sha256 hex digests of canonical JSON (``make_key``); the caller puts
everything that determines a result into the key parts: the plan step's
content hash, the sha256 fingerprints of the model files involved, and the
engine's version string.

Guarantees:
- A write is atomic: the entry is written to a temporary file in the same
  folder, flushed and fsynced, then renamed over the final name. A process
  killed mid-write leaves at most a ``.tmp`` file, never an entry that reads
  as valid (stale temp files are removed by ``prune``).
- A corrupt entry (bad magic, short file, checksum mismatch, undecodable
  payload, a folder where the entry's file should be) is reported through
  ``warn``, removed, and treated as a miss. Every read of a decoded result
  goes through ``get`` (or ``get_or_compute``, which uses it), so an entry
  that passes its checksum but does not decode is recomputed, never fatal.
- ``get_or_compute`` takes a per-key file lock, so two processes asking for
  the same missing entry compute it once.
- A size cap evicts least-recently-used entries (reads touch the mtime).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from .store import CacheStore

MAGIC = b"SCDSLC1\n"
DIGEST_SIZE = 32
DEFAULT_MAX_BYTES = 2 * 1024**3


def make_key(*parts: Any) -> str:
    """sha256 of the canonical JSON of ``parts`` (sorted keys, no spaces)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CacheCorrupt(Exception):
    """An entry failed its integrity check."""


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    corrupt: int = 0
    writes: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, kind: str, what: str) -> None:
        setattr(self, what, getattr(self, what) + 1)
        self.by_kind.setdefault(kind, {}).setdefault(what, 0)
        self.by_kind[kind][what] += 1


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    entries: int
    total_bytes: int
    by_kind: dict[str, tuple[int, int]]  # kind -> (entries, bytes)
    max_bytes: int


def _warn_stderr(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


class Cache:
    """An on-disk cache owned by one runtime; safe to share between processes."""

    def __init__(self, root: Path | str, max_bytes: int = DEFAULT_MAX_BYTES,
                 warn: Callable[[str], None] = _warn_stderr, enabled: bool = True,
                 store: "CacheStore | None" = None) -> None:
        from .store import store_for

        self.root = Path(root)
        # the folder, or $STYLECLIP_CACHE_STORE's object store (cache_store.py), for every reader alike
        self.store = store if store is not None else store_for(self.root)
        self.max_bytes = max_bytes
        self.warn = warn
        self.enabled = enabled
        self.stats = CacheStats()

    # -- paths --------------------------------------------------------------
    def _entry_path(self, kind: str, key: str) -> Path:
        return self.root / self._entry_name(kind, key)

    @staticmethod
    def _entry_name(kind: str, key: str) -> str:
        if not kind.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"bad cache kind {kind!r}")
        return f"{kind}/{key[:2]}/{key}.entry"

    def has(self, kind: str, key: str) -> bool:
        """Whether an entry is filed under ``key`` (read nothing, count nothing, touch nothing: for
        ``plan --explain``; a corrupt entry still counts here and is recomputed when read)."""
        return self.enabled and self.store.exists(self._entry_name(kind, key))

    # -- raw bytes -----------------------------------------------------------
    def get_bytes(self, kind: str, key: str, count_miss: bool = True) -> bytes | None:
        if not self.enabled:
            return None
        path = self._entry_path(kind, key)
        try:
            blob = self.store.read(self._entry_name(kind, key))
        except FileNotFoundError:
            blob = None
        except IsADirectoryError:
            self._discard(path, kind, "a folder, not an entry")
            return None
        except OSError as exc:  # unreadable (permissions, I/O): a miss; the write that follows says more
            self.warn(f"cache entry {path.name} ({kind}) cannot be read ({exc}); recomputing")
            if count_miss:
                self.stats.count(kind, "misses")
            return None
        if blob is None:
            if count_miss:
                self.stats.count(kind, "misses")
            return None
        try:
            payload = _unwrap(blob)
        except CacheCorrupt as exc:
            self._discard(path, kind, str(exc))
            return None
        if path.exists():  # LRU: a local folder's reads touch the entry
            with contextlib.suppress(OSError):
                os.utime(path)
        self.stats.count(kind, "hits")
        return payload

    def put_bytes(self, kind: str, key: str, payload: bytes) -> None:
        if not self.enabled:
            return
        self.store.write(self._entry_name(kind, key), _wrap(payload))
        self.stats.count(kind, "writes")
        self._maybe_prune()

    def _discard(self, path: Path, kind: str, why: str) -> None:
        self.stats.count(kind, "corrupt")
        self.warn(f"cache entry {path.name} ({kind}) is corrupt ({why}); discarded, recomputing")
        self.store.remove(str(path.relative_to(self.root)))

    # -- locking -----------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """One computation of ``key`` at a time, across processes and machines sharing the store."""
        with self.store.lock(key):
            yield

    def get_or_compute(self, kind: str, key: str, compute: Callable[[], bytes],
                       decode: Callable[[bytes], Any] = lambda b: b) -> tuple[Any, bool]:
        """Return (decode(payload), hit). Computes under the key's lock on a miss.

        A payload that is intact on disk but fails to decode is treated like a
        corrupt entry: discarded and recomputed.
        """
        if not self.enabled:
            return decode(compute()), False
        value = self.get(kind, key, decode)
        if value is not None:
            return value, True
        with self.lock(key):
            value = self.get(kind, key, decode, count_miss=False)  # another process may have won
            if value is not None:
                return value, True
            payload = compute()
            self.put_bytes(kind, key, payload)
            return decode(payload), False

    def get(self, kind: str, key: str, decode: Callable[[bytes], Any], count_miss: bool = True) -> Any:
        """The decoded entry, or None on a miss. The one read path for results: an entry that
        ``decode`` rejects (any exception) is discarded like a corrupt one, so the caller recomputes
        it instead of failing on every run. ``decode`` should check what it returns (shapes, keys)."""
        payload = self.get_bytes(kind, key, count_miss)
        if payload is None:
            return None
        try:
            return decode(payload)
        except Exception as exc:  # undecodable despite a good checksum
            self._discard(self._entry_path(kind, key), kind, f"undecodable: {exc}")
            return None

    # -- maintenance ---------------------------------------------------------------
    def _entries(self) -> list[tuple[Path, os.stat_result]]:
        out = []
        if not self.root.exists():
            return out
        for path in self.root.glob("*/*/*.entry"):
            with contextlib.suppress(FileNotFoundError):
                out.append((path, path.stat()))
        return out

    def info(self) -> CacheInfo:
        by_kind: dict[str, list[int]] = {}
        total = 0
        entries = self._entries()
        for path, st in entries:
            kind = path.parent.parent.name
            slot = by_kind.setdefault(kind, [0, 0])
            slot[0] += 1
            slot[1] += st.st_size
            total += st.st_size
        return CacheInfo(self.root, len(entries), total,
                         {k: (v[0], v[1]) for k, v in sorted(by_kind.items())}, self.max_bytes)

    def prune(self, max_bytes: int | None = None) -> int:
        """Evict least-recently-used entries until under ``max_bytes``; remove
        stale temporary files. Returns the number of bytes freed."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        freed = 0
        if not self.root.exists():
            return 0
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".evict.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            now = time.time()
            for tmp in self.root.glob("*/*/.*.tmp"):
                with contextlib.suppress(OSError):
                    if now - tmp.stat().st_mtime > 3600:
                        tmp.unlink()
            entries = sorted(self._entries(), key=lambda e: e[1].st_mtime)
            total = sum(st.st_size for _, st in entries)
            for path, st in entries:
                if total <= limit:
                    break
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    total -= st.st_size
                    freed += st.st_size
        return freed

    def _maybe_prune(self) -> None:
        # Cheap guard: only walk the tree once in a while.
        if self.stats.writes % 16 == 0:
            self.prune()

    def clear(self) -> int:
        """Remove every entry. Returns the number of entries removed."""
        n = len(self._entries())
        if self.root.exists():
            for child in self.root.iterdir():
                if child.is_dir() and child.name != "locks":
                    shutil.rmtree(child, ignore_errors=True)
        return n


def _wrap(payload: bytes) -> bytes:
    return MAGIC + hashlib.sha256(payload).digest() + payload


def _unwrap(blob: bytes) -> bytes:
    head = len(MAGIC) + DIGEST_SIZE
    if len(blob) < head or not blob.startswith(MAGIC):
        raise CacheCorrupt("bad header")
    digest, payload = blob[len(MAGIC):head], blob[head:]
    if hashlib.sha256(payload).digest() != digest:
        raise CacheCorrupt("checksum mismatch")
    return payload


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole
    new one, never a part: temp file in the same folder, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
