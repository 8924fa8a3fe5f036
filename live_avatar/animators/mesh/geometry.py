"""Relative motion of a driving face split into rigid head pose and expression, moved onto the
avatar's landmarks in the avatar's own face frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from live_avatar.animators.mesh.topology import STABLE, expression_weights

# A 2-D warp cannot hide the far side of a turning head: it folds the picture instead. So
# the head turns by at most MAX_TURN_DEGREES; beyond EASE_FROM_DEGREES the turn eases towards
# that limit instead of stopping dead at it.
DEPTH_SCALE = 1.0
MAX_TURN_DEGREES = 30.0
EASE_FROM_DEGREES = 22.0


@dataclass
class Similarity:
    """dst ~= scale * rotation @ (src - src_centre) + dst_centre, on 3-D points."""

    scale: float
    rotation: np.ndarray  # (3, 3) proper rotation
    src_centre: np.ndarray  # (3,)
    dst_centre: np.ndarray  # (3,)


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> Similarity:
    """Least-squares similarity (Umeyama 1991) taking src (N, 3) onto dst (N, 3)."""
    src = src.astype(np.float64)
    dst = dst.astype(np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(b.T @ a / len(src))
    sign = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection: flip the weakest axis
        sign[2] = -1
    rotation = u @ np.diag(sign) @ vt
    variance = (a**2).sum() / len(src)
    scale = float((sigma * sign).sum() / max(variance, 1e-12))
    return Similarity(scale, rotation, mu_s, mu_d)


@dataclass
class Pose:
    """The driver's head motion relative to its calibration frame, and its expression."""

    scale: float  # face-size change (1 = as at calibration)
    rotation: np.ndarray  # (3, 3) head rotation in the driver's camera frame
    shift: np.ndarray  # (3,) translation of the stable points' centre, driver pixels
    neutral: np.ndarray  # (478, 3) the driver's face with the head motion undone


class MotionTransfer:
    """Moves the avatar's rest landmarks as the driver moves relative to its calibration.

    The mapping between the two faces (`to_avatar`: driver calibration -> avatar, a 3-D
    similarity fitted on stable points) carries the driver's expression offsets into the
    avatar's frame (scaled by the face-size ratio). The head's rotation and shift are turned
    by the mapping's tilt and turn, so a nod of the driver is a nod of an avatar tilted or
    turned aside, but not by its bow (up or down), which comes from the face mesh's depth
    estimate of a single picture: mixed in, a driver's roll became part of a bowed avatar's
    turn (yaw r on tpsmm of a bowed, tilted photograph 0.85, now 0.93; Mona Lisa 0.977 ->
    0.991).
    """

    def __init__(self, avatar: np.ndarray, adapt_scale: bool = True, avatar_face_side: float = 0.0):
        """avatar: (478, 3) rest landmarks in avatar pixels; avatar_face_side: the side of the
        avatar's face box, used as the scale when adapt_scale is False."""
        self.avatar = avatar.astype(np.float64)
        self.adapt_scale = adapt_scale
        self.avatar_face_side = avatar_face_side
        self.stable = list(STABLE)
        self.avatar_centre = self.avatar[self.stable].mean(axis=0)
        self.expressive = expression_weights(self.avatar)[:, None]
        self.calibration: np.ndarray | None = None

    def calibrate(self, driver: np.ndarray, frame_side: float) -> None:
        """Take driver landmarks (478, 3) as the neutral pose; frame_side: driving crop side."""
        self.calibration = driver.astype(np.float64)
        mapping = fit_similarity(self.calibration[self.stable], self.avatar[self.stable])
        if not self.adapt_scale and frame_side > 0 and self.avatar_face_side > 0:
            # as if the driver's whole crop were the avatar's face box (FOMM without adapt)
            mapping.scale = self.avatar_face_side / frame_side
        self.to_avatar = mapping
        self.turn = _without_bow(mapping.rotation)
        self.calibration_centre = self.calibration[self.stable].mean(axis=0)

    def rebase(self, neutral: np.ndarray, weights: np.ndarray) -> None:
        """Move the calibration towards `neutral` ((478, 3) pose-free driver landmarks, from
        `pose`) by `weights` ((478,) in [0, 1]; 0 on the stable points, so that the head pose
        reference stays)."""
        self.calibration = self.calibration + weights[:, None] * (neutral - self.calibration)

    def pose(self, driver: np.ndarray) -> Pose:
        """Split driver landmarks (478, 3) into head motion and the pose-free face."""
        fit = fit_similarity(self.calibration[self.stable], driver[self.stable])
        shift = fit.dst_centre - fit.src_centre
        unrotated = (driver - fit.dst_centre) @ fit.rotation / fit.scale + fit.src_centre
        return Pose(fit.scale, fit.rotation, shift, unrotated)

    def expression(self, pose: Pose) -> np.ndarray:
        """The driver's expression offsets moved into the avatar frame: (478, 3) pixels."""
        offsets = pose.neutral - self.calibration
        m = self.to_avatar
        return m.scale * (offsets * self.expressive) @ m.rotation.T

    def rigid(self, pose: Pose, points: np.ndarray, follow: np.ndarray | float = 1.0) -> np.ndarray:
        """Apply the driver's head motion to avatar-frame points (N, 3), each by `follow`."""
        m = self.to_avatar
        rotation = self.turn @ _capped(pose.rotation) @ self.turn.T  # in the avatar's axes
        shift = m.scale * (self.turn @ pose.shift)
        centre = self.avatar_centre
        relative = (points - centre) * (1.0, 1.0, DEPTH_SCALE)
        moved = relative @ rotation.T * pose.scale + centre + shift
        follow = np.asarray(follow, dtype=np.float64).reshape(-1, 1) if np.ndim(follow) else follow
        return points + (moved - points) * follow


def _without_bow(rotation: np.ndarray) -> np.ndarray:
    """`rotation` (3, 3) = tilt (about the image's z) @ turn (y) @ bow (x), without its bow."""
    tilt = np.arctan2(rotation[1, 0], rotation[0, 0])
    turn = np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0))
    (ct, st), (cy, sy) = (np.cos(tilt), np.sin(tilt)), (np.cos(turn), np.sin(turn))
    tilted = np.array([[ct, -st, 0.0], [st, ct, 0.0], [0.0, 0.0, 1.0]])
    return tilted @ np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])


def _capped(rotation: np.ndarray) -> np.ndarray:
    """`rotation` (3, 3) about the same axis, its angle kept below MAX_TURN_DEGREES: as it is
    up to EASE_FROM_DEGREES, then easing smoothly towards the limit."""
    import cv2

    vector, _ = cv2.Rodrigues(rotation)
    angle = float(np.linalg.norm(vector))
    ease_from, limit = np.radians(EASE_FROM_DEGREES), np.radians(MAX_TURN_DEGREES)
    if angle <= ease_from:
        return rotation
    eased = ease_from + (limit - ease_from) * np.tanh((angle - ease_from) / (limit - ease_from))
    capped, _ = cv2.Rodrigues(vector * (eased / angle))
    return capped
