"""Did-you-mean hints."""
from __future__ import annotations

import difflib
from typing import Iterable


# Words people use for an option under another name (StyleCLIP's levels, the latent spaces): offered
# when the option they stand for is among the candidates ("layers=mid" -> "medium").
ALIASES: dict[str, str] = {
    "mid": "medium", "middle": "medium", "med": "medium", "low": "coarse", "high": "fine",
    "w+": "wplus", "w_plus": "wplus", "wp": "wplus", "stylespace": "s", "style": "s",
}


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word``, if any is close enough to be a likely typo."""
    options = list(candidates)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    alias = ALIASES.get(word.lower())
    if alias is not None and alias in lowered:
        return lowered[alias]
    prefixed = [c for c in lowered if len(word) >= 3 and c.startswith(word.lower())]
    if len(prefixed) == 1:  # "coars" -> "coarse", "med" handled above
        return lowered[prefixed[0]]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str], fallback: str | None = None) -> str | None:
    """``"did you mean 'beta'?"``, or ``fallback`` when nothing is close."""
    options = sorted(candidates)
    best = closest(word, options)
    if best is not None:
        return f"did you mean '{best}'?"
    return fallback
