"""The animator contract: one avatar, a calibration (neutral) driving frame, then frames."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass
class MotionOptions:
    """How driving motion is transferred to the avatar (same meaning for every animator)."""

    relative: bool = True  # motion relative to the calibration frame (False: absolute pose)
    adapt_scale: bool = True  # scale the movement by the ratio of face sizes


class Animator(ABC):
    """Animates one avatar from a driving face.

    Use: `set_avatar(image)` once (the avatar is encoded and cached), `calibrate(frame)` with
    the driver's neutral pose, then `animate(frame)` per driving frame. Driving frames are
    square face crops, HxWx3 uint8 RGB; animators that need a fixed size say so in
    `driving_size` and the caller resizes.
    """

    #: registry name (`--backend NAME`)
    name: str = ""
    #: side of the square driving crop this animator wants; None = any size
    driving_size: int | None = None
    #: True when the avatar must be given as a square face crop (FOMM); False = whole portrait
    crops_avatar: bool = True

    def __init__(self, motion: MotionOptions | None = None):
        self.motion = motion or MotionOptions()

    @abstractmethod
    def set_avatar(self, image: np.ndarray, landmarks: np.ndarray | None = None) -> None:
        """Encode the avatar once. image: HxWx3 uint8 RGB; `landmarks`: its (478, 3)
        face-mesh points when the caller already found them (animators that use them then
        skip finding them again)."""

    @abstractmethod
    def calibrate(self, driving: np.ndarray, landmarks: np.ndarray | None = None) -> None:
        """Take `driving` (HxWx3 uint8 RGB) as the neutral pose for relative motion."""

    @abstractmethod
    def animate(
        self,
        driving: np.ndarray,
        landmarks: np.ndarray | None = None,
        timestamp: float | None = None,
    ) -> np.ndarray:
        """Return the avatar moved as the driver in `driving`; HxWx3 uint8 RGB.

        `landmarks`, when the caller already tracked the face: (478, 3) float32 mediapipe
        face-mesh points in `driving`'s pixel coordinates (x, y, z); animators that need them
        and get None detect them themselves. `timestamp`: when the frame was captured, in
        seconds on any steady clock; animators that smooth motion over time use it (without
        it they take the frames as evenly spaced at their assumed frame rate).
        """

    @abstractmethod
    def neutral(self) -> np.ndarray:
        """The avatar at rest, as `animate` would render it with no motion; HxWx3 uint8 RGB."""

    @property
    @abstractmethod
    def calibrated(self) -> bool:
        """True once a calibration frame has been taken."""

    def close(self) -> None:  # noqa: B027 - optional: most animators hold nothing to free
        """Release resources; idempotent."""
