"""The driving clip: one stable face crop for the whole clip, spooled to disk (memmaps)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_avatar.compose import fit_into
from live_avatar.errors import NoFaceError, UserError
from live_avatar.face.crop import Box, crop_square, face_box_from_landmarks, stable_clip_box
from live_avatar.offline.options import DEFAULT_FPS, progress_bar, to_rgb_uint8

#: side of the detector box -> crop side, close to face_box_from_landmarks' framing
DETECTOR_BOX_SCALE = 2.0


class DrivingClip:
    """A driving clip as square face crops at the animator's size, spooled to a temporary
    folder (np.memmap) so that a long clip is never held in memory and frames can be read in
    any order (--find-best-frame animates backwards too). Context manager; close() removes
    the folder."""

    def __init__(self, folder: Path, count: int, size: int, fps: float, audio: Path | None):
        self.folder, self.fps, self.audio, self.size = folder, fps, audio, size
        self.crops = np.memmap(folder / "crops.u8", np.uint8, "r", shape=(count, size, size, 3))
        marks = folder / "landmarks.f32"
        self.landmarks = (
            np.memmap(marks, np.float32, "r", shape=(count, 478, 3)) if marks.exists() else None
        )

    def __len__(self) -> int:
        return len(self.crops)

    def frame(self, index: int) -> np.ndarray:
        """Driving crop `index`: size x size x 3 uint8 RGB."""
        return np.array(self.crops[index])

    def landmarks_at(self, index: int) -> np.ndarray | None:
        """(478, 3) float32 face-mesh points in crop pixels, or None (no face, or not tracked)."""
        if self.landmarks is None or np.isnan(self.landmarks[index, 0, 0]):
            return None
        return np.array(self.landmarks[index])

    def close(self) -> None:
        self.crops = self.landmarks = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> DrivingClip:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class _Source:
    """A replayable driving source: open() gives a fresh iterator over its RGB frames."""

    open: Callable[[], Iterator[np.ndarray]]
    name: str
    fps: float
    audio: Path | None = None
    count: int | None = None


def _driving_source(driving, fps: float, scratch: Path) -> _Source:
    from live_avatar.media import probe_video, read_frames

    if isinstance(driving, (str, os.PathLike)):
        path = Path(driving)
        info = probe_video(path, folder_fps=fps)
        audio = path if info.has_audio and path.is_file() else None
        return _Source(lambda: read_frames(path), str(path), info.fps, audio, info.frame_count)
    if isinstance(driving, (list, tuple)) or (
        isinstance(driving, np.ndarray) and driving.ndim == 4
    ):
        frames = driving
        return _Source(
            lambda: (to_rgb_uint8(f, "driving frame") for f in frames),
            "driving frames",
            fps,
            None,
            len(frames),
        )
    # a one-shot iterator: spool it to disk once so it can be read twice
    spooled = spool_frames(
        (to_rgb_uint8(f, "driving frame") for f in driving), scratch / "source.u8"
    )
    return _Source(lambda: iter(spooled), "driving frames", fps, None, len(spooled))


def spool_frames(
    frames: Iterable[np.ndarray], path: Path, shape: tuple | None = None
) -> np.ndarray:
    """Write same-shaped uint8 frames to a raw file; returns them as a read-only memmap."""
    count = 0
    with path.open("wb") as out:
        for frame in frames:
            if shape is None:
                shape = frame.shape
            elif frame.shape != shape:
                raise ValueError(
                    f"unexpected driving frame shape {frame.shape}, the first was {shape}"
                )
            out.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
            count += 1
    if count == 0:
        raise UserError("the driving clip has no frames")
    return np.memmap(path, np.uint8, "r", shape=(count, *shape))


def _face_box(landmarker, frame: np.ndarray) -> Box | None:
    from live_avatar.face.landmarks import detect_face_boxes

    points = landmarker(frame)
    if points is not None:
        return face_box_from_landmarks(points)
    # the mesh's own detector is short-range: try the full-range detector before giving up
    boxes = detect_face_boxes(frame)
    return boxes[0].square(DETECTOR_BOX_SCALE) if boxes else None


def _clip_box(source: _Source, progress: bool) -> Box:
    """Pass 1: one steady crop box for the whole clip."""
    from live_avatar.face.landmarks import FaceLandmarker

    boxes = []
    with (
        FaceLandmarker() as landmarker,
        progress_bar(source.count, "finding the face", progress) as bar,
    ):
        for frame in source.open():
            boxes.append(_face_box(landmarker, frame))
            bar.update()
    box = stable_clip_box(boxes)
    if box is None:
        raise NoFaceError(
            f"no face found in the driving video {source.name}: use a clip where the face is "
            "visible, or --no-crop to use the frames as they are"
        )
    return box


def prepare_driving(
    driving,
    size: int,
    crop: bool = True,
    with_landmarks: bool = False,
    fps: float = DEFAULT_FPS,
    progress: bool = False,
) -> DrivingClip:
    """A video path, frame folder, list/array or iterator of frames (HxWx3 uint8 RGB or
    float in [0, 1]) -> DrivingClip of size x size crops (close it when done).

    Pass 1 (when `crop`) finds one stable face box for the clip; pass 2 crops every frame
    (or letterboxes it, without `crop`) and tracks its landmarks when `with_landmarks`.
    `fps` is used for sources that have none (folders, arrays). NoFaceError when cropping
    and no frame has a face."""
    folder = Path(tempfile.mkdtemp(prefix="live-avatar-"))
    try:
        source = _driving_source(driving, fps, folder)
        box = _clip_box(source, progress) if crop else None
        count = _write_crops(source, box, size, folder, with_landmarks, progress)
        return DrivingClip(folder, count, size, source.fps, source.audio)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _write_crops(source, box, size, folder: Path, with_landmarks: bool, progress: bool) -> int:
    from live_avatar.face.landmarks import FaceLandmarker

    missing = np.full((478, 3), np.nan, dtype=np.float32)
    count = 0
    with (
        FaceLandmarker() if with_landmarks else nullcontext() as landmarker,
        (folder / "crops.u8").open("wb") as crops,
        (folder / "landmarks.f32").open("wb") if with_landmarks else nullcontext() as marks,
        progress_bar(source.count, "cropping", progress) as bar,
    ):
        for frame in source.open():
            crop = crop_square(frame, box, size) if box else fit_into(frame, size, size)
            crops.write(np.ascontiguousarray(crop).tobytes())
            if landmarker is not None:
                points = landmarker(crop)
                marks.write((missing if points is None else points.astype(np.float32)).tobytes())
            count += 1
            bar.update()
    if count == 0:
        raise UserError(f"the driving clip {source.name} has no frames")
    return count
