"""The front end asks an executor only what styleclip_dsl.executor_api.ExecutorAPI offers (run, stop,
result, stats, explain, models): never its memo, the steps it ran, its image digests or its cache."""
from __future__ import annotations

import re
from pathlib import Path

import styleclip_dsl

FRONT_END = Path(styleclip_dsl.__file__).parent
INTERNALS = re.compile(r"\.(memo|done|stop_requested|image_digests|source_files)\b|models\.cache\b")


def test_the_front_end_reaches_no_executor_internals() -> None:
    found = [f"{path.relative_to(FRONT_END)}:{n}: {line.strip()}"
             for path in sorted(FRONT_END.rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if INTERNALS.search(line)]
    assert found == []


def test_the_pattern_catches_what_the_repl_used_to_do() -> None:
    for line in ("self.executor.stop_requested = True", "executor.memo.get(h)", "len(executor.done)",
                 "executor.image_digests", "executor.models.cache.info()"):
        assert INTERNALS.search(line), line
    assert not INTERNALS.search("executor.result(h)") and not INTERNALS.search("executor.stats().memo_steps")
