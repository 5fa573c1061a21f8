"""The result cache: atomic writes, corruption recovery, sharing between processes."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from styleclip_runtime.cache.result_cache import Cache, atomic_write_bytes, make_key


def test_round_trip_and_stats(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    key = make_key("inversion", "abc", 1)
    assert cache.get_bytes("inversion", key) is None
    cache.put_bytes("inversion", key, b"payload")
    assert cache.get_bytes("inversion", key) == b"payload"
    assert cache.stats.hits == 1 and cache.stats.misses == 1 and cache.stats.writes == 1
    assert make_key("a", {"x": 1, "y": 2}) == make_key("a", {"y": 2, "x": 1})
    assert make_key("a", 1) != make_key("a", 2)


@pytest.mark.parametrize("damage", ["flip", "truncate", "header"])
def test_corrupt_entry_is_discarded_and_recomputed(tmp_path: Path, damage: str) -> None:
    warnings: list[str] = []
    cache = Cache(tmp_path, warn=warnings.append)
    key = make_key("direction", 7)
    cache.put_bytes("direction", key, b"x" * 100)
    path = next(tmp_path.glob("direction/*/*.entry"))
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[-5] ^= 0xFF
    elif damage == "truncate":
        blob = blob[:-10]
    else:
        blob[:4] = b"JUNK"
    path.write_bytes(bytes(blob))

    calls = []
    value, hit = cache.get_or_compute("direction", key, lambda: calls.append(1) or b"fresh")
    assert (value, hit) == (b"fresh", False)
    assert calls == [1]
    assert warnings and "corrupt" in warnings[0]
    assert cache.get_bytes("direction", key) == b"fresh"


def test_undecodable_payload_is_recomputed(tmp_path: Path) -> None:
    cache = Cache(tmp_path, warn=lambda m: None)
    key = make_key("k")
    cache.put_bytes("text", key, b"not json")
    import json

    value, hit = cache.get_or_compute("text", key, lambda: b'{"a": 1}', decode=json.loads)
    assert value == {"a": 1} and not hit


def test_killed_writer_leaves_no_valid_entry(tmp_path: Path) -> None:
    """A process killed in the middle of writing a large entry leaves nothing
    that reads as valid; the next reader recomputes."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from styleclip_runtime.cache import result_cache as c
        real_open = open
        class Slow:
            def __init__(self, h): self.h = h
            def write(self, data):
                for i in range(0, len(data), 1 << 16):
                    self.h.write(data[i:i + (1 << 16)]); self.h.flush(); time.sleep(0.01)
            def __getattr__(self, n): return getattr(self.h, n)
            def __enter__(self): return self
            def __exit__(self, *a): return self.h.__exit__(*a)
        import builtins
        def slow_open(p, mode="r", *a, **k):
            h = real_open(p, mode, *a, **k)
            return Slow(h) if "w" in mode else h
        c.open = slow_open
        cache = c.Cache(Path({str(tmp_path)!r}))
        print("start", flush=True)
        cache.put_bytes("inversion", c.make_key("big"), b"z" * (8 << 20))
        print("done", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "start"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    cache = Cache(tmp_path)
    assert cache.get_bytes("inversion", make_key("big")) is None
    assert list(tmp_path.glob("inversion/*/*.entry")) == []
    assert list(tmp_path.glob("inversion/*/.*.tmp")), "the partial write should be a temp file"


def _worker(root: str, out: mp.Queue) -> None:
    cache = Cache(Path(root))

    def compute() -> bytes:
        marker = Path(root) / f"computed-{os.getpid()}"
        marker.write_text("x")
        time.sleep(0.5)
        return b"result"

    value, hit = cache.get_or_compute("direction", make_key("shared"), compute)
    out.put((value, hit))


def test_two_processes_compute_once(tmp_path: Path) -> None:
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_worker, args=(str(tmp_path), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    results = sorted(queue.get(timeout=5) for _ in procs)
    assert [v for v, _ in results] == [b"result", b"result"]
    assert sorted(h for _, h in results) == [False, True]
    assert len(list(tmp_path.glob("computed-*"))) == 1


def test_prune_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = Cache(tmp_path, max_bytes=10**9)
    keys = [make_key(i) for i in range(4)]
    for i, key in enumerate(keys):
        cache.put_bytes("text", key, bytes(1000))
        path = next(tmp_path.glob(f"text/*/{key}.entry"))
        os.utime(path, (1000 + i, 1000 + i))
    cache.get_bytes("text", keys[0])  # touch the oldest: now most recent
    freed = cache.prune(max_bytes=2 * 1100)
    assert freed > 0
    left = {p.stem for p in tmp_path.glob("text/*/*.entry")}
    assert keys[0] in left and keys[3] in left and keys[1] not in left
    assert cache.info().entries == 2
    assert cache.clear() == 2 and cache.info().entries == 0


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.png"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["a.png"]
