"""Driver face tracking: detect, then track face-mesh landmarks in a smoothed crop box that
follows the user; re-detect on the whole frame when the face is lost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from live_avatar.config import TrackingSettings
from live_avatar.face.crop import (
    Box,
    crop_square,
    face_box_from_landmarks,
    landmarks_from_crop,
)
from live_avatar.filters import OneEuroFilter

# side of the square crop the face mesh runs on (its own input is 192 px; more adds nothing)
TRACK_SIZE = 256


@dataclass
class Track:
    """The driver's face in one frame."""

    landmarks: np.ndarray | None  # (478, 3) float32 in frame pixels; None = no face
    box: Box | None  # smoothed square crop box in frame pixels; None until a face was seen

    @property
    def found(self) -> bool:
        return self.landmarks is not None


class FaceTracker:
    """Follows one face through a video stream.

    `update(frame, timestamp)` returns a Track: landmarks in frame pixels and a crop box
    smoothed with a One Euro filter (steady when the user is still, following when they move).
    """

    def __init__(self, settings: TrackingSettings | None = None):
        from live_avatar.face.landmarks import FaceLandmarker

        self.settings = settings or TrackingSettings()
        # video mode: mediapipe tracks from the previous frame inside our (moving) crop
        self._landmarker = FaceLandmarker(static_image=False)
        self._filter = OneEuroFilter(self.settings.min_cutoff, self.settings.beta)
        self._roi: Box | None = None  # where the face was last seen (unsmoothed)
        self.box: Box | None = None
        self._last_detection = -np.inf

    def _detect(self, frame: np.ndarray, timestamp: float) -> Box | None:
        from live_avatar.face.landmarks import detect_face_boxes

        if timestamp - self._last_detection < self.settings.redetect_interval:
            return None
        self._last_detection = timestamp
        boxes = detect_face_boxes(frame)
        return boxes[0].square(scale=2.2) if boxes else None

    def _landmarks(self, frame: np.ndarray, roi: Box) -> np.ndarray | None:
        points = self._landmarker(crop_square(frame, roi, TRACK_SIZE))
        return None if points is None else landmarks_from_crop(points, roi, TRACK_SIZE)

    def update(self, frame: np.ndarray, timestamp: float) -> Track:
        """Track the face in `frame` (HxWx3 uint8 RGB) captured at `timestamp` seconds."""
        landmarks = self._landmarks(frame, self._roi) if self._roi is not None else None
        if landmarks is None:
            roi = self._detect(frame, timestamp)
            landmarks = self._landmarks(frame, roi) if roi is not None else None
            if landmarks is not None:
                self._filter.reset()  # a new face: jump to it rather than glide
        if landmarks is None:
            self._roi = None
            return Track(None, self.box)
        raw = face_box_from_landmarks(landmarks, scale=self.settings.crop_scale)
        # the next frame's mesh runs around this face with room for it to move
        self._roi = raw.square(scale=1.15)
        cx, cy = raw.center
        x, y, side = self._filter(np.array([cx, cy, raw.w]), timestamp)
        self.box = Box(x - side / 2, y - side / 2, side, side)
        return Track(landmarks, self.box)

    def reset(self) -> None:
        """Forget the face (after the image changed, e.g. mirrored): the next frame detects."""
        self._roi = None
        self._last_detection = -np.inf
        self._filter.reset()

    def close(self) -> None:
        """Release the face mesh; idempotent."""
        self._landmarker.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
