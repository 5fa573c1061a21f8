"""ImageDigests: one cache of pixels by sha256, least recently used out above its byte limit."""
from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image
from styleclip_runtime.io.image_input import ImageDigests


def test_pixels_are_held_once_by_sha256_under_the_byte_limit(tmp_path) -> None:
    paths = []
    for n in range(3):
        path = tmp_path / f"p{n}.png"
        Image.fromarray(np.full((16, 16, 3), 40 * n, dtype=np.uint8)).save(path)
        paths.append(path)
    digests = ImageDigests(max_bytes=2 * 16 * 16 * 3)
    subjects = [digests.subjects(p, 16, {})[0] for p in paths]
    assert digests.decoded == 3
    held = digests.held()
    assert len(held) == 2 and digests.held_bytes == sum(a.nbytes for a in held) <= digests.max_bytes
    last = digests.subject_pixels(subjects[2], 16, {})  # still held: not decoded again
    assert digests.decoded == 3
    assert hashlib.sha256(last.tobytes()).hexdigest() == subjects[2].sha256
    first = digests.subject_pixels(subjects[0], 16, {})  # evicted: decoded again, and held
    assert digests.decoded == 4
    assert hashlib.sha256(first.tobytes()).hexdigest() == subjects[0].sha256
    held = digests.held()
    assert [hashlib.sha256(a.tobytes()).hexdigest() for a in held] == [subjects[2].sha256, subjects[0].sha256]
    assert digests.held_bytes == sum(a.nbytes for a in held) <= digests.max_bytes
    assert digests.subjects(paths[0], 16, {})[0] == subjects[0] and digests.decoded == 4  # digests stay known
