"""Sinks: the virtual camera through pyvirtualcam itself (a capturing backend registered with
pyvirtualcam.register_backend), its one error listing every failure, files, none, windows."""

from __future__ import annotations

import numpy as np
import pytest

from live_avatar.errors import UserError, VirtualCameraError
from live_avatar.sinks import open_sink, sink_kind
from live_avatar.sinks.vcam import open_virtual_camera, platform_fix

pyvirtualcam = pytest.importorskip("pyvirtualcam")


class CapturingBackend:
    """A pyvirtualcam backend that keeps what it is sent (pyvirtualcam's Backend contract)."""

    frames: list[np.ndarray] = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.width, self.height, self.fourcc = width, height, fourcc
        self._device = device or "capture0"
        CapturingBackend.frames = []

    def send(self, frame: np.ndarray) -> None:
        CapturingBackend.frames.append(frame.reshape(self.height, self.width, 3).copy())

    def close(self) -> None:
        pass

    def device(self) -> str:
        return self._device

    def native_fourcc(self):
        return None


class BusyBackend(CapturingBackend):
    def __init__(self, **kw):
        raise RuntimeError("device is busy")


@pytest.fixture
def capture_backend():
    from pyvirtualcam.camera import BACKENDS

    saved = dict(BACKENDS)
    pyvirtualcam.register_backend("capture", CapturingBackend)
    pyvirtualcam.register_backend("busy", BusyBackend)
    yield CapturingBackend
    BACKENDS.clear()
    BACKENDS.update(saved)


def test_vcam_sink_sends_frames_through_pyvirtualcam(capture_backend):
    frames = [np.full((90, 160, 3), value, dtype=np.uint8) for value in (10, 120, 250)]
    with open_sink("vcam", (160, 90), 30, vcam_backend="capture", vcam_device="cam7") as sink:
        assert "cam7" in sink.describe()
        for frame in frames:
            sink.write(frame)
    received = capture_backend.frames
    assert len(received) == 3
    assert [int(f.mean()) for f in received] == [10, 120, 250]


def test_vcam_checks_the_frame_shape(capture_backend):
    with open_sink("vcam", (160, 90), 30, vcam_backend="capture") as sink:
        with pytest.raises(ValueError, match=r"expected \(90, 160, 3\)"):
            sink.write(np.zeros((90, 90, 3), dtype=np.uint8))


def test_vcam_front_door_names_every_failure(capture_backend):
    from pyvirtualcam.camera import BACKENDS

    del BACKENDS["capture"]  # leave only backends that fail here
    with pytest.raises(VirtualCameraError) as caught:
        open_virtual_camera(160, 90, 30)
    message = str(caught.value)
    assert "\n" not in message
    assert "device is busy" in message
    for name in BACKENDS:
        assert name in message
    assert platform_fix() in message


def test_platform_fixes():
    assert "modprobe v4l2loopback" in platform_fix("linux")
    assert "OBS" in platform_fix("win32") and "OBS" in platform_fix("darwin")


def test_unknown_vcam_backend():
    with pytest.raises(VirtualCameraError, match="unknown virtual-camera backend"):
        open_virtual_camera(160, 90, 30, backend="nope")


def test_sink_kinds():
    assert sink_kind("vcam") == "vcam" and sink_kind("none") == "none"
    assert sink_kind("out/clip.MP4") == "file"
    with pytest.raises(UserError, match="unknown output"):
        sink_kind("projector")


def test_file_sink_writes_a_complete_mp4(tmp_path):
    import av

    path = tmp_path / "out.mp4"
    sink = open_sink(str(path), (160, 90), 30)
    for value in range(0, 250, 25):
        sink.write(np.full((90, 160, 3), value, dtype=np.uint8))
    assert not path.exists()  # written under a temporary name until complete
    sink.close()
    sink.close()  # idempotent
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 10 and frames[0].shape == (90, 160, 3)
    assert abs(int(frames[-1].mean()) - 225) < 6
    assert list(tmp_path.iterdir()) == [path]


def test_file_sink_folder_missing(tmp_path):
    with pytest.raises(UserError, match="not found"):
        open_sink(str(tmp_path / "no" / "out.mp4"), (160, 90), 30)


def test_null_sink_counts_and_checks():
    with open_sink("none", (160, 90), 30) as sink:
        sink.write(np.zeros((90, 160, 3), dtype=np.uint8))
        assert sink.frames == 1
        with pytest.raises(ValueError, match="expected"):
            sink.write(np.zeros((90, 160), dtype=np.uint8))


def test_window_without_display_is_a_user_error(monkeypatch):
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("the no-display case is a Linux one")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(UserError, match="--no-preview"):
        open_sink("window", (160, 90), 30)


def test_live_loop_feeds_the_virtual_camera(capture_backend, driving_dir, portraits_dir, tmp_path):
    from live_avatar.cli import main

    status = main(["--camera", str(driving_dir / "lp_s18_uncropped_1280x720.mp4"),
                   "--avatar", str(portraits_dir / "afy_mona_lisa_face.jpg"),
                   "--avatars-dir", str(tmp_path), "--output", "vcam", "--vcam-backend",
                   "capture", "--output-size", "320x180", "--no-preview", "--max-frames", "12"])
    assert status == 0
    received = capture_backend.frames
    assert len(received) == 12
    assert all(frame.shape == (180, 320, 3) for frame in received)
    # a portrait in the middle of a 16:9 frame, over a darker backdrop
    assert received[-1][:, 110:210].mean() > received[-1][:, :40].mean() + 10
