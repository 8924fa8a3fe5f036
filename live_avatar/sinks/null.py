"""`--output none`: frames go nowhere (benchmarks, preview only)."""

from __future__ import annotations

import numpy as np

from live_avatar.sinks.base import Sink, check_frame


class NullSink(Sink):
    """Checks and counts frames, keeps nothing."""

    name = "none"

    def __init__(self, size: tuple[int, int], fps: float, **_ignored):
        super().__init__(size, fps)
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        check_frame(frame, self.size)
        self.frames += 1

    def close(self) -> None:
        """Nothing to release."""
