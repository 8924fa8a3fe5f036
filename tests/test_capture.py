"""Capture: the newest-frame reader on a real video, looping, and the errors a user can cause."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from live_avatar.capture import FrameSource, list_cameras
from live_avatar.config import CaptureSettings
from live_avatar.errors import CameraError, InputFileError


@pytest.fixture
def short_clip(tmp_path):
    """A real 20-frame, 10 fps clip cut from a driving video (small, so it ends quickly)."""
    from conftest import shared_path

    source = cv2.VideoCapture(str(shared_path("data", "driving", "lp_d0.mp4")))
    path = tmp_path / "short.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (128, 128))
    for _ in range(20):
        ok, frame = source.read()
        assert ok
        writer.write(cv2.resize(frame, (128, 128)))
    writer.release()
    source.release()
    return path


def test_file_frames_are_rgb_and_newest_only(driving_dir):
    clip = driving_dir / "lp_s18_uncropped_1280x720.mp4"
    with FrameSource(CaptureSettings(source=str(clip))) as source:
        assert source.fps == pytest.approx(30, abs=0.5)
        indices = []
        for _ in range(6):
            frame = source.next_frame(timeout=2)
            assert frame.image.shape == (720, 1280, 3) and frame.image.dtype == np.uint8
            indices.append(frame.index)
            time.sleep(0.15)  # a slow consumer: the frames in between are dropped, not queued
        assert indices == sorted(set(indices))
        assert indices[-1] - indices[0] > len(indices)  # frames were skipped
        # a frame is never handed out twice
        first = source.next_frame(timeout=2)
        second = source.next_frame(timeout=2)
        assert second.index > first.index


def test_file_ends_without_loop_and_repeats_with_loop(short_clip):
    with FrameSource(CaptureSettings(source=str(short_clip))) as source:
        deadline = time.time() + 10
        while source.next_frame(timeout=0.5) is not None and time.time() < deadline:
            pass
        assert source.finished
    with FrameSource(CaptureSettings(source=str(short_clip), loop=True)) as source:
        seen = 0
        while seen < 30:  # more frames than the clip has: it restarted
            assert source.next_frame(timeout=2) is not None
            seen += 1
        assert not source.finished


def test_color_order_is_rgb(tmp_path):
    # a pure red clip must come out red in RGB order
    path = tmp_path / "red.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 64))
    for _ in range(5):
        writer.write(np.full((64, 64, 3), (0, 0, 255), dtype=np.uint8))  # BGR red
    writer.release()
    with FrameSource(CaptureSettings(source=str(path))) as source:
        red, green, blue = source.next_frame(timeout=2).image.reshape(-1, 3).mean(axis=0)
    assert red > 200 and green < 40 and blue < 40


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(InputFileError, match="not a camera index"):
        FrameSource(CaptureSettings(source=str(tmp_path / "nope.mp4")))


def test_not_a_video_is_a_user_error(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(InputFileError):
        FrameSource(CaptureSettings(source=str(path)))


def test_missing_camera_lists_the_working_ones():
    working = list_cameras()
    assert isinstance(working, list)
    with pytest.raises(CameraError, match="cameras that work"):
        FrameSource(CaptureSettings(source="63"))


def test_phone_clip_plays_upright(tmp_path):
    """A portrait phone clip (landscape frames plus a display rotation) as the camera."""
    from conftest import write_turned_clip

    path, stored = write_turned_clip(tmp_path / "phone.mp4", -90)
    with FrameSource(CaptureSettings(source=str(path))) as source:
        image = source.next_frame(timeout=2).image
    expected = np.rot90(stored, -1)
    assert image.shape == expected.shape
    assert np.abs(image.astype(int) - expected).max() < 40
