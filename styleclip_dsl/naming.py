"""Default subject names and the placeholders that save/export paths may use."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

GLOB_CHARS = "*?["
GENERATE_DEFAULT_NAME = "samples"
GLOB_DEFAULT_NAME = "images"

# Labels every item carries (filled by the runtime), plus the swept parameter's name.
ITEM_LABELS: tuple[str, ...] = ("name", "subject", "index", "step", "text", "engine")
ITEM_IDENTITY_LABELS: tuple[str, ...] = ("name", "index")
# Labels the runtime keeps for itself (the edit chain from the source, for grid columns): not placeholders.
ITEM_INTERNAL_LABELS: tuple[str, ...] = ("chain",)
# Every label that is not a swept parameter: what grid columns, file-name suffixes and
# Result.labels leave out when they list the swept parameters (the runtime and the notebook).
ITEM_LABEL_KEYS: tuple[str, ...] = ITEM_LABELS + ITEM_INTERNAL_LABELS

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def is_glob(pattern: str) -> bool:
    return any(c in pattern for c in GLOB_CHARS)


def subject_name_for_path(pattern: str) -> str:
    """``photo.jpg`` -> ``photo``; ``photos/*.png`` -> ``photos``; ``*.png`` -> ``images``."""
    parts = [p for p in PurePosixPath(pattern.replace("\\", "/")).parts if p not in ("/", ".")]
    while parts and is_glob(parts[-1]):
        parts.pop()
        if parts and not is_glob(parts[-1]):
            return parts[-1]
    if not parts:
        return GLOB_DEFAULT_NAME
    stem = PurePosixPath(parts[-1]).stem
    return stem or GLOB_DEFAULT_NAME


@dataclass(frozen=True)
class Placeholder:
    name: str
    offset: int  # of the '{' in the path text
    length: int


def placeholders(path: str) -> list[Placeholder]:
    return [Placeholder(m.group(1), m.start(), m.end() - m.start()) for m in _PLACEHOLDER.finditer(path)]


def unbalanced_brace(path: str) -> int | None:
    """Offset of a '{' or '}' that is not part of a ``{name}`` placeholder."""
    rest = _PLACEHOLDER.sub(lambda m: " " * len(m.group()), path)
    for i, ch in enumerate(rest):
        if ch in "{}":
            return i
    return None
