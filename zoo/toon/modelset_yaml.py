"""The model-set YAML of a toon build: the shipped ``toon.yaml`` with every file's sha256 and size
taken from the files the build wrote.

The runtime keys cached results by the YAML's pinned digests, so a rebuild
must pin the new files' digests: with stale ones, directions and inversions
cached for the old weights would be served for the new. Building into the
shipped folder rewrites ``runtime/modelsets/toon.yaml`` in place; building
into another folder writes ``DIR/toon.yaml`` there (paths relative to
``DIR``), which ``--models DIR/toon.yaml`` loads.
"""
from __future__ import annotations

import re
from pathlib import Path

from styleclip_runtime.cache.result_cache import atomic_write_bytes
from styleclip_runtime.modelsets.registry import BUILTIN_DIR, sha256_file  # BUILTIN_DIR: runtime/modelsets/

SHIPPED_YAML = BUILTIN_DIR / "toon.yaml"
SHIPPED_DIR = SHIPPED_YAML.parent / "toon"

_ENTRY = re.compile(r"\{path: ([^,}]+), sha256: [0-9a-f]{64}, size: \d+\}")


def toon_yaml_text(out_dir: Path, template: str) -> str:
    """``template`` (the shipped YAML's text) pointed at the files in ``out_dir``.

    Mapper entries whose file the build did not write are left out (the set
    then trains those prompts on first use); a missing network file is an
    error, since the set cannot load without it.
    """
    out_dir = Path(out_dir).resolve()
    shipped = out_dir == SHIPPED_DIR.resolve()
    lines = []
    for line in template.splitlines(keepends=True):
        match = _ENTRY.search(line)
        if match is None:
            lines.append(line)
            continue
        rel = match.group(1).strip()
        path = rel if shipped else rel.removeprefix("toon/")
        file = (out_dir.parent if shipped else out_dir) / path
        if not file.exists():
            if "/mappers/" in rel:
                continue
            raise FileNotFoundError(f"{file} is missing: the build did not finish (rerun it; it resumes)")
        entry = f"{{path: {path}, sha256: {sha256_file(file)}, size: {file.stat().st_size}}}"
        lines.append(line[:match.start()] + entry + line[match.end():])
    return "".join(lines)


def write_toon_yaml(out_dir: Path, seed: int, template_path: Path = SHIPPED_YAML) -> Path:
    """Write (atomically) the YAML for the build in ``out_dir``; returns its path."""
    out_dir = Path(out_dir)
    shipped = out_dir.resolve() == SHIPPED_DIR.resolve()
    text = toon_yaml_text(out_dir, template_path.read_text(encoding="utf-8"))
    target = SHIPPED_YAML if shipped else out_dir / "toon.yaml"
    if not shipped:
        text = (f"# written by `styleclip zoo build toon --seed {seed} --out {out_dir}`: the shipped toon.yaml\n"
                f"# with this build's files; load it with --models {target}\n") + text
    atomic_write_bytes(target, text.encode("utf-8"))
    return target
