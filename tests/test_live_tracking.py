"""Driver tracking and calibration on a real webcam-like clip: the face is found in the big
frame, the crop box is steadier than the raw face box and follows it, and the calibrator
takes the best-matching frame until the user calibrates by hand."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from live_avatar.calibration import Calibrator, alignment
from live_avatar.config import CalibrationSettings
from live_avatar.face.crop import face_box_from_landmarks, landmarks_in_crop
from live_avatar.tracking import FaceTracker


@pytest.fixture(scope="module")
def tracked():
    """(frames, tracks) for 45 frames of the 1280x720 clip."""
    from conftest import shared_path

    capture = cv2.VideoCapture(str(shared_path("data", "driving",
                                               "lp_s18_uncropped_1280x720.mp4")))
    frames, tracks = [], []
    with FaceTracker() as tracker:
        for index in range(45):
            ok, bgr = capture.read()
            assert ok
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            tracks.append(tracker.update(frames[-1], index / 30))
    capture.release()
    return frames, tracks


def test_face_found_in_the_big_frame(tracked):
    frames, tracks = tracked
    assert all(track.found for track in tracks)
    for track in tracks:
        assert track.landmarks.shape == (478, 3)
        x, y = track.landmarks[:, 0], track.landmarks[:, 1]
        box = track.box
        # the crop box holds the whole face
        assert box.x < x.min() and x.max() < box.x + box.w
        assert box.y < y.min() and y.max() < box.y + box.h


def test_crop_box_is_steadier_than_the_raw_box_and_follows_it(tracked):
    _, tracks = tracked
    raw = np.array([face_box_from_landmarks(t.landmarks).center for t in tracks])
    smooth = np.array([t.box.center for t in tracks])
    raw_jitter = np.abs(np.diff(raw, n=2, axis=0)).mean()
    smooth_jitter = np.abs(np.diff(smooth, n=2, axis=0)).mean()
    assert smooth_jitter < raw_jitter
    side = tracks[-1].box.w
    assert np.abs(smooth - raw).max() < 0.1 * side  # never far behind the face


def test_landmarks_in_crop(tracked):
    frames, tracks = tracked
    track = tracks[10]
    points = landmarks_in_crop(track.landmarks, track.box, 256)
    assert points.dtype == np.float32
    assert points[:, :2].min() > 0 and points[:, :2].max() < 256


def test_no_face_gives_no_landmarks_and_keeps_the_box(tracked):
    frames, _ = tracked
    with FaceTracker() as tracker:
        first = tracker.update(frames[0], 0.0)
        empty = tracker.update(np.full_like(frames[0], 90), 1 / 30)
    assert first.found and not empty.found
    assert empty.box == first.box  # the preview keeps showing where the face was


def test_calibrator_auto_then_manual(tracked, portraits_dir):
    from live_avatar.avatars import load_avatar
    from live_avatar.face.landmarks import find_portrait_landmarks

    _, tracks = tracked
    avatar = find_portrait_landmarks(load_avatar(portraits_dir / "afy_mona_lisa_face.jpg"))
    calibrator = Calibrator(CalibrationSettings(min_gain=0.0, min_interval=0.0))
    calibrator.set_avatar_landmarks(avatar)
    assert calibrator.observe(None, 0.0).calibrate is False
    decisions = [calibrator.observe(t.landmarks, i / 30) for i, t in enumerate(tracks)]
    assert decisions[0].calibrate  # the first face at once
    distances = [calibrator.distance(t.landmarks) for t in tracks]
    # every automatic recalibration was a new best match
    best = np.inf
    for decision, distance in zip(decisions, distances, strict=True):
        if decision.calibrate:
            assert distance < best
            best = distance
        assert 0.0 <= decision.alignment <= 1.0
    assert best == pytest.approx(min(distances))
    calibrator.manual()
    assert calibrator.state == "manual"
    assert not any(calibrator.observe(t.landmarks, 9.0).calibrate for t in tracks)


def test_alignment_meter_scale():
    assert alignment(0.0) == 1.0 and alignment(1.0) == 0.0
    assert alignment(0.10) > alignment(0.15) > alignment(0.20)
