"""Captions: every text is true of its face, wording varies, prompt tables are complete."""
import numpy as np

from styleclip_zoo.toon import FAMILIES, Attributes, sample_attributes
from styleclip_zoo.toon.captions import (
    PHRASES, PROMPTS, Caption, canonical_phrase, caption, describe, hue_name, prompt_matches,
)


def draws(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a = sample_attributes(rng)
        out.append((a, describe(a, rng)))
    return out


def test_every_caption_fits_the_face_it_describes():
    for attrs, cap in draws(600):
        assert cap.fits(attrs), (attrs, cap)


def test_captions_state_what_they_constrain():
    # each constrained value's phrase appears in the text (group phrase "glasses" aside)
    for attrs, cap in draws(300, seed=1):
        for family, allowed in cap.constraints:
            if len(allowed) == 1:
                value = next(iter(allowed))
                assert value == attrs.value(family)


def test_wording_and_coverage_vary():
    texts = [cap.text for _, cap in draws(800, seed=2)]
    assert len(set(texts)) > 400
    bare = {t for t in texts if " " not in t or t in {p for v in PHRASES.values() for ps in v.values() for p in ps}}
    assert len(bare) > 20  # short bare phrases such as "smile", "curly hair"
    templated = [t for t in texts if t.endswith(".")]
    assert 0.15 < len(templated) / len(texts) < 0.35  # wrapped in ImageNet templates ~25 %
    mentions = [len(cap.constraints) for _, cap in draws(800, seed=3)]
    assert {0, 1, 2, 3} <= set(mentions)


def test_bare_prompt_phrases_are_produced_for_matching_faces():
    rng = np.random.default_rng(4)
    curly = Attributes(hair_style="curly", hair_color="purple", expression="smile")
    texts = {caption(curly, rng) for _ in range(3000)}
    for t in ("curly hair", "purple hair", "smile", "a face with curly purple hair"):
        assert any(x == t or x.startswith(t) for x in texts), t


def test_phrase_table_covers_every_value():
    for family, values in FAMILIES.items():
        assert set(PHRASES[family]) == set(values)
        canon = [canonical_phrase(family, v) for v in values]
        assert len(set(canon)) == len(values)


def test_prompts_name_real_attributes():
    required = {"smile", "curly hair", "purple hair", "glasses", "bald", "closed eyes", "beard", "surprised",
                "sad", "angry", "red hair", "blonde hair", "white hair", "mohawk", "bob", "long hair", "sunglasses"}
    assert required <= set(PROMPTS)
    for text, (family, value) in PROMPTS.items():
        assert value in FAMILIES[family], text
        assert prompt_matches(text, Attributes(**{family: value}))


def test_glasses_means_any_glasses():
    assert prompt_matches("glasses", Attributes(glasses="sunglasses"))
    assert not prompt_matches("glasses", Attributes(glasses="none"))
    cap = Caption("glasses", (("glasses", frozenset({"round", "sunglasses"})),))
    assert cap.fits(Attributes(glasses="round")) and not cap.fits(Attributes(glasses="none"))


def test_background_caption_constrains_the_hue():
    cap = Caption("blue background", (), "blue")
    assert cap.fits(Attributes(background=0.6))
    assert not cap.fits(Attributes(background=0.3))
    assert hue_name(0.0) == hue_name(0.99) == "red"
