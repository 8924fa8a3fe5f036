"""Driving-frame sources (webcam index, device path, video file, URL) read by a thread that
keeps only the newest frame, so the live loop never works on stale frames."""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_avatar.config import CaptureSettings
from live_avatar.errors import CameraError, InputFileError

# how long a camera may take to deliver its first frame before it counts as busy
FIRST_FRAME_TIMEOUT = 5.0
# pause between attempts to reopen a camera that stopped delivering frames
RETRY_INTERVAL = 1.0


@dataclass
class Frame:
    """One captured frame."""

    image: np.ndarray  # HxWx3 uint8 RGB
    timestamp: float  # time.perf_counter() when it was captured (for end-to-end latency)
    index: int  # running count of frames captured since the source opened


def _cv2():
    # OpenCV prints a warning per failed camera probe; only errors are worth showing
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    import cv2

    # the variable only counts before cv2's first import, which another module may have done
    cv2.setLogLevel(2)  # 2 = errors only (0 silent, 3 warnings)
    return cv2


def _camera_target(spec: str):
    """'0' -> 0; '/dev/video2' -> the path; a URL or file stays a string."""
    return int(spec) if spec.isdigit() else spec


STREAM_SCHEMES = ("rtsp://", "rtmp://", "udp://", "tcp://", "srt://")


def is_camera(spec: str) -> bool:
    """True for a camera index or a device path (opened with the camera driver)."""
    return spec.isdigit() or spec.startswith("/dev/")


def is_live(settings: CaptureSettings) -> bool:
    """True when a failed read means 'unplugged, retry' rather than 'ended': cameras and
    network camera streams, unless `settings.live` says otherwise."""
    if settings.live is not None:
        return settings.live
    spec = str(settings.source)
    return is_camera(spec) or spec.lower().startswith(STREAM_SCHEMES)


def _open_capture(spec: str, settings: CaptureSettings):
    """An opened cv2.VideoCapture for `spec`, or None when it does not open."""
    cv2 = _cv2()
    target = _camera_target(spec)
    if is_camera(spec) and sys.platform.startswith("linux"):
        capture = cv2.VideoCapture(target, cv2.CAP_V4L2)
    else:
        capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        return None
    if is_camera(spec):
        if settings.size:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, settings.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, settings.size[1])
        if settings.fps:
            capture.set(cv2.CAP_PROP_FPS, settings.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver's own queue would add latency
    else:  # a phone clip stores portrait video turned, with a rotation to show it upright
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def _read_rgb(capture) -> np.ndarray | None:
    cv2 = _cv2()
    ok, bgr = capture.read()
    if not ok or bgr is None:
        return None
    if bgr.ndim == 2:
        return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _candidate_cameras(max_index: int) -> list[str]:
    if sys.platform.startswith("linux"):
        devices = sorted(Path("/dev").glob("video*"), key=lambda p: (len(p.name), p.name))
        return [str(p) for p in devices]
    return [str(i) for i in range(max_index)]


def list_cameras(max_index: int = 10) -> list[str]:
    """Cameras that open and deliver a frame: device paths on Linux, indices elsewhere."""
    working = []
    for spec in _candidate_cameras(max_index):
        capture = _open_capture(spec, CaptureSettings(source=spec))
        if capture is None:
            continue
        try:
            if _read_rgb(capture) is not None:
                working.append(spec)
        finally:
            capture.release()
    return working


def _camera_error(spec: str, why: str) -> CameraError:
    working = list_cameras()
    listing = ", ".join(working) if working else "none found"
    return CameraError(
        f"camera {spec} {why}; cameras that work: {listing} "
        "(close other programs using the camera, or pick one with --camera)"
    )


class FrameSource:
    """A camera, file or URL read by a background thread; only the newest frame is kept.

    Use as a context manager; `next_frame()` returns the newest frame not returned before.
    A video file plays at its own frame rate (like a camera) and restarts with `loop`. A
    camera that stops delivering frames is retried every second until it comes back.
    """

    def __init__(self, settings: CaptureSettings):
        self.settings = settings
        self.spec = str(settings.source)
        self.live = is_live(settings)
        # a file is played at its own rate; cameras and streams deliver at theirs
        self._paced = not is_camera(self.spec) and "://" not in self.spec
        self._check_spec()
        self._capture = _open_capture(self.spec, settings)
        if self._capture is None:
            if is_camera(self.spec):
                raise _camera_error(self.spec, "cannot be opened (missing or busy)")
            raise InputFileError(f"cannot open video '{self.spec}': not a video OpenCV can read")
        self.fps = float(self._capture.get(_cv2().CAP_PROP_FPS) or 0) or 30.0
        self._condition = threading.Condition()
        self._newest: Frame | None = None
        self._returned = -1
        self._count = 0
        self.finished = False  # a file ended (no loop)
        self.lost = False  # a camera stopped delivering; being retried
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._thread.start()
        if self.next_frame(timeout=FIRST_FRAME_TIMEOUT, peek=True) is None:
            self.close()
            if is_camera(self.spec):
                raise _camera_error(self.spec, "opened but sent no frame (busy?)")
            raise InputFileError(f"video '{self.spec}' has no frames")

    def _check_spec(self) -> None:
        if is_camera(self.spec) or "://" in self.spec:
            return
        if not Path(self.spec).is_file():
            raise InputFileError(
                f"camera '{self.spec}' is not a camera index, device path, URL or video file"
            )

    def _publish(self, image: np.ndarray) -> None:
        with self._condition:
            self._newest = Frame(image, time.perf_counter(), self._count)
            self._count += 1
            self._condition.notify_all()

    def _run(self) -> None:
        start, played = time.perf_counter(), 0
        while not self._stop.is_set():
            image = _read_rgb(self._capture) if self._capture is not None else None
            if image is None:
                if not self._recover():
                    break
                start, played = time.perf_counter(), 0
                continue
            self._publish(image)
            if self._paced:
                # a file is played at its own rate, as a camera would deliver it
                played += 1
                delay = start + played / self.fps - time.perf_counter()
                if delay > 0:
                    self._stop.wait(delay)

    def _recover(self) -> bool:
        """After a failed read: restart a looping file, retry a camera; False = stop reading."""
        if not self.live and not self.settings.loop:
            with self._condition:
                self.finished = True
                self._condition.notify_all()
            return False
        if self.live:
            self.lost = True
            self._stop.wait(RETRY_INTERVAL)
        self._release()
        if not self._stop.is_set():
            self._capture = _open_capture(self.spec, self.settings)
        if self._capture is not None and self.live:
            self.lost = False
        return True

    def next_frame(self, timeout: float = 1.0, peek: bool = False) -> Frame | None:
        """The newest frame not returned before, waiting up to `timeout` seconds for one.

        Returns None when none came in time (camera lost, or a finished file: see
        `finished`). With `peek` the frame is not marked as returned.
        """
        deadline = time.perf_counter() + timeout
        with self._condition:
            while self._newest is None or self._newest.index <= self._returned:
                remaining = deadline - time.perf_counter()
                if self.finished or remaining <= 0:
                    return None
                self._condition.wait(remaining)
            if not peek:
                self._returned = self._newest.index
            return self._newest

    def _release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def close(self) -> None:
        """Stop the reader and release the device; idempotent."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        self._release()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
