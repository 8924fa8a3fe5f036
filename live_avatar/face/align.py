"""Pose comparison of face-mesh landmarks: normalised shapes, distances, best-matching frame."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# mediapipe face-mesh outer eye corners: the line between them defines the in-plane rotation
RIGHT_EYE_OUTER = 33
LEFT_EYE_OUTER = 263


def normalize_landmarks(points: np.ndarray) -> np.ndarray:
    """Face-mesh points (N, 2+) in pixels -> (N, 2) float64 shape with translation, scale
    and in-plane rotation removed (centroid at 0, RMS radius 1, eye line horizontal).

    What is left is expression and out-of-plane head pose, which is what a calibration frame
    has to match.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] < 2 or points.shape[0] <= LEFT_EYE_OUTER:
        raise ValueError(f"unexpected landmarks {points.shape}, expected (478, 2 or 3)")
    xy = points[:, :2] - points[:, :2].mean(axis=0)
    eye = xy[LEFT_EYE_OUTER] - xy[RIGHT_EYE_OUTER]
    angle = np.arctan2(eye[1], eye[0])
    cos, sin = np.cos(-angle), np.sin(-angle)
    xy = xy @ np.array([[cos, sin], [-sin, cos]])
    radius = np.sqrt((xy**2).sum(axis=1).mean())
    return xy / max(radius, 1e-9)


def pose_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean point distance between two faces' normalised shapes; 0 = same pose and expression.

    a, b: face-mesh landmarks (N, 2+) in any pixel frame (each is normalised here).
    """
    na, nb = normalize_landmarks(a), normalize_landmarks(b)
    if na.shape != nb.shape:
        raise ValueError(f"landmark counts differ: {na.shape} vs {nb.shape}")
    return float(np.linalg.norm(na - nb, axis=1).mean())


def best_frame_index(
    avatar_landmarks: np.ndarray, frames_landmarks: Iterable[np.ndarray | None]
) -> int | None:
    """Index of the frame whose landmarks best match the avatar's (frames with None are
    skipped); None when no frame has a face."""
    target = normalize_landmarks(avatar_landmarks)
    best, best_distance = None, np.inf
    for index, landmarks in enumerate(frames_landmarks):
        if landmarks is None:
            continue
        distance = float(np.linalg.norm(normalize_landmarks(landmarks) - target, axis=1).mean())
        if distance < best_distance:
            best, best_distance = index, distance
    return best
