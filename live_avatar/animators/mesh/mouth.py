"""The mouth: its opening carried over relative to each face's own closed extreme, and a dark,
soft-edged interior painted into the opened inner-lip region."""

from __future__ import annotations

import cv2
import numpy as np

from live_avatar.animators.mesh.topology import (
    INNER_LIP_LOWER,
    INNER_LIP_UPPER,
    MOUTH_HOLE,
    MOUTH_PAIRS,
    OUTER_LIP_LOWER,
    OUTER_LIP_UPPER,
    face_axes,
    jaw_weights,
)  # fmt: skip


def mouth_gap(xy: np.ndarray, down: np.ndarray, face_height: float) -> float:
    """Signed inner-lip gap along the face's down axis over face height (< 0: lips cross)."""
    gaps = [(xy[lower] - xy[upper]) @ down for upper, lower in MOUTH_PAIRS]
    return float(np.mean(gaps) / max(face_height, 1e-6))


class MouthTransfer:
    """Sets the avatar's mouth opening from the driver's.

    The driver's opening is taken relative to its closed extreme (lips touching, or pressed
    harder when seen so), not to the calibration frame (a clip may start mid-sentence), and
    added to the avatar's own rest opening; the lower lip, chin
    and lower cheeks carry the difference (jaw weights).
    """

    def __init__(self, avatar: np.ndarray):
        """avatar: (478, 3) rest landmarks in pixels."""
        xy = avatar[:, :2].astype(np.float64)
        _, self.down, self.height = face_axes(xy)
        self.rest = mouth_gap(xy, self.down, self.height)
        self.weights = jaw_weights(xy)
        self.closed: float | None = None  # the driver's smallest opening so far

    def reset(self) -> None:
        self.closed = None

    def driver_opening(self, neutral_driver: np.ndarray) -> float:
        """The driver's opening (pose-free landmarks (478, 3)) in its own face-height units."""
        _, down, height = face_axes(neutral_driver[:, :2])
        return mouth_gap(neutral_driver[:, :2], down, height)

    def apply(self, points: np.ndarray, driver_opening: float) -> float:
        """Move the avatar's jaw in `points` ((478, 3), avatar frame, in place) to the target
        opening; returns the target opening beyond the avatar's rest (face-height units)."""
        # mediapipe's inner lips touch (gap 0) when a mouth is closed, so the closed extreme
        # is known even when the clip starts mid-sentence; pressed lips may go lower
        if self.closed is None:
            self.closed = min(0.0, driver_opening)
        self.closed = min(self.closed, driver_opening)
        target = self.rest + max(0.0, driver_opening - self.closed)
        current = mouth_gap(points[:, :2], self.down, self.height)
        points[:, :2] += np.outer(self.weights, self.down) * ((target - current) * self.height)
        return target - self.rest


class MouthInterior:
    """Paints a mouth interior into the opened lips: dark, shaded deeper in the middle,
    soft-edged, its colour a darkened version of the avatar's own lips (grey on a grey
    picture, never a colour the picture does not have)."""

    def __init__(self, avatar_image: np.ndarray, avatar: np.ndarray, grayscale: bool):
        """avatar_image: HxWx3 uint8 RGB; avatar: (478, 3) its rest landmarks."""
        lips = np.zeros(avatar_image.shape[:2], np.uint8)
        outer = np.array(OUTER_LIP_UPPER + tuple(reversed(OUTER_LIP_LOWER[1:-1])))
        inner = np.array(INNER_LIP_UPPER + tuple(reversed(INNER_LIP_LOWER[1:-1])))
        cv2.fillPoly(lips, [np.round(avatar[outer, :2]).astype(np.int32)], 1)
        cv2.fillPoly(lips, [np.round(avatar[inner, :2]).astype(np.int32)], 0)
        lip_colour = (
            avatar_image[lips > 0].mean(axis=0) if lips.any() else np.array([150.0, 90.0, 90.0])
        )
        if grayscale:
            lip_colour = np.full(3, lip_colour.mean())
        self.colour = (lip_colour * 0.35).astype(np.float32)  # the mouth's inside, in shadow
        self.face_height = float(np.linalg.norm(avatar[10, :2] - avatar[152, :2]))
        self.eye_span = max(float(np.linalg.norm(avatar[263, :2] - avatar[33, :2])), 1e-6)

    def paint(self, frame: np.ndarray, points: np.ndarray, opened: float) -> None:
        """Fill the newly opened part of the inner-lip hole of `points` ((478, 2+) output
        pixels) in `frame` (in place); `opened`: the opening beyond the avatar's rest in
        face-height units. What the rest mouth showed (teeth of a smile) stays with the upper
        lip; only the gap below it is painted."""
        if opened <= 0.002:
            return
        xy = points[:, :2].astype(np.float64)
        right, down, _ = face_axes(xy)
        height = self.face_height * np.linalg.norm(xy[263] - xy[33]) / self.eye_span
        hole = xy[list(MOUTH_HOLE)]
        kept_lower = xy[list(INNER_LIP_LOWER[1:-1])] - down * (opened * height)
        kept = np.concatenate([xy[list(INNER_LIP_UPPER)], kept_lower[::-1]])
        pad = int(0.05 * self.face_height) + 2
        x0, y0 = np.floor(hole.min(axis=0)).astype(int) - pad
        x1, y1 = np.ceil(hole.max(axis=0)).astype(int) + pad
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, frame.shape[1]), min(y1, frame.shape[0])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        for polygon, value in ((hole, 1.0), (kept, 0.0)):
            cv2.fillPoly(
                mask,
                [np.round((polygon - (x0, y0)) * 4).astype(np.int32)],
                value,
                lineType=cv2.LINE_AA,
                shift=2,
            )
        soft = max(0.7, 0.008 * self.face_height)
        edge = cv2.GaussianBlur(mask, (0, 0), soft)
        # deeper (darker) away from the lips: a wider blur of the same region
        depth = cv2.GaussianBlur(mask, (0, 0), 3 * soft)
        shade = self.colour * (1.0 - 0.55 * depth)[..., None]
        strength = float(np.clip(opened / 0.008, 0.0, 1.0))
        alpha = (np.clip(edge * 1.6 - 0.3, 0, 1) * strength)[..., None]
        region = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = (region * (1 - alpha) + shade * alpha + 0.5).astype(np.uint8)
