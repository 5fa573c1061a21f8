"""Did-you-mean hints."""
from __future__ import annotations

import difflib
from typing import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word``, if any is close enough to be a likely typo."""
    options = list(candidates)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str], fallback: str | None = None) -> str | None:
    """``"did you mean 'beta'?"``, or ``fallback`` when nothing is close."""
    options = sorted(candidates)
    best = closest(word, options)
    if best is not None:
        return f"did you mean '{best}'?"
    return fallback
