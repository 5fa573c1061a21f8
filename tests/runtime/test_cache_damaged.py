"""Damaged cache entries are dropped and recomputed, never fatal (#20 item 5): an entry whose
checksum holds but whose payload does not decode, and a folder where an entry's file should be."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from styleclip_runtime.cache.result_cache import Cache, _wrap
from styleclip_runtime.execution.build_executor import open_executor

from .test_executor import make_plan


def _entries(cache_root: Path, kind: str) -> list[Path]:
    return sorted((cache_root / kind).glob("*/*.entry"))


def test_get_drops_an_undecodable_entry_and_a_folder(tmp_path: Path) -> None:
    warnings: list[str] = []
    cache = Cache(tmp_path, warn=warnings.append)
    cache.put_bytes("thing", "a" * 64, b"not a number")
    assert cache.get("thing", "a" * 64, lambda b: int(b)) is None
    assert cache.stats.corrupt == 1 and "undecodable" in warnings[-1]
    assert not _entries(tmp_path, "thing")  # removed: the next read is a plain miss
    folder = tmp_path / "thing" / "bb" / ("b" * 64 + ".entry")
    (folder / "inside").mkdir(parents=True)
    assert cache.get("thing", "b" * 64, lambda b: b) is None and not folder.exists()
    assert "folder" in warnings[-1]
    value, hit = cache.get_or_compute("thing", "b" * 64, lambda: b"42", lambda b: int(b))
    assert (value, hit) == (42, False)
    assert cache.get("thing", "b" * 64, lambda b: int(b)) == 42


def test_a_damaged_inversion_is_recomputed_by_the_next_run(env, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(photos / "a.png")
    plan = make_plan([{"kind": "source", "op": "invert", "subject": "p", "params": {"paths": ["photos/a.png"]}},
                      {"kind": "save", "input": "s1", "mode": "image", "path": "out/{name}.png"}])

    def run() -> dict:
        report = open_executor(str(env), "cpu").run(plan, "", tmp_path, tmp_path)
        return report.timings[0]

    first = run()
    assert first["inversion_cache_misses"] == 1
    reference = (tmp_path / "out" / "a.png").read_bytes()
    root = tmp_path / "cache"
    [entry] = [p for p in root.rglob("*.entry") if p.parent.parent.name == "inversion"]
    entry.write_bytes(_wrap(b"checksum fine, not safetensors"))
    assert run()["inversion_cache_misses"] == 1
    assert (tmp_path / "out" / "a.png").read_bytes() == reference
    assert run()["inversion_cache_hits"] == 1  # the recomputed entry was filed again
    entry.unlink()
    entry.mkdir()
    assert run()["inversion_cache_misses"] == 1 and entry.is_file()
