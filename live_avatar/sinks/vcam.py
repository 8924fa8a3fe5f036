"""Virtual camera output through pyvirtualcam; the front door tries every backend and raises
ONE error listing each failure and how to fix it on this platform."""

from __future__ import annotations

import sys

import numpy as np

from live_avatar.errors import VirtualCameraError
from live_avatar.sinks.base import Sink, check_frame


def platform_fix(platform: str | None = None) -> str:
    """How to get a virtual camera on `platform` (sys.platform by default), in one sentence."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return (
            "install v4l2loopback and load it: sudo apt install v4l2loopback-dkms && "
            "sudo modprobe v4l2loopback exclusive_caps=1 card_label=live-avatar"
        )
    return (
        "install OBS Studio (28 or newer), click 'Start Virtual Camera' once, then close OBS "
        "(or on Windows install Unity Capture and use --vcam-backend unitycapture)"
    )


def open_virtual_camera(
    width: int, height: int, fps: float, device: str | None = None, backend: str | None = None
):
    """Open a pyvirtualcam.Camera taking RGB frames, trying each registered backend (or only
    `backend`); raises VirtualCameraError naming every failure."""
    try:
        import pyvirtualcam
    except ImportError as error:
        raise VirtualCameraError(
            f"pyvirtualcam is not installed ({error}): pip install pyvirtualcam"
        ) from error
    from pyvirtualcam.camera import BACKENDS

    names = [backend] if backend else list(BACKENDS)
    if backend and backend not in BACKENDS:
        raise VirtualCameraError(
            f"unknown virtual-camera backend '{backend}': this platform has "
            f"{', '.join(BACKENDS) or 'none'}"
        )
    failures = []
    for name in names:
        try:
            return pyvirtualcam.Camera(
                width, height, fps, fmt=pyvirtualcam.PixelFormat.RGB, device=device, backend=name
            )
        except Exception as error:  # noqa: BLE001 - each backend fails its own way; all are reported
            # pyvirtualcam's message already starts with "'name' backend: "
            failures.append(" ".join(str(error).split()))
    tried = "; ".join(failures) or "no backend for this platform"
    raise VirtualCameraError(f"no virtual camera could be opened ({tried}); {platform_fix()}")


class VirtualCameraSink(Sink):
    """Sends frames to a virtual camera that video-call programs can select."""

    name = "vcam"

    def __init__(
        self,
        size: tuple[int, int],
        fps: float,
        vcam_device: str | None = None,
        vcam_backend: str | None = None,
        **_ignored,
    ):
        super().__init__(size, fps)
        self._camera = open_virtual_camera(size[0], size[1], fps, vcam_device, vcam_backend)

    def describe(self) -> str:
        return f"virtual camera {self._camera.device} ({self._camera.backend})"

    def write(self, frame: np.ndarray) -> None:
        check_frame(frame, self.size)
        if self._camera is not None:
            self._camera.send(frame)

    def close(self) -> None:
        if self._camera is not None:
            self._camera.close()
            self._camera = None
