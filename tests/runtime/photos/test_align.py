"""The FFHQ alignment on a real photograph, offline: dlib's detector and the 68-landmark model
that ships in the face_recognition_models wheel find the astronaut's face, and the aligned crop
puts her eyes where FFHQ's are. The eyes are found again, independently, on the crop itself, so
the test checks the pixels the encoder would see, not the arithmetic that made them."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from styleclip_runtime.io.photos.align import FFHQ_EYES, align_face, ffhq_quad
from styleclip_runtime.io.photos.faces import find_faces

from .photo_files import astronaut, no_face_photo

SIZE = 256
TOLERANCE = 3.0  # pixels at 256 (FFHQ_EYES is exact only when the eye term sets the crop's size)


def eyes_and_mouth(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0), (landmarks[48] + landmarks[54]) / 2


def assert_ffhq_eyes(crop: np.ndarray) -> None:
    found = find_faces(crop)
    assert len(found) == 1, "the aligned crop must hold one face"
    left, right, mouth = eyes_and_mouth(found[0].landmarks)
    side = crop.shape[0]
    assert np.hypot(*(left - np.array(FFHQ_EYES[0]) * side)) <= TOLERANCE, left
    assert np.hypot(*(right - np.array(FFHQ_EYES[1]) * side)) <= TOLERANCE, right
    assert abs(mouth[0] - side / 2) <= TOLERANCE and 0.62 * side < mouth[1] < 0.78 * side, mouth


@pytest.fixture(scope="module")
def photo_and_face():
    photo = astronaut()
    faces = find_faces(photo)
    assert len(faces) == 1  # her face, not the mission patch on her suit (detector score 0.12)
    return photo, faces[0]


def test_the_astronaut_aligns_with_her_eyes_on_the_ffhq_template(photo_and_face) -> None:
    photo, face = photo_and_face
    left, right, _ = eyes_and_mouth(face.landmarks)
    assert 175 <= left[0] < right[0] <= 265 and 76 <= left[1] <= 166  # on her face, inside its box
    aligned = align_face(photo, face.landmarks, SIZE)
    assert aligned.pixels.shape == (SIZE, SIZE, 3) and aligned.pixels.dtype == np.uint8
    assert_ffhq_eyes(aligned.pixels)
    # the recorded quad maps her landmarks onto the crop where the crop shows them
    mapped = aligned.to_crop(np.stack(eyes_and_mouth(face.landmarks)[:2]))
    assert np.abs(mapped - np.array(FFHQ_EYES) * SIZE).max() <= TOLERANCE


def test_a_tilted_off_centre_face_is_turned_upright(photo_and_face) -> None:
    """The issue's case: a face off-centre in a wider photo, here also tilted by 20 degrees; a
    centre crop would cut it, the alignment turns it upright onto the template."""
    photo, _ = photo_and_face
    canvas = np.full((600, 800, 3), 200, dtype=np.uint8)
    canvas[40:552, 260:772] = photo
    tilted = np.asarray(Image.fromarray(canvas).rotate(20, resample=Image.BICUBIC, fillcolor=(200, 200, 200)))
    faces = find_faces(tilted)
    assert len(faces) == 1
    quad, _ = ffhq_quad(faces[0].landmarks)
    top_edge = quad[3] - quad[0]
    assert abs(np.degrees(np.arctan2(top_edge[1], top_edge[0])) + 20) < 3  # the quad turned with the face
    assert_ffhq_eyes(align_face(tilted, faces[0].landmarks, SIZE).pixels)


def test_several_faces_are_found_left_to_right_and_no_face_is_none(photo_and_face) -> None:
    photo, _ = photo_and_face
    pair = np.concatenate([photo[::2, ::2], photo[::2, ::-2]], axis=1)  # two smaller copies, mirrored
    faces = find_faces(pair)
    assert len(faces) == 2 and faces[0].box[0] < faces[1].box[0] and faces[0].box[2] <= 256 <= faces[1].box[0]
    for face in faces:
        assert_ffhq_eyes(align_face(pair, face.landmarks, SIZE).pixels)
    assert find_faces(no_face_photo()) == []


def test_a_sideways_phone_photo_and_a_16_bit_scan_align_as_the_original(tmp_path, photo_and_face) -> None:
    """Through the invert path's reader (decode, find, align): a photo stored sideways with EXIF
    orientation 6, and the same photo as a 16-bit PNG, give the original's aligned crop."""
    from styleclip_runtime.io.image_input import read_faces

    from .photo_files import write_png16

    photo, face = photo_and_face
    img = Image.fromarray(np.ascontiguousarray(np.rot90(photo, 1)))
    exif = img.getexif()
    exif[274] = 6
    img.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    write_png16(tmp_path / "scan.png", photo.astype(np.uint16) * 257)
    expected = align_face(photo, face.landmarks, SIZE).pixels
    (scan, record), = read_faces(tmp_path / "scan.png", SIZE, {}, "ffhq")
    assert np.array_equal(scan, expected) and len(record["landmarks"]) == 68
    assert {k: record[k] for k in ("box", "score", "landmarks")} == face.to_dict()  # the face found in the scan
    (phone, _), = read_faces(tmp_path / "phone.jpg", SIZE, {}, "ffhq")
    assert_ffhq_eyes(phone)
    assert np.abs(phone.astype(int) - expected).mean() < 6  # JPEG, otherwise the same crop
