"""A desktop window showing frames (OpenCV highgui); also where the keys are read."""

from __future__ import annotations

import os
import sys

import numpy as np

from live_avatar.errors import UserError
from live_avatar.sinks.base import Sink


def has_display() -> bool:
    """False on a Linux machine without X11/Wayland (opening a window would abort there)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def poll_key(delay_ms: int = 1) -> int:
    """The key pressed in any open window during `delay_ms` (cv2.waitKey code), -1 = none.

    Also gives the GUI its time to draw, so it is called once per loop iteration.
    """
    import cv2

    return cv2.waitKey(delay_ms)


class WindowSink(Sink):
    """Shows each frame in a window titled `title`; `closed` turns True when the user
    closes it."""

    name = "window"

    def __init__(self, size: tuple[int, int], fps: float, title: str = "live-avatar", **_ignored):
        super().__init__(size, fps)
        if not has_display():
            raise UserError("no display to open a window on: run with --no-preview and "
                            "--output vcam/FILE.mp4/none, or set DISPLAY")
        import cv2

        self.title = title
        self._open = True
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)

    def describe(self) -> str:
        return f"window '{self.title}'"

    def write(self, frame: np.ndarray) -> None:
        """Show `frame` (HxWx3 uint8 RGB, any size)."""
        import cv2

        if self._open:
            cv2.imshow(self.title, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))

    @property
    def closed(self) -> bool:
        """True once the user closed the window with its close button."""
        import cv2

        if not self._open:
            return True
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        import cv2

        if self._open:
            self._open = False
            try:
                cv2.destroyWindow(self.title)
                cv2.waitKey(1)  # lets the GUI actually remove it
            except cv2.error:
                pass  # already gone (closed by the user)
