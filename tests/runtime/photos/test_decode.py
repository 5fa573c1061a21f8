"""Honest decoding (runtime/io/photos/decode.py): bit depths are scaled to 8-bit, not clipped to white
or black; what cannot be scaled honestly is refused with the range found; EXIF orientation is
applied; a FIFO is refused without being opened; a decompression bomb is a clean error."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from styleclip_runtime.io.photos.decode import PhotoError, decode_photo

from .photo_files import astronaut, call_or_unblock, write_huge_png_header, write_png16


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return astronaut()[::2, ::2].copy()  # 256 x 256: the test is about values, not size


def test_16_bit_png_colour_and_gray_scale_to_8_bit(tmp_path, photo) -> None:
    wide = photo.astype(np.uint16) * 257  # 8-bit v -> 16-bit v * 257: exactly v again
    assert np.array_equal(decode_photo(write_png16(tmp_path / "rgb16.png", wide)), photo)
    gray = decode_photo(write_png16(tmp_path / "gray16.png", wide[:, :, 1]))
    assert np.array_equal(gray, np.repeat(photo[:, :, 1:2], 3, axis=2))  # not all white


def test_float_and_integer_tiffs_scale_by_their_range(tmp_path, photo) -> None:
    as_float = photo.astype(np.float32) / 255
    tifffile.imwrite(tmp_path / "rgb.tif", as_float, photometric="rgb")  # colour float: Pillow cannot, tifffile does
    tifffile.imwrite(tmp_path / "gray.tif", as_float[:, :, 0])  # gray float: Pillow's mode F
    tifffile.imwrite(tmp_path / "int16.tif", photo.astype(np.uint16) * 257)
    tifffile.imwrite(tmp_path / "int32.tif", photo[:, :, 0].astype(np.int32) * (2 ** 23))
    assert np.abs(decode_photo(tmp_path / "rgb.tif").astype(int) - photo).max() <= 1
    assert np.abs(decode_photo(tmp_path / "gray.tif")[:, :, 0].astype(int) - photo[:, :, 0]).max() <= 1
    assert np.array_equal(decode_photo(tmp_path / "int16.tif"), photo)
    assert np.abs(decode_photo(tmp_path / "int32.tif")[:, :, 0].astype(int) - photo[:, :, 0]).max() <= 1


def test_samples_that_cannot_be_scaled_honestly_are_refused_with_their_range(tmp_path, photo) -> None:
    tifffile.imwrite(tmp_path / "hdr.tif", photo.astype(np.float32), photometric="rgb")  # floats 0..255, not 0..1
    tifffile.imwrite(tmp_path / "small.tif", photo[:, :, 0].astype(np.int32) * 1000)  # 0..255000 of 2**31
    tifffile.imwrite(tmp_path / "negative.tif", photo[:, :, 0].astype(np.int16) - 100)
    with pytest.raises(PhotoError, match=r"hdr\.tif has floating-point samples from 0 to 255"):
        decode_photo(tmp_path / "hdr.tif")
    with pytest.raises(PhotoError, match=r"small\.tif .*from 0 to 255000.*one flat grey"):
        decode_photo(tmp_path / "small.tif")
    with pytest.raises(PhotoError, match="negative samples"):
        decode_photo(tmp_path / "negative.tif")


@pytest.mark.parametrize("orientation, stored", [(6, lambda a: np.rot90(a, 1)), (8, lambda a: np.rot90(a, -1)),
                                                  (3, lambda a: a[::-1, ::-1])])
def test_exif_orientation_is_applied(tmp_path, photo, orientation, stored) -> None:
    """A camera stores the sensor's pixels and says in EXIF how to turn them: decoding turns them."""
    img = Image.fromarray(np.ascontiguousarray(stored(photo)))
    exif = img.getexif()
    exif[274] = orientation
    img.save(tmp_path / "phone.png", exif=exif)
    assert np.array_equal(decode_photo(tmp_path / "phone.png"), photo)


def test_a_fifo_is_refused_without_being_opened(tmp_path) -> None:
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    finished, result = call_or_unblock(fifo, lambda: decode_photo(fifo))
    assert finished, "decoding a FIFO blocked"
    assert isinstance(result, PhotoError) and "FIFO" in str(result) and "photo.png" in str(result)


def test_a_decompression_bomb_is_a_clean_error(tmp_path) -> None:
    with pytest.raises(PhotoError, match=r"huge\.png is too large to decode safely"):
        decode_photo(write_huge_png_header(tmp_path / "huge.png"))


def test_a_file_that_is_no_image_is_named(tmp_path) -> None:
    (tmp_path / "notes.jpg").write_text("not a photo")
    with pytest.raises(PhotoError, match=r"cannot read image .*notes\.jpg"):
        decode_photo(Path(tmp_path / "notes.jpg"))
