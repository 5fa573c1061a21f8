"""Renderer: deterministic, and each attribute changes the pixels where it should."""
import numpy as np
import pytest

from styleclip_zoo.toon import FAMILIES, Attributes, render, render_batch, sample_attributes
from styleclip_zoo.toon.attributes import labels

BASE = Attributes(hair_style="short", hair_color="brown", expression="neutral", eyes="open", glasses="none",
                  beard="none", skin="light", background=0.55)

# Regions of a 64 px face (rows, cols), from the renderer's layout (head centre ~ (30, 32)).
EYES = (slice(24, 34), slice(18, 46))
MOUTH = (slice(36, 46), slice(24, 40))
TOP = (slice(0, 16), slice(16, 48))
CORNER = (slice(0, 6), slice(0, 6))
BELOW_SHOULDERS = (slice(58, 64), slice(20, 44))


def px(attrs: Attributes, seed: int = 3) -> np.ndarray:
    return np.asarray(render(attrs, seed)).astype(np.int16)


def changed(a: np.ndarray, b: np.ndarray, region) -> float:
    """Fraction of pixels in ``region`` that differ by more than 24 in some channel."""
    return float((np.abs(a[region] - b[region]).max(-1) > 24).mean())


def test_same_attributes_and_seed_give_the_same_bytes():
    a = render(BASE, 7).tobytes()
    assert render(BASE, 7).tobytes() == a
    assert render(BASE, 8).tobytes() != a  # the nuisance seed jitters the drawing


def test_output_is_rgb_of_the_requested_size():
    img = render(BASE, 0)
    assert img.mode == "RGB" and img.size == (64, 64)
    assert render(BASE, 0, size=32).size == (32, 32)


def test_render_batch_matches_render():
    rng = np.random.default_rng(0)
    attrs = [sample_attributes(rng) for _ in range(5)]
    batch = render_batch(attrs, [1, 2, 3, 4, 5])
    assert batch.shape == (5, 64, 64, 3) and batch.dtype == np.uint8
    for i, a in enumerate(attrs):
        np.testing.assert_array_equal(batch[i], np.asarray(render(a, i + 1)))


def test_nuisance_jitter_is_small():
    a, b = px(BASE, 1), px(BASE, 2)
    assert changed(a, b, (slice(None), slice(None))) < 0.35


@pytest.mark.parametrize("change, inside, outside", [
    ({"glasses": "round"}, EYES, MOUTH),
    ({"glasses": "sunglasses"}, EYES, MOUTH),
    ({"eyes": "closed"}, EYES, MOUTH),
    ({"expression": "smile"}, MOUTH, TOP),
    ({"expression": "surprised"}, MOUTH, TOP),
    ({"hair_style": "bald"}, TOP, MOUTH),
    ({"hair_style": "mohawk"}, TOP, MOUTH),
    ({"hair_color": "purple"}, TOP, MOUTH),
    ({"beard": "beard"}, (slice(38, 54), slice(16, 48)), TOP),
    ({"background": 0.05}, CORNER, (slice(30, 40), slice(26, 38))),
])
def test_attribute_changes_pixels_where_it_should(change, inside, outside):
    before, after = px(BASE), px(BASE.with_(**change))
    assert changed(before, after, inside) > 0.05
    assert changed(before, after, outside) < 0.02


def test_long_hair_falls_past_the_shoulders_and_bob_does_not():
    long_, bob = px(BASE.with_(hair_style="long")), px(BASE.with_(hair_style="bob"))
    hair = np.array([112, 68, 36])
    near = lambda img: float((np.abs(img[BELOW_SHOULDERS] - hair).max(-1) < 30).mean())  # noqa: E731
    assert near(long_) > 0.2
    assert near(bob) < 0.02


def test_bald_shows_no_hair_colour_above_the_brows():
    bald = px(BASE.with_(hair_style="bald", hair_color="purple"))
    purple = np.array([134, 54, 192])
    assert float((np.abs(bald[TOP] - purple).max(-1) < 30).mean()) == 0.0


def test_every_value_of_every_family_renders_differently():
    for family, values in FAMILIES.items():
        imgs = {v: render(BASE.with_(**{family: v}), 5).tobytes() for v in values}
        assert len(set(imgs.values())) == len(values), family


def test_sampling_covers_every_value_uniformly():
    rng = np.random.default_rng(1)
    attrs = [sample_attributes(rng) for _ in range(1200)]
    lab = labels(attrs)
    for family, values in FAMILIES.items():
        counts = np.bincount(lab[family], minlength=len(values))
        expected = 1200 / len(values)
        assert counts.min() > 0.75 * expected and counts.max() < 1.25 * expected, family
    assert 0.0 <= lab["background"].min() and lab["background"].max() < 1.0


def test_invalid_attributes_are_rejected():
    with pytest.raises(ValueError, match="hair_style"):
        Attributes(hair_style="afro")
    with pytest.raises(ValueError, match="background"):
        Attributes(background=1.5)
    assert Attributes.from_dict(BASE.to_dict()) == BASE
