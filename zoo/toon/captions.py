"""Captions of toon faces: varied wording, varied choice of what is mentioned.

``caption(attrs, rng)`` gives one text. ``describe(attrs, rng)`` gives the same
kind of text together with what it asserts (a ``Caption`` with constraints),
which toon-CLIP training uses to know which images in a batch a text fits.

Distribution of ``describe``: 5 % a bare neutral text ("a face"), 25 % one
bare phrase ("curly hair", "smile", "glasses", "blue background"), 70 % a
sentence mentioning 1-5 families ("a smiling face with curly purple hair and
glasses"). Independently, 25 % of texts are wrapped in one of the 80 CLIP
ImageNet prompt templates ("a bad photo of the {}."), because the engines
embed edit texts through those templates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

from .attributes import FAMILIES, Attributes

# Phrase forms of every value; the first is canonical ("a face with {phrase}").
PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "hair_style": {
        "bald": ("a bald head", "bald", "no hair", "a shaved head"),
        "short": ("short hair", "a short haircut", "cropped hair"),
        "long": ("long hair", "long flowing hair", "hair past the shoulders"),
        "curly": ("curly hair", "curls", "a curly afro"),
        "mohawk": ("a mohawk", "mohawk", "a punk mohawk"),
        "bob": ("a bob haircut", "bob", "a bob", "bob hair"),
    },
    "hair_color": {
        "black": ("black hair", "dark hair"),
        "brown": ("brown hair", "brunette hair"),
        "blonde": ("blonde hair", "blond hair", "golden hair"),
        "red": ("red hair", "ginger hair"),
        "purple": ("purple hair", "violet hair"),
        "white": ("white hair", "grey hair", "gray hair"),
    },
    "expression": {
        "neutral": ("a neutral expression", "neutral", "a straight face", "no expression"),
        "smile": ("a smile", "smile", "smiling", "a happy smile", "happy"),
        "sad": ("a sad expression", "sad", "a sad frown", "unhappy"),
        "surprised": ("a surprised expression", "surprised", "shocked", "an open mouth"),
        "angry": ("an angry expression", "angry", "furious", "angry eyebrows"),
    },
    "eyes": {
        "open": ("open eyes", "eyes open", "wide open eyes"),
        "closed": ("closed eyes", "eyes closed", "shut eyes", "sleeping eyes"),
    },
    "glasses": {
        "none": ("no glasses", "no eyewear"),
        "round": ("round glasses", "eyeglasses", "spectacles", "round spectacles"),
        "sunglasses": ("sunglasses", "dark sunglasses", "shades"),
    },
    "beard": {
        "none": ("no beard", "clean shaven", "a shaved chin"),
        "beard": ("a beard", "beard", "a full beard", "bearded"),
    },
    "skin": {
        "light": ("light skin", "pale skin", "fair skin"),
        "tan": ("tan skin", "tanned skin", "olive skin"),
        "brown": ("brown skin", "medium brown skin"),
        "dark": ("dark skin", "deep dark skin"),
    },
}

# Phrases that assert a set of values rather than one ("glasses": any glasses).
GROUP_PHRASES: dict[str, tuple[str, frozenset[str]]] = {
    "glasses": ("glasses", frozenset({"round", "sunglasses"})),
    "wearing glasses": ("glasses", frozenset({"round", "sunglasses"})),
}

ADJECTIVES: dict[tuple[str, str], str] = {
    ("expression", "smile"): "smiling",
    ("expression", "sad"): "sad",
    ("expression", "surprised"): "surprised",
    ("expression", "angry"): "angry",
    ("hair_style", "bald"): "bald",
    ("beard", "beard"): "bearded",
    ("eyes", "closed"): "sleepy",
}

# Background hue bins -> colour names (upper bound of each bin).
HUE_NAMES: tuple[tuple[float, str], ...] = (
    (0.04, "red"), (0.11, "orange"), (0.19, "yellow"), (0.45, "green"),
    (0.53, "teal"), (0.72, "blue"), (0.83, "purple"), (0.95, "pink"), (1.01, "red"),
)

NEUTRAL_TEXTS: tuple[str, ...] = ("a face", "a cartoon face", "a person", "a portrait", "a toon")
SUBJECTS: tuple[str, ...] = ("face", "cartoon face", "person", "cartoon character", "portrait", "toon")

# The texts the project's tests edit towards, and the attribute each one means.
# "glasses" means any glasses; its canonical value here is ``round``.
PROMPTS: dict[str, tuple[str, str]] = {
    "smile": ("expression", "smile"),
    "sad": ("expression", "sad"),
    "angry": ("expression", "angry"),
    "surprised": ("expression", "surprised"),
    "curly hair": ("hair_style", "curly"),
    "bald": ("hair_style", "bald"),
    "mohawk": ("hair_style", "mohawk"),
    "bob": ("hair_style", "bob"),
    "long hair": ("hair_style", "long"),
    "purple hair": ("hair_color", "purple"),
    "red hair": ("hair_color", "red"),
    "blonde hair": ("hair_color", "blonde"),
    "white hair": ("hair_color", "white"),
    "glasses": ("glasses", "round"),
    "sunglasses": ("glasses", "sunglasses"),
    "closed eyes": ("eyes", "closed"),
    "beard": ("beard", "beard"),
}


def prompt_matches(text: str, attrs: Attributes) -> bool:
    """Whether a face shows what a ``PROMPTS`` text asks for ("glasses": any glasses)."""
    family, value = PROMPTS[text]
    if text == "glasses":
        return attrs.glasses != "none"
    return attrs.value(family) == value


def hue_name(hue: float) -> str:
    for upper, name in HUE_NAMES:
        if hue < upper:
            return name
    return "red"


def canonical_phrase(family: str, value: str) -> str:
    """The phrase used for zero-shot prompts "a face with {phrase}"."""
    return PHRASES[family][value][0]


def zero_shot_prompts(family: str) -> list[str]:
    """One prompt per value of ``family``, in ``FAMILIES`` order: "a face with {phrase}"."""
    return [f"a face with {canonical_phrase(family, v)}" for v in FAMILIES[family]]


@dataclass(frozen=True)
class Caption:
    """A text and what it asserts: each family -> the set of values it allows."""

    text: str
    constraints: tuple[tuple[str, frozenset[str]], ...] = ()
    background: str | None = None  # a hue name, when the text mentions the background

    def fits(self, attrs: Attributes) -> bool:
        if self.background is not None and hue_name(attrs.background) != self.background:
            return False
        return all(attrs.value(f) in allowed for f, allowed in self.constraints)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _phrase(rng: np.random.Generator, family: str, value: str) -> tuple[str, frozenset[str]]:
    if family == "glasses" and value != "none" and rng.random() < 0.3:
        return GROUP_PHRASES["glasses"]  # type: ignore[return-value]
    return _pick(rng, PHRASES[family][value]), frozenset({value})


def _hair_phrase(rng: np.random.Generator, attrs: Attributes) -> str:
    color = attrs.hair_color if attrs.hair_color != "blonde" or rng.random() < 0.7 else "blond"
    style = attrs.hair_style
    if style in ("short", "long", "curly"):
        return f"{style} {color} hair"
    if style == "mohawk":
        return f"a {color} mohawk"
    return f"a {color} bob haircut" if rng.random() < 0.5 else f"a {color} bob"


def _join(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _sentence(attrs: Attributes, rng: np.random.Generator) -> Caption:
    k = int(rng.choice([1, 2, 3, 4, 5], p=[0.3, 0.3, 0.2, 0.12, 0.08]))
    pool = list(FAMILIES) + ["background"]
    chosen = [pool[i] for i in rng.permutation(len(pool))[:k]]
    constraints: list[tuple[str, frozenset[str]]] = []
    background = None
    adjective = None
    for family in chosen:
        key = (family, attrs.value(family)) if family != "background" else None
        if key in ADJECTIVES and adjective is None and rng.random() < 0.5:
            adjective = ADJECTIVES[key]
            constraints.append((family, frozenset({key[1]})))
    parts: list[str] = []
    adj_families = {f for f, _ in constraints}
    hair_done = False
    for family in chosen:
        if family in adj_families:
            continue
        if family == "background":
            background = hue_name(attrs.background)
            parts.append(f"a {background} background")
            continue
        if family in ("hair_style", "hair_color") and {"hair_style", "hair_color"} <= set(chosen):
            if hair_done:
                continue
            hair_done = True
            if attrs.hair_style != "bald" and "hair_style" not in adj_families and "hair_color" not in adj_families:
                parts.append(_hair_phrase(rng, attrs))
                constraints.append(("hair_style", frozenset({attrs.hair_style})))
                constraints.append(("hair_color", frozenset({attrs.hair_color})))
                continue
        text, allowed = _phrase(rng, family, attrs.value(family))
        parts.append(text)
        constraints.append((family, allowed))
    subject = _pick(rng, SUBJECTS)
    head = f"{adjective} {subject}" if adjective else subject
    article = "an" if head[0] in "aeiou" else "a"
    text = f"{article} {head}"
    if parts:
        text += f" with {_join(parts)}"
    return Caption(text, tuple(constraints), background)


def describe(attrs: Attributes, rng: np.random.Generator, template_p: float = 0.25) -> Caption:
    """A caption of ``attrs`` and what it asserts (see the module doc for the mix)."""
    r = rng.random()
    if r < 0.05:
        cap = Caption(_pick(rng, NEUTRAL_TEXTS))
    elif r < 0.30:
        family = _pick(rng, tuple(FAMILIES) + ("background",))
        if family == "background":
            name = hue_name(attrs.background)
            cap = Caption(f"{name} background", (), name)
        else:
            text, allowed = _phrase(rng, family, attrs.value(family))
            cap = Caption(text, ((family, allowed),))
    else:
        cap = _sentence(attrs, rng)
    if rng.random() < template_p:
        template = OPENAI_IMAGENET_TEMPLATES[int(rng.integers(len(OPENAI_IMAGENET_TEMPLATES)))]
        cap = Caption(template(cap.text), cap.constraints, cap.background)
    return cap


def caption(attrs: Attributes, rng: np.random.Generator) -> str:
    """One varied text describing (part of) ``attrs``."""
    return describe(attrs, rng).text
