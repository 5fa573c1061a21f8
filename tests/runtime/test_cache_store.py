"""The result cache behind its store interface: a local folder by default, or any object store that
keeps bytes by name; two caches on one store (two workers) share entries and compute a key once."""
from __future__ import annotations

import contextlib
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from styleclip_runtime.cache.result_cache import Cache
from styleclip_runtime.cache.store import STORE_ENV, CacheStore, LocalFolderStore, store_for


class MemoryStore:
    """What an object-store backend looks like to the cache: bytes by name, a lock per key."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.locks: dict[str, threading.Lock] = {}
        self.guard = threading.Lock()

    def read(self, name: str) -> bytes | None:
        return self.blobs.get(name)

    def write(self, name: str, data: bytes) -> None:
        self.blobs[name] = bytes(data)

    def exists(self, name: str) -> bool:
        return name in self.blobs

    def remove(self, name: str) -> None:
        self.blobs.pop(name, None)

    @contextlib.contextmanager
    def lock(self, key: str):
        with self.guard:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            yield


def test_two_caches_on_one_store_share_entries_and_compute_a_key_once(tmp_path: Path) -> None:
    store = MemoryStore()
    a, b = Cache(tmp_path / "a", store=store), Cache(tmp_path / "b", store=store)  # two workers, no shared disk
    key = "ab" * 32
    calls: list[str] = []

    def compute(who: str):
        def run() -> bytes:
            calls.append(who)
            time.sleep(0.2)  # the other worker asks meanwhile and waits on the key's lock
            return b"direction bytes"
        return run

    results: dict[str, tuple] = {}
    threads = [threading.Thread(target=lambda c=c, w=w: results.__setitem__(w, c.get_or_compute("direction", key,
                                                                                                 compute(w))))
               for c, w in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1  # computed once across both
    assert sorted(hit for _, hit in results.values()) == [False, True]
    assert {v for v, _ in results.values()} == {b"direction bytes"}
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # nothing on local disk
    assert b.has("direction", key) and a.get("direction", key, bytes) == b"direction bytes"

    name = next(iter(store.blobs))  # a damaged object is dropped from the store and recomputed
    store.blobs[name] = store.blobs[name][:-1] + b"X"
    assert a.get_or_compute("direction", key, lambda: b"again") == (b"again", False)


def test_the_default_store_is_the_local_folder_and_a_factory_can_replace_it(tmp_path: Path, monkeypatch) -> None:
    cache = Cache(tmp_path)
    assert isinstance(cache.store, LocalFolderStore)
    cache.put_bytes("inversion", "cd" * 32, b"w+")
    assert (tmp_path / "inversion" / "cd" / ("cd" * 32 + ".entry")).is_file()

    module = types.ModuleType("fake_object_store")
    module.make = lambda root: MemoryStore()
    module.not_a_store = lambda root: object()
    monkeypatch.setitem(sys.modules, "fake_object_store", module)
    monkeypatch.setenv(STORE_ENV, "fake_object_store:make")
    assert isinstance(store_for(tmp_path), MemoryStore) and isinstance(store_for(tmp_path), CacheStore)
    # Every Cache takes it, not only the executor's: the output cache's replay, plan --explain and
    # diff build their own Cache and must read what the run wrote there.
    shared = Cache(tmp_path / "elsewhere")
    assert isinstance(shared.store, MemoryStore)
    shared.put_bytes("outputs", "ef" * 32, b"record")
    assert not (tmp_path / "elsewhere").exists() and shared.get_bytes("outputs", "ef" * 32) == b"record"
    monkeypatch.setenv(STORE_ENV, "fake_object_store:not_a_store")
    with pytest.raises(ValueError, match="not a cache store"):
        store_for(tmp_path)
    monkeypatch.setenv(STORE_ENV, "fake_object_store")
    with pytest.raises(ValueError, match="module:factory"):
        store_for(tmp_path)
