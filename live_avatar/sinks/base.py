"""The sink contract: something that takes output frames (a virtual camera, a window, a file)."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


def check_frame(frame: np.ndarray, size: tuple[int, int]) -> None:
    """Raise ValueError unless `frame` is height x width x 3 uint8 for `size` = (width, height)."""
    expected = (size[1], size[0], 3)
    if frame.shape != expected or frame.dtype != np.uint8:
        raise ValueError(
            f"unexpected frame {frame.shape} {frame.dtype}, expected {expected} uint8 RGB"
        )


class Sink(ABC):
    """Receives every output frame. Opened by the constructor; a context manager whose
    `close()` is idempotent and finalises what was written."""

    #: registry name
    name: str = ""

    def __init__(self, size: tuple[int, int], fps: float):
        self.size = size  # (width, height) of the frames `write` takes
        self.fps = fps  # the rate frames are sent at (a hint; the app paces)
        self.notes: list[str] = []  # one-line messages for the user (e.g. recording without audio)

    @abstractmethod
    def write(self, frame: np.ndarray) -> None:
        """Take one output frame: height x width x 3 uint8 RGB of `self.size`."""

    def describe(self) -> str:
        """Where the frames go, for the start-up message."""
        return self.name

    @abstractmethod
    def close(self) -> None:
        """Finish and release; idempotent."""

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
