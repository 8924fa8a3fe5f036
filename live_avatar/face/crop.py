"""Pure crop geometry: square face boxes, crops with padding, and steady boxes over time."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: top-left (x, y), width and height."""

    x: float
    y: float
    w: float
    h: float

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def square(self, scale: float = 1.0) -> Box:
        """The square of side max(w, h) * scale with the same centre."""
        side = max(self.w, self.h) * scale
        cx, cy = self.center
        return Box(cx - side / 2, cy - side / 2, side, side)

    def as_array(self) -> np.ndarray:
        return np.array([self.x, self.y, self.w, self.h], dtype=np.float64)

    @staticmethod
    def from_array(values) -> Box:
        x, y, w, h = (float(v) for v in values)
        return Box(x, y, w, h)


def face_box_from_landmarks(landmarks: np.ndarray, scale: float = 1.8) -> Box:
    """The square crop box around face-mesh landmarks ((N, 2+) pixels).

    `scale` is the side over the landmarks' extent: 1.8 keeps the hair and chin in view,
    close to the crops the FOMM vox models were trained on. The centre is raised a little so
    the forehead is not cut.
    """
    xy = landmarks[:, :2]
    low, high = xy.min(axis=0), xy.max(axis=0)
    extent = float(max(high - low))
    cx, cy = (low + high) / 2
    cy -= 0.1 * extent
    side = extent * scale
    return Box(cx - side / 2, cy - side / 2, side, side)


def upright_turns(landmarks: np.ndarray) -> int:
    """Counter-clockwise quarter turns (np.rot90's k, 0-3) that bring the face of face-mesh
    landmarks ((478, 2+) pixels) within 45 degrees of upright: the eye line from the
    subject's right eye (point 33) to the left (263) pointing right."""
    eyes = np.asarray(landmarks[263, :2], np.float64) - landmarks[33, :2]
    for turns in range(4):
        if eyes[0] > abs(eyes[1]):
            return turns
        eyes = np.array([eyes[1], -eyes[0]])  # a quarter turn maps a direction (dx, dy) to (dy, -dx)
    return 0  # the eyes on one point: no direction to go by


def crop_square(image: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Crop `box` out of `image` (HxWxC) and resize it to size x size.

    Parts of the box outside the image are filled by replicating the border, so a face near
    the edge keeps its place in the crop instead of being shifted.
    """
    scale = size / max(box.w, 1e-6)
    # affine map from image to crop; one warp both crops and resizes (no intermediate copy)
    matrix = np.array([[scale, 0, -box.x * scale], [0, scale, -box.y * scale]], dtype=np.float64)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(
        image, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
    )


def upright_face_crop(image: np.ndarray, landmarks: np.ndarray, size: int) -> np.ndarray:
    """The size x size square crop around the face of `landmarks` (see
    face_box_from_landmarks), of the picture turned by quarter turns so that the face is
    upright (a face-crop model such as FOMM moves an upright face as the driver's)."""
    turns = upright_turns(landmarks)
    turned = turn_points(np.asarray(landmarks, np.float64), turns, image.shape[:2])
    return crop_square(np.rot90(image, turns), face_box_from_landmarks(turned), size)


def turn_points(points: np.ndarray, turns: int, shape: tuple[int, int]) -> np.ndarray:
    """Points ((N, 2+) pixels) of an image of `shape` (H, W) as points of
    np.rot90(image, turns); further coordinates (z) are kept."""
    points = np.array(points, dtype=np.float64)
    height, width = shape
    for _ in range(turns % 4):
        # a counter-clockwise quarter turn: (x, y) -> (y, W - x), and the width becomes H
        points[:, 0], points[:, 1] = points[:, 1].copy(), width - points[:, 0]
        height, width = width, height
    return points


def landmarks_in_crop(landmarks: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Image-pixel points (N, 2 or 3) -> pixels of the size x size crop of `box` (float32).

    z, where given, is scaled like x and y."""
    scale = size / box.w
    points = landmarks.astype(np.float32).copy()
    points[:, 0] = (points[:, 0] - box.x) * scale
    points[:, 1] = (points[:, 1] - box.y) * scale
    points[:, 2:] *= scale
    return points


def landmarks_from_crop(points: np.ndarray, box: Box, size: int) -> np.ndarray:
    """The inverse of `landmarks_in_crop`: crop pixels (N, 2 or 3) -> image pixels (float32)."""
    factor = box.w / size
    points = points.astype(np.float32).copy()
    points[:, 0] = points[:, 0] * factor + box.x
    points[:, 1] = points[:, 1] * factor + box.y
    points[:, 2:] *= factor
    return points


def stable_clip_box(boxes: list[Box | None], margin: float = 1.1) -> Box | None:
    """One box for a whole clip: the median centre and a side that holds every face box.

    Keeping one crop over the clip removes crop jitter entirely; `margin` leaves room for
    motion. Frames with no face (None) are ignored; None when no frame had a face.
    """
    found = np.array([b.as_array() for b in boxes if b is not None])
    if len(found) == 0:
        return None
    centers = found[:, :2] + found[:, 2:] / 2
    cx, cy = np.median(centers, axis=0)
    reach = np.max(np.abs(centers - (cx, cy)), axis=0) * 2 + found[:, 2:].max(axis=0)
    side = float(max(reach)) * margin
    # a face that barely moves should not get a loose crop: cap at 1.35x the median face
    side = min(side, float(np.median(found[:, 2])) * 1.35)
    return Box(cx - side / 2, cy - side / 2, side, side)
