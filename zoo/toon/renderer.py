"""Draw a toon face from its attributes and a nuisance seed.

Faces are drawn with PIL on a canvas four times the output size and
downsampled with LANCZOS, which gives anti-aliased edges. The drawing is a
pure function of ``(attrs, nuisance_seed, size)``: the seed only moves things
a little (head position, scale and proportions, eye spacing, mouth width,
shirt colour), never changes what the attributes say.

Every family is meant to be visible at 64 px:
hair styles differ in silhouette (bald: no hair; short: a cap; long: a panel
past the shoulders; curly: a ring of bumps; mohawk: a tall central crest;
bob: a helmet ending at the jaw); expressions differ in mouth and brows;
closed eyes are lines; round glasses are rings, sunglasses dark lenses; a
beard fills the jaw. Eyebrows (and beard) share the hair colour, so the hair
colour shows even on a bald head.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .attributes import Attributes

# Canvas units: all geometry is written for a 256 px canvas (size 64, x4).
_BASE = 256.0
_SUPERSAMPLE = 4

HAIR_RGB: dict[str, tuple[int, int, int]] = {
    "black": (28, 26, 30),
    "brown": (112, 68, 36),
    "blonde": (236, 200, 96),
    "red": (204, 52, 28),
    "purple": (134, 54, 192),
    "white": (242, 242, 242),
}
SKIN_RGB: dict[str, tuple[int, int, int]] = {
    "light": (252, 222, 196),
    "tan": (226, 176, 128),
    "brown": (164, 106, 66),
    "dark": (96, 60, 38),
}
_LINE = (34, 26, 28)
_MOUTH = (110, 30, 36)
_MOUTH_INSIDE = (60, 16, 22)
_LENS = (18, 18, 24)
_FRAME = (30, 30, 36)


def hue_rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return (round(r * 255), round(g * 255), round(b * 255))


def background_rgb(hue: float) -> tuple[int, int, int]:
    """The background colour of a face with background hue ``hue``."""
    return hue_rgb(hue, 0.42, 0.84)


def _shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, round(c * factor))) for c in rgb)  # type: ignore[return-value]


@dataclass(frozen=True)
class _Layout:
    """Nuisance-jittered geometry of one face, in canvas pixels."""

    s: float  # canvas pixels per base unit
    cx: float
    cy: float
    rx: float
    ry: float
    eye_dx: float
    eye_y: float
    mouth_y: float
    mouth_w: float
    shirt: tuple[int, int, int]
    bg_sat: float
    bg_val: float

    @staticmethod
    def from_seed(seed: int, size: int) -> "_Layout":
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x7007])
        u = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
        s = size * _SUPERSAMPLE / _BASE
        scale = u(0.93, 1.07)
        rx = 58 * scale * u(0.95, 1.05)
        ry = 72 * scale * u(0.96, 1.04)
        cy = 120 + u(-5, 5)
        return _Layout(
            s=s,
            cx=128 + u(-7, 7),
            cy=cy,
            rx=rx,
            ry=ry,
            eye_dx=rx * u(0.38, 0.46),
            eye_y=cy - ry * u(0.0, 0.1),
            mouth_y=cy + ry * u(0.5, 0.58),
            mouth_w=rx * u(0.32, 0.4),
            shirt=hue_rgb(u(0, 1), u(0.25, 0.45), u(0.42, 0.6)),
            bg_sat=u(-0.04, 0.04),
            bg_val=u(-0.04, 0.04),
        )


def layout_geometry(seed: int) -> np.ndarray:
    """The geometry nuisance seed ``seed`` gives a face, in canvas pixels:
    (centre x, centre y, radius x, radius y, eye spacing, eye height, mouth height, mouth width)."""
    L = _Layout.from_seed(seed, 64)
    return np.array([L.cx, L.cy, L.rx, L.ry, L.eye_dx, L.eye_y, L.mouth_y, L.mouth_w])


class _Pen:
    """ImageDraw wrapper that takes base-unit coordinates."""

    def __init__(self, image: Image.Image, s: float) -> None:
        self.d = ImageDraw.Draw(image)
        self.s = s

    def _box(self, x0: float, y0: float, x1: float, y1: float) -> list[float]:
        s = self.s
        return [x0 * s, y0 * s, x1 * s, y1 * s]

    def _w(self, width: float) -> int:
        return max(1, round(width * self.s))

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill=None, outline=None, width: float = 0) -> None:
        self.d.ellipse(self._box(cx - rx, cy - ry, cx + rx, cy + ry), fill=fill, outline=outline,
                       width=self._w(width) if outline else 0)

    def chord(self, cx: float, cy: float, rx: float, ry: float, start: float, end: float, fill, outline=None,
              width: float = 0) -> None:
        self.d.chord(self._box(cx - rx, cy - ry, cx + rx, cy + ry), start, end, fill=fill, outline=outline,
                     width=self._w(width) if outline else 0)

    def arc(self, box: tuple[float, float, float, float], start: float, end: float, fill, width: float) -> None:
        self.d.arc(self._box(*box), start, end, fill=fill, width=self._w(width))

    def line(self, points: Sequence[tuple[float, float]], fill, width: float) -> None:
        self.d.line([(x * self.s, y * self.s) for x, y in points], fill=fill, width=self._w(width), joint="curve")

    def polygon(self, points: Sequence[tuple[float, float]], fill, outline=None, width: float = 0) -> None:
        self.d.polygon([(x * self.s, y * self.s) for x, y in points], fill=fill, outline=outline,
                       width=self._w(width) if outline else 0)

    def rounded(self, box: tuple[float, float, float, float], radius: float, fill, outline=None,
                width: float = 0) -> None:
        self.d.rounded_rectangle(self._box(*box), radius=radius * self.s, fill=fill, outline=outline,
                                 width=self._w(width) if outline else 0)


def _cap(pen: _Pen, L: _Layout, hairline: float, color, pad: float = 7.0) -> None:
    """Hair covering the top of the head down to ``hairline`` (a y coordinate)."""
    rx, ry = L.rx + pad, L.ry + pad
    h = (L.cy - hairline) / ry
    theta = math.degrees(math.asin(max(-1.0, min(1.0, h))))
    pen.chord(L.cx, L.cy, rx, ry, 180 + theta, 360 - theta, fill=color, outline=_shade(color, 0.7), width=3)


def _hair_back(pen: _Pen, L: _Layout, style: str, color) -> None:
    """Hair drawn behind the head (long, bob, curly)."""
    edge = _shade(color, 0.7)
    if style == "long":
        pen.rounded((L.cx - L.rx - 18, L.cy - L.ry - 9, L.cx + L.rx + 18, _BASE + 20), 44, fill=color,
                    outline=edge, width=3)
    elif style == "bob":
        pen.rounded((L.cx - L.rx - 15, L.cy - L.ry - 11, L.cx + L.rx + 15, L.cy + 0.62 * L.ry), 48, fill=color,
                    outline=edge, width=3)
    elif style == "curly":
        for k in range(13):
            a = math.radians(150 + k * 20)
            x = L.cx + (L.rx + 8) * math.cos(a)
            y = L.cy + (L.ry + 6) * math.sin(a)
            pen.ellipse(x, y, 19, 19, fill=color, outline=edge, width=3)


def _hair_front(pen: _Pen, L: _Layout, style: str, color) -> None:
    """Hair drawn over the head (caps, fringes, crest)."""
    edge = _shade(color, 0.7)
    top = L.cy - L.ry
    if style == "short":
        _cap(pen, L, L.cy - 0.5 * L.ry, color)
        for side in (-1, 1):  # sideburns
            x = L.cx + side * (L.rx - 6)
            pen.rounded((x - 6, L.cy - 0.6 * L.ry, x + 6, L.cy - 0.05 * L.ry), 5, fill=color)
    elif style == "long":
        _cap(pen, L, L.cy - 0.45 * L.ry, color)
    elif style == "bob":
        _cap(pen, L, L.cy - 0.3 * L.ry, color)  # straight, low fringe
    elif style == "curly":
        _cap(pen, L, L.cy - 0.55 * L.ry, color)
        for k in range(7):
            t = -0.8 + k * 1.6 / 6
            x = L.cx + t * L.rx
            y = L.cy - L.ry * math.sqrt(max(0.0, 1 - t * t)) * 0.62
            pen.ellipse(x, y, 13, 13, fill=color, outline=edge, width=3)
    elif style == "mohawk":
        w = 17
        base = L.cy - 0.45 * L.ry
        crest = top - 36
        spikes = [(L.cx - w, base), (L.cx - w, top + 4)]
        for k in range(5):  # zig-zag tips along the crest
            y = top + 4 - (k + 1) * (top + 4 - crest) / 5
            spikes.append((L.cx - w - 5 if k % 2 == 0 else L.cx - w + 5, y))
        spikes.append((L.cx, crest - 6))
        spikes += [(2 * L.cx - x, y) for x, y in reversed(spikes[2:-1])]
        spikes += [(L.cx + w, top + 4), (L.cx + w, base)]
        pen.polygon(spikes, fill=color, outline=edge, width=3)


def _eyes(pen: _Pen, L: _Layout, attrs: Attributes) -> None:
    for side in (-1, 1):
        ex = L.cx + side * L.eye_dx
        if attrs.eyes == "open":
            pen.ellipse(ex, L.eye_y, 12, 9, fill=(255, 255, 255), outline=_LINE, width=2.5)
            pen.ellipse(ex, L.eye_y + 1, 6, 6, fill=_LINE)
        else:
            pen.arc((ex - 12, L.eye_y - 8, ex + 12, L.eye_y + 6), 15, 165, fill=_LINE, width=5)


def _brows(pen: _Pen, L: _Layout, attrs: Attributes) -> None:
    color = _shade(HAIR_RGB[attrs.hair_color], 0.8)
    y = L.eye_y - 25
    for side in (-1, 1):
        ex = L.cx + side * L.eye_dx
        outer, inner = ex + side * 15, ex - side * 13
        expr = attrs.expression
        if expr == "sad":  # inner ends raised
            pts = [(outer, y + 2), (inner, y - 9)]
        elif expr == "angry":  # inner ends pulled down
            pts = [(outer, y - 8), (inner, y + 6)]
        elif expr == "surprised":  # high arch
            pen.arc((ex - 16, y - 16, ex + 16, y + 4), 200, 340, fill=color, width=7)
            continue
        else:
            pts = [(outer, y), (inner, y)]
        pen.line(pts, fill=color, width=7)


def _mouth(pen: _Pen, L: _Layout, expression: str) -> None:
    mx, my, w = L.cx, L.mouth_y, L.mouth_w
    if expression == "neutral":
        pen.line([(mx - w * 0.85, my), (mx + w * 0.85, my)], fill=_MOUTH, width=6)
    elif expression == "smile":
        pen.arc((mx - w, my - 22, mx + w, my + 10), 15, 165, fill=_MOUTH, width=7)
    elif expression == "sad":
        pen.arc((mx - w, my - 4, mx + w, my + 26), 200, 340, fill=_MOUTH, width=7)
    elif expression == "surprised":
        pen.ellipse(mx, my, 10, 13, fill=_MOUTH_INSIDE, outline=_MOUTH, width=3)
    elif expression == "angry":
        pen.rounded((mx - w * 0.9, my - 7, mx + w * 0.9, my + 7), 4, fill=_MOUTH_INSIDE)
        pen.line([(mx - w * 0.8, my), (mx + w * 0.8, my)], fill=(240, 240, 232), width=4)


def _beard(pen: _Pen, L: _Layout, attrs: Attributes) -> None:
    color = HAIR_RGB[attrs.hair_color]
    pen.chord(L.cx, L.cy + 6, L.rx + 5, L.ry + 8, 12, 168, fill=color, outline=_shade(color, 0.7), width=3)
    # keep the mouth readable: a skin patch around it
    pen.ellipse(L.cx, L.mouth_y, L.mouth_w + 9, 15, fill=SKIN_RGB[attrs.skin])


def _glasses(pen: _Pen, L: _Layout, kind: str) -> None:
    left, right = L.cx - L.eye_dx, L.cx + L.eye_dx
    y = L.eye_y
    if kind == "round":
        for ex in (left, right):
            pen.ellipse(ex, y, 18, 18, outline=_FRAME, width=5)
        pen.line([(left + 18, y - 2), (right - 18, y - 2)], fill=_FRAME, width=5)
    elif kind == "sunglasses":
        for ex in (left, right):
            pen.rounded((ex - 20, y - 13, ex + 20, y + 14), 9, fill=_LENS)
        pen.line([(left + 18, y - 4), (right - 18, y - 4)], fill=_LENS, width=6)


def draw(attrs: Attributes, nuisance_seed: int, size: int = 64) -> Image.Image:
    """Draw at ``4 * size`` pixels (no downsampling); see ``render``."""
    L = _Layout.from_seed(nuisance_seed, size)
    bg = hue_rgb(attrs.background, 0.42 + L.bg_sat, 0.84 + L.bg_val)
    canvas = Image.new("RGB", (size * _SUPERSAMPLE, size * _SUPERSAMPLE), bg)
    pen = _Pen(canvas, L.s)
    skin = SKIN_RGB[attrs.skin]
    skin_edge = _shade(skin, 0.75)
    hair = HAIR_RGB[attrs.hair_color]

    pen.ellipse(L.cx, _BASE + 42, 112, 78, fill=L.shirt, outline=_shade(L.shirt, 0.7), width=3)
    _hair_back(pen, L, attrs.hair_style, hair)
    pen.rounded((L.cx - 19, L.cy + L.ry - 20, L.cx + 19, _BASE - 30), 8, fill=skin)
    for side in (-1, 1):  # ears
        pen.ellipse(L.cx + side * L.rx, L.cy, 11, 16, fill=skin, outline=skin_edge, width=3)
    pen.ellipse(L.cx, L.cy, L.rx, L.ry, fill=skin, outline=skin_edge, width=3)
    if attrs.beard == "beard":
        _beard(pen, L, attrs)
    _hair_front(pen, L, attrs.hair_style, hair)
    _eyes(pen, L, attrs)
    _brows(pen, L, attrs)
    pen.arc((L.cx - 7, L.cy + 0.12 * L.ry, L.cx + 7, L.cy + 0.3 * L.ry), 20, 160, fill=skin_edge, width=3)  # nose
    _mouth(pen, L, attrs.expression)
    _glasses(pen, L, attrs.glasses)
    return canvas


def render(attrs: Attributes, nuisance_seed: int, size: int = 64) -> Image.Image:
    """The face ``attrs`` with nuisance jitter ``nuisance_seed``: an RGB image ``size`` x ``size``.

    Deterministic: the same arguments give the same bytes.
    """
    return draw(attrs, nuisance_seed, size).resize((size, size), Image.LANCZOS)


def render_batch(attrs: Sequence[Attributes], nuisance_seeds: Sequence[int], size: int = 64) -> np.ndarray:
    """Render many faces into one uint8 array of shape (B, size, size, 3)."""
    if len(attrs) != len(nuisance_seeds):
        raise ValueError(f"{len(attrs)} attribute sets but {len(nuisance_seeds)} seeds")
    out = np.empty((len(attrs), size, size, 3), dtype=np.uint8)
    for i, (a, seed) in enumerate(zip(attrs, nuisance_seeds)):
        out[i] = np.asarray(render(a, int(seed), size))
    return out
