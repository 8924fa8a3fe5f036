"""When to take the driver's neutral pose: manually (`c`) or automatically on the frame whose
face best matches the avatar's pose, with an alignment meter for the preview."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from live_avatar.config import CalibrationSettings
from live_avatar.face.align import normalize_landmarks

# pose distances between a driver and a portrait (measured on the shared driving videos and
# portraits) run from ~0.06 (same pose; the faces' own shapes differ) to ~0.22 (turned away)
ALIGNED_DISTANCE = 0.06
UNALIGNED_DISTANCE = 0.22


def alignment(distance: float) -> float:
    """Pose distance (0 = same pose) -> alignment in [0, 1] for the meter (1 = aligned)."""
    value = (UNALIGNED_DISTANCE - distance) / (UNALIGNED_DISTANCE - ALIGNED_DISTANCE)
    return float(min(max(value, 0.0), 1.0))


@dataclass
class Decision:
    """What the calibrator says about one frame."""

    calibrate: bool  # take this frame as the neutral pose now
    alignment: float | None  # how close the driver is to the avatar's pose, 0..1; None = no face


class Calibrator:
    """Decides when to (re)calibrate; the app does the calibrating.

    Automatic mode (until the first manual calibration): the first face calibrates at once so
    the avatar moves straight away, then any frame that matches the avatar's pose clearly
    better than the current calibration frame replaces it (at most every `min_interval` s).
    """

    def __init__(self, settings: CalibrationSettings | None = None):
        self.settings = settings or CalibrationSettings()
        self.auto = self.settings.auto
        self._target: np.ndarray | None = None
        self._best = math.inf  # distance of the current calibration frame to the avatar
        self._last_time = -math.inf
        self.calibrated = False

    def set_avatar_landmarks(self, landmarks: np.ndarray | None) -> None:
        """The avatar's face-mesh landmarks ((478, 2+) pixels); None when unknown."""
        self._target = None if landmarks is None else normalize_landmarks(landmarks)
        self._best = math.inf  # a new avatar pose: any frame may be the best match again

    def distance(self, landmarks: np.ndarray) -> float | None:
        """Pose distance of the driver's landmarks to the avatar; None without avatar landmarks."""
        if self._target is None:
            return None
        shape = normalize_landmarks(landmarks)
        return float(np.linalg.norm(shape - self._target, axis=1).mean())

    def observe(self, landmarks: np.ndarray | None, timestamp: float) -> Decision:
        """Look at the driver's landmarks (or None: no face) captured at `timestamp` seconds."""
        if landmarks is None:
            return Decision(False, None)
        distance = self.distance(landmarks)
        meter = None if distance is None else alignment(distance)
        if not self.calibrated:
            # relative motion needs a neutral pose: the first face gives one in any mode
            return self._take(distance, timestamp, meter)
        if not self.auto:
            return Decision(False, meter)
        if distance is None or timestamp - self._last_time < self.settings.min_interval:
            return Decision(False, meter)
        if distance < self._best * (1 - self.settings.min_gain):
            return self._take(distance, timestamp, meter)
        return Decision(False, meter)

    def _take(self, distance: float | None, timestamp: float, meter: float | None) -> Decision:
        self._best = math.inf if distance is None else distance
        self._last_time = timestamp
        self.calibrated = True
        return Decision(True, meter)

    def manual(self) -> None:
        """The user calibrated by hand (`c`): automatic mode stops for good."""
        self.auto = False
        self.calibrated = True

    def invalidate(self) -> None:
        """The calibration no longer fits (the image was mirrored): the next face recalibrates."""
        self.calibrated = False
        self._best = math.inf

    @property
    def state(self) -> str:
        """'auto', 'manual' or 'none', for the HUD."""
        if not self.calibrated:
            return "waiting for a face"
        return "auto" if self.auto else "manual"
