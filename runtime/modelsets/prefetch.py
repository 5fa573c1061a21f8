"""Putting a model set's files into the cache before a run (``styleclip models prefetch``).

Nothing here touches the network: the tool never downloads. ``prefetch``
brings each file of a set into its cache folder ``<cache>/models/<set>/`` from
a folder the caller already filled (a CI artifact, a mounted volume, a
by-hand download), verifying size and sha256 before the file is placed, and
reports what is still missing with the URL to fetch it from. Files given by
``path`` (shipped beside the YAML, like every file of ``toon``) are never
copied: they are reported as "shipped" when present.

Torch-free, like the rest of the registry.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .registry import FileSpec, ModelSetSpec, candidates, locate, models_dir, sha256_file

# status of one file after prefetch
PRESENT, SHIPPED, COPIED, MISSING, MISMATCH = "present", "shipped", "copied", "missing", "mismatch"
OK_STATUSES = (PRESENT, SHIPPED, COPIED)


@dataclass(frozen=True)
class PrefetchResult:
    """What ``prefetch`` did with one file: status is present, shipped, copied, missing or mismatch."""

    role: str
    filename: str
    status: str
    path: Path | None   # where the file is now (or should be, when missing)
    url: str | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES


def check_bytes(path: Path, f: FileSpec) -> str:
    """"" when ``path`` matches the spec's size and sha256 (those that are pinned), else why not."""
    size = path.stat().st_size
    if f.size is not None and size != f.size:
        return f"size {size} != {f.size}"
    if f.sha256 is not None:
        actual = sha256_file(path)
        if actual != f.sha256:
            return f"sha256 {actual} != {f.sha256}"
    return ""


def find_in(source: Path, spec: ModelSetSpec, f: FileSpec) -> Path | None:
    """``source/<file>`` or ``source/<set>/<file>`` (a copy of a whole cache's models folder also works)."""
    for p in (source / f.filename, source / spec.name / f.filename, source / "models" / spec.name / f.filename):
        if p.is_file():
            return p
    return None


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy through a temporary file in the target folder, so a half-copied model never exists."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prefetch_file(spec: ModelSetSpec, f: FileSpec, source: Path | None,
                  env: dict[str, str] | None = None) -> PrefetchResult:
    """Bring one file into the cache (see the module docstring)."""
    if f.path:  # shipped beside the YAML: nothing to cache
        target = candidates(spec, f, env)[0]
        if target.is_file():
            return PrefetchResult(f.role, f.filename, SHIPPED, target, f.url, "shipped with the model set")
        return PrefetchResult(f.role, f.filename, MISSING, target, f.url,
                              "shipped file absent (an incomplete install or checkout)")
    found = locate(spec, f, env)
    if found is not None:
        problem = check_bytes(found, f)
        if not problem:
            return PrefetchResult(f.role, f.filename, PRESENT, found, f.url)
        if source is None:
            return PrefetchResult(f.role, f.filename, MISMATCH, found, f.url, problem)
    target = models_dir(spec.name, env) / f.filename
    if source is None:
        return PrefetchResult(f.role, f.filename, MISSING, target, f.url, "not in the cache")
    candidate = find_in(source, spec, f)
    if candidate is None:
        return PrefetchResult(f.role, f.filename, MISSING, target, f.url, f"not in {source}")
    problem = check_bytes(candidate, f)
    if problem:
        return PrefetchResult(f.role, f.filename, MISMATCH, candidate, f.url, f"{candidate}: {problem}; not copied")
    copy_atomic(candidate, target)
    return PrefetchResult(f.role, f.filename, COPIED, target, f.url, f"from {candidate}")


def prefetch(spec: ModelSetSpec, source: Path | None = None,
             env: dict[str, str] | None = None) -> list[PrefetchResult]:
    """``prefetch_file`` for every file of the set, components first."""
    return [prefetch_file(spec, f, source, env) for f in spec.files()]
