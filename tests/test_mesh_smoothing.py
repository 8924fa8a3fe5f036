"""The driver's landmarks are smoothed over time: a still face with camera noise gives a still
avatar, and a sudden head movement is followed within a frame or two (no lag)."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from live_avatar.animators import create_animator
from live_avatar.avatars import load_avatar
from live_avatar.face.landmarks import FaceLandmarker
from live_avatar.media import read_frames

pytest.importorskip("live_avatar.animators.mesh.animator")

REPO = Path(__file__).resolve().parent.parent
AVATAR = REPO / "avatars" / "mona_lisa.jpg"
CLIP = Path(__file__).resolve().parent / "data" / "mesh_drive.mp4"


@pytest.fixture(scope="module")
def still_frame() -> np.ndarray:
    return next(iter(read_frames(CLIP)))


def _animate(
    frames: list[np.ndarray], smoothing: bool, period: float | None = None
) -> list[np.ndarray]:
    """The avatar's frames; with `period`, the frames are given timestamps that far apart."""
    animator = create_animator("mesh", smoothing=smoothing)
    animator.set_avatar(load_avatar(AVATAR))
    outputs = []
    with FaceLandmarker() as mesh:  # video mode, as the live app tracks
        for index, frame in enumerate(frames):
            landmarks = mesh(frame)
            if not animator.calibrated:
                animator.calibrate(frame, landmarks)
            seconds = None if period is None else 100.0 + index * period
            outputs.append(animator.animate(frame, landmarks, seconds).astype(np.float32))
    animator.close()
    return outputs


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.uint8), cv2.COLOR_RGB2GRAY)


def _jitter(outputs: list[np.ndarray]) -> float:
    """How far the picture moves between consecutive frames: the 90th percentile of the
    optical flow's length over the moving part, median over frames (pixels)."""
    steps = []
    for before, after in itertools.pairwise(outputs):
        flow = cv2.calcOpticalFlowFarneback(
            _grey(before), _grey(after), None, 0.5, 3, 15, 3, 5, 1.2, 0
        )
        length = np.linalg.norm(flow, axis=2)
        changed = np.abs(after - before).max(axis=2) > 0
        steps.append(np.percentile(length[changed], 90) if changed.any() else 0.0)
    return float(np.median(steps))


def test_a_still_face_with_camera_noise_gives_a_still_avatar(still_frame):
    rng = np.random.default_rng(0)
    noisy = [
        np.clip(still_frame + rng.normal(0, 4, still_frame.shape), 0, 255).astype(np.uint8)
        for _ in range(40)
    ]
    smoothed = _jitter(_animate(noisy, smoothing=True)[5:])
    raw = _jitter(_animate(noisy, smoothing=False)[5:])
    print(f"jitter: {smoothed:.3f} px smoothed, {raw:.3f} px raw")
    assert raw > 0.1  # the noise does shake the face mesh
    assert smoothed < 0.6 * raw
    assert smoothed < 0.45  # pixels per frame: a still picture to the eye


def test_a_sudden_head_movement_is_followed_at_once(still_frame):
    height, width = still_frame.shape[:2]
    step = np.float32([[1, 0, 0.08 * width], [0, 1, 0]])
    moved = cv2.warpAffine(still_frame, step, (width, height), borderMode=cv2.BORDER_REPLICATE)
    outputs = _animate([still_frame] * 8 + [moved] * 12, smoothing=True)
    grey = [_grey(o).astype(np.float32) for o in outputs]
    settled = grey[-1]
    total = np.abs(settled - grey[7]).mean()
    assert total > 1.0  # the avatar did move
    # within two frames of the move the avatar is (nearly) where it settles
    assert np.abs(settled - grey[9]).mean() < 0.2 * total


def test_the_smoothing_runs_on_the_frames_own_clock(still_frame):
    """Timestamps set the filters' clock: at 60 frames/s a still face's noise is smoothed as
    much per second as at 30 (not half as much), and at 15 frames/s (or with frames dropped
    while a step ran late) a head movement is followed in the same time, not the same number
    of frames. Without timestamps frames count as 1/30 s apart."""
    rng = np.random.default_rng(0)
    noisy = [
        np.clip(still_frame + rng.normal(0, 4, still_frame.shape), 0, 255).astype(np.uint8)
        for _ in range(40)
    ]
    at_60 = _jitter(_animate(noisy, True, 1 / 60)[5:])
    counted = _jitter(_animate(noisy, True)[5:])
    print(f"jitter: {at_60:.3f} px timed at 60 frames/s, {counted:.3f} px taken as 30")
    assert at_60 < 0.85 * counted

    height, width = still_frame.shape[:2]
    step = np.float32([[1, 0, 0.08 * width], [0, 1, 0]])
    moved = cv2.warpAffine(still_frame, step, (width, height), borderMode=cv2.BORDER_REPLICATE)
    frames = [still_frame] * 8 + [moved] * 12

    def left_after_one_frame(period):
        grey = [_grey(o).astype(np.float32) for o in _animate(frames, True, period)]
        return np.abs(grey[-1] - grey[8]).mean() / np.abs(grey[-1] - grey[7]).mean()

    at_15, counted = left_after_one_frame(1 / 15), left_after_one_frame(None)
    print(f"share of the move still to go one frame after it: {at_15:.3f} timed at 15 "
          f"frames/s, {counted:.3f} taken as 30")
    assert at_15 < 0.9 * counted
