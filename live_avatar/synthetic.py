"""A driving clip made on the spot from a bundled portrait, so demos and the benchmark work
on a fresh machine with no video of one's own."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from live_avatar.paths import AVATARS_DIR

DEFAULT_FACE = AVATARS_DIR / "astronaut.png"


def synthetic_driving_frames(
    count: int = 90, size: tuple[int, int] = (640, 480), face: Path = DEFAULT_FACE
) -> Iterator[np.ndarray]:
    """`count` webcam-like frames (height x width x 3 uint8 RGB, size = (width, height)) of a
    real face that sways: rolls up to 8 degrees, nods up and down, drifts and zooms a little."""
    from live_avatar.avatars import load_avatar

    portrait = load_avatar(face)
    width, height = size
    base = min(width, height) / max(portrait.shape[:2])
    for index in range(count):
        phase = 2 * math.pi * index / 60
        angle = 8 * math.sin(phase)
        scale = base * (1 + 0.05 * math.sin(phase * 0.5))
        matrix = cv2.getRotationMatrix2D((portrait.shape[1] / 2, portrait.shape[0] / 3), angle, scale)
        matrix[0, 2] += (width - portrait.shape[1] * scale) / 2 + 25 * math.sin(phase * 0.7)
        matrix[1, 2] += (height - portrait.shape[0] * scale) / 2 + 12 * math.cos(phase)
        yield cv2.warpAffine(portrait, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)


def write_synthetic_clip(path: Path, count: int = 90, fps: float = 30.0,
                         size: tuple[int, int] = (640, 480)) -> Path:
    """Write `synthetic_driving_frames` to `path` (an .mp4 or a folder); returns `path`."""
    from live_avatar.media import VideoWriter

    with VideoWriter(path, fps) as writer:
        for frame in synthetic_driving_frames(count, size):
            writer.write(frame)
    return Path(path)
