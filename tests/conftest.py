"""Shared test fixtures: where ../shared is, and skips with a reason when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
TEST_DATA = Path(__file__).resolve().parent / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs ../shared/{'/'.join(parts)} (reference data beside the repo)")
    return path


@pytest.fixture
def fixture_a() -> Path:
    """The reduced-width FOMM reference fixture from the original implementation."""
    return shared_path("fomm", "fixture-A")


@pytest.fixture
def driving_dir() -> Path:
    return shared_path("data", "driving")


@pytest.fixture
def portraits_dir() -> Path:
    return shared_path("data", "portraits")


def write_turned_clip(path, rotation: int, frames: int = 3):
    """A lossless 96x64 clip stored as landscape frames with a display rotation (degrees
    counter-clockwise), as phones store portrait video; a red square marks the stored top
    left. Returns (path, the stored HxWx3 RGB frame)."""
    import av
    import numpy as np

    stored = np.zeros((64, 96, 3), np.uint8)
    stored[:16, :16] = (255, 0, 0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv444p"
        stream.options = {"qp": "0"}
        stream.set_display_rotation(rotation)
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path, stored
