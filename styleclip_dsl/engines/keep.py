"""``keep='A, B'``: the texts an edit should leave alone, as one canonical string in the plan.

The compiler normalises what a recipe writes (``normalise_keep``: split on commas, trimmed, empty
parts and repeats dropped, joined with ``", "``), so two spellings of the same list give one plan
and one cache key, and the runtime reads the texts back with ``kept`` instead of parsing recipe
text again. What the texts do is the runtime's ``engines/keep.py``.
"""
from __future__ import annotations

SEPARATOR = ", "


def keep_texts(raw: str) -> tuple[str, ...]:
    """The texts of a ``keep=`` value as written: comma-separated, trimmed, empty parts and repeats dropped."""
    out: list[str] = []
    for part in raw.split(","):
        text = part.strip()
        if text and text not in out:
            out.append(text)
    return tuple(out)


def normalise_keep(raw: str) -> str:
    """The canonical form the plan carries: ``' a,b ,, a'`` -> ``'a, b'`` (``''`` keeps nothing)."""
    return SEPARATOR.join(keep_texts(raw))


def kept(canonical: str) -> tuple[str, ...]:
    """The texts of a compiled plan's ``keep`` (the inverse of ``normalise_keep``). A value the
    compiler did not write (a hand-edited plan) is refused rather than read differently."""
    if canonical != normalise_keep(canonical):
        raise ValueError(f"keep={canonical!r} is not in the form the compiler writes "
                         f"({normalise_keep(canonical)!r}): compile the recipe again")
    return tuple(canonical.split(SEPARATOR)) if canonical else ()
