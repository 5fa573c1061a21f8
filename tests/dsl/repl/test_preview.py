"""Terminal image encoders: each decodes back to the image it was given."""
from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image
from rich.style import Style

from styleclip_dsl.repl.preview import (
    half_blocks, iterm_image, kitty_image, pick_protocol, sixel_image, upscale,
)


@pytest.fixture()
def pixels() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize("env, expected", [
    ({"TERM": "xterm-kitty"}, "kitty"),
    ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"}, "kitty"),
    ({"TERM_PROGRAM": "iTerm.app"}, "iterm"),
    ({"TERM_PROGRAM": "WezTerm"}, "iterm"),
    ({"TERM": "mlterm"}, "sixel"),
    ({"TERM": "xterm-256color"}, "blocks"),
    ({"TERM": "xterm-kitty", "STYLECLIP_PREVIEW": "blocks"}, "blocks"),
    ({"TERM": "xterm", "STYLECLIP_PREVIEW": "sixel"}, "sixel"),
])
def test_protocol_from_the_environment(env, expected):
    assert pick_protocol(env) == expected


def test_no_terminal_means_no_inline_image():
    assert pick_protocol({"TERM": "xterm-kitty"}, is_terminal=False) == "none"


def test_kitty_chunks_reassemble_to_the_png():
    big = np.random.default_rng(1).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)  # needs several chunks
    escape = kitty_image(big, columns=30)
    chunks = re.findall(r"\x1b_G([^;]*);([^\x1b]*)\x1b\\", escape)
    assert len(chunks) > 1
    assert chunks[0][0].startswith("a=T,f=100") and "c=30" in chunks[0][0]
    assert [keys.endswith("m=1") for keys, _ in chunks] == [True] * (len(chunks) - 1) + [False]
    assert all(len(body) <= 4096 for _, body in chunks)
    data = base64.b64decode("".join(body for _, body in chunks))
    assert np.array_equal(decode_png(data), big)


def test_iterm_escape_carries_the_png(pixels):
    escape = iterm_image(pixels, columns=20, name="a.png")
    match = re.fullmatch(r"\x1b\]1337;File=([^:]*):([A-Za-z0-9+/=]*)\x07\n", escape)
    assert match
    args = dict(part.split("=", 1) for part in match.group(1).split(";"))
    data = base64.b64decode(match.group(2))
    assert args["inline"] == "1" and args["width"] == "20" and int(args["size"]) == len(data)
    assert base64.b64decode(args["name"]) == b"a.png"
    assert np.array_equal(decode_png(data), pixels)


def decode_sixel(escape: str) -> tuple[np.ndarray, dict[int, tuple[int, int, int]]]:
    """A small sixel decoder: palette indices per pixel, and the palette (percent RGB)."""
    body = escape[escape.index("q") + 1: escape.rindex("\x1b\\")]
    raster = re.match(r'"1;1;(\d+);(\d+)', body)
    width, height = int(raster.group(1)), int(raster.group(2))
    body = body[raster.end():]
    image = np.full((height, width), -1)
    palette: dict[int, tuple[int, int, int]] = {}
    color, x, band = 0, 0, 0
    for token in re.finditer(r"#(\d+);2;(\d+);(\d+);(\d+)|#(\d+)|!(\d+)(.)|([?-~])|(\$)|(-)", body):
        if token.group(1):
            palette[int(token.group(1))] = (int(token.group(2)), int(token.group(3)), int(token.group(4)))
            continue
        if token.group(5):
            color = int(token.group(5))
            continue
        if token.group(9):
            x = 0
            continue
        if token.group(10):
            x, band = 0, band + 1
            continue
        count, char = (int(token.group(6)), token.group(7)) if token.group(6) else (1, token.group(8))
        bits = ord(char) - 63
        for _ in range(count):
            for row in range(6):
                if bits & (1 << row) and band * 6 + row < height:
                    image[band * 6 + row, x] = color
            x += 1
    return image, palette


def test_sixel_decodes_to_the_quantised_image(pixels):
    escape = sixel_image(pixels, colors=16)
    assert escape.startswith("\x1bPq") and escape.rstrip("\n").endswith("\x1b\\")
    index, palette = decode_sixel(escape)
    assert (index >= 0).all()  # every pixel painted exactly by some colour
    quantised = Image.fromarray(pixels).quantize(colors=16, method=Image.Quantize.MEDIANCUT)
    assert np.array_equal(index, np.asarray(quantised))
    rgb = np.asarray(quantised.convert("RGB")).astype(int)
    back = np.array([[palette[i] for i in row] for row in index]) * 255 / 100
    assert np.abs(back - rgb).max() <= 3  # percent precision


def test_sixel_run_length_encodes_flat_areas():
    flat = np.zeros((6, 40, 3), dtype=np.uint8)
    escape = sixel_image(flat, colors=2)
    assert "!40~" in escape


def test_half_blocks_put_the_upper_pixel_in_front_and_the_lower_behind():
    image = np.zeros((2, 2, 3), dtype=np.uint8)
    image[0, 0] = (255, 0, 0)
    image[1, 0] = (0, 0, 255)
    image[0, 1] = (0, 255, 0)
    image[1, 1] = (10, 20, 30)
    text = half_blocks(image, columns=2)
    assert text.plain == "▀▀\n"
    styles = [Style.parse(str(span.style)) for span in text.spans]
    colours = [(tuple(s.color.get_truecolor()), tuple(s.bgcolor.get_truecolor())) for s in styles]
    assert colours == [((255, 0, 0), (0, 0, 255)), ((0, 255, 0), (10, 20, 30))]


def test_half_blocks_keep_the_aspect_ratio(pixels):
    text = half_blocks(upscale(pixels, 40), columns=20)
    lines = text.plain.splitlines()
    assert {len(line) for line in lines} == {20}
    assert len(lines) == round(20 * 12 / 10 / 2)


def test_upscale_is_nearest_by_an_integer_factor(pixels):
    big = upscale(pixels, 30)
    assert big.shape == (36, 30, 3)
    assert np.array_equal(big[::3, ::3], pixels)
