"""Python API for notebooks: load an animator once, animate portraits, watch the video inline.

    from live_avatar.api import load_animator
    animator = load_animator()                      # FOMM when checkpoints/ has weights, else mesh
    animator.animate("avatars/mona_lisa.jpg", "driving.mp4", layout="full")   # shows a <video>

The same pipeline as `live-avatar animate` (live_avatar.offline); bad input raises the
errors of live_avatar.errors with the messages the command line prints.
"""

from __future__ import annotations

import base64
import html
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_avatar.compose import LAYOUTS
from live_avatar.errors import CheckpointError, InputFileError, NoFaceError, UserError
from live_avatar.offline import AnimateOptions, OfflinePipeline, check_inputs
from live_avatar.offline.driving import spool_frames
from live_avatar.paths import DEFAULT_CHECKPOINT, DEFAULT_CONFIG

__all__ = [
    "Animation",
    "PortraitAnimator",
    "load_animator",
    "UserError",
    "InputFileError",
    "NoFaceError",
    "CheckpointError",
]

#: widest inline video shown in a notebook, in CSS pixels (the file keeps its full size)
MAX_DISPLAY_WIDTH = 960


def _as_list(avatars) -> list:
    """One avatar (path or HxWx3 array) or several (list, tuple, NxHxWx3 array) -> list."""
    if isinstance(avatars, (str, os.PathLike)):
        return [avatars]
    if isinstance(avatars, np.ndarray):
        return list(avatars) if avatars.ndim == 4 else [avatars]
    return list(avatars)


class Animation:
    """The result of PortraitAnimator.animate: frames kept in a temporary file on disk.

    `frames` is an (N, H, W, 3) uint8 RGB array backed by that file (index it, iterate it,
    or `list()` it); `fps` the driving frame rate. In Jupyter it shows as an HTML5 video.
    """

    def __init__(self, frames: np.ndarray, fps: float, audio: Path | None, loop_audio: bool):
        self.frames = frames
        self.fps = fps
        self.audio = audio  # the driving video, when it has a sound track
        self._loop_audio = loop_audio  # a sequence repeats the driving audio per avatar
        self._html: str | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.frames)

    def __getitem__(self, index):
        return self.frames[index]

    def save(self, path: str | Path, audio: bool | str | Path = True) -> Path:
        """Write an .mp4 (H.264 + AAC) or a folder of PNG frames; returns the path.

        audio: True keeps the driving video's sound, False writes none, a path puts that
        music file under the video (trimmed or looped to its length)."""
        from live_avatar.media import VideoWriter

        music = None if isinstance(audio, bool) else audio
        source = self.audio if audio is True else None
        loop = True if self._loop_audio and source else None
        with VideoWriter(
            path, self.fps, audio_from=source, audio_file=music, loop_audio=loop
        ) as writer:
            for frame in self.frames:
                writer.write(np.asarray(frame))
        return Path(path)

    def video_bytes(self, audio: bool | str | Path = True) -> bytes:
        """The animation as mp4 file bytes."""
        folder = Path(tempfile.mkdtemp(prefix="live-avatar-html-"))
        try:
            return self.save(folder / "animation.mp4", audio).read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def to_html(self, audio: bool | str | Path = True) -> str:
        """An HTML5 <video> element holding the mp4 (base64), for notebooks and web pages."""
        encoded = base64.b64encode(self.video_bytes(audio)).decode("ascii")
        width = min(self.frames.shape[2], MAX_DISPLAY_WIDTH)
        return (
            f'<video width="{width}" controls loop autoplay muted playsinline '
            f'title="{html.escape(f"{len(self)} frames at {self.fps:g} fps")}">'
            f'<source type="video/mp4" src="data:video/mp4;base64,{encoded}"></video>'
        )

    def _repr_html_(self) -> str:
        if self._html is None:
            self._html = self.to_html()
        return self._html

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.frames.shape[1:3][::-1])
        return f"<Animation {len(self)} frames {shape} at {self.fps:g} fps>"


class PortraitAnimator:
    """Load once, animate many. Options are those of `live-avatar animate`.

    backend: 'fomm' (checkpoint + config), 'mesh' (no weights) or 'auto' (fomm when the
    checkpoint file exists); device 'auto'|'cpu'|'cuda[:N]'; fp16 on CUDA; relative or
    absolute motion; adapt_scale; find_best_frame; crop (face crop of avatar and driving);
    fps for driving frames given as arrays; progress shows a bar on stderr.
    """

    def __init__(
        self,
        backend: str = "auto",
        checkpoint: str | Path = DEFAULT_CHECKPOINT,
        config: str | Path = DEFAULT_CONFIG,
        device: str = "auto",
        fp16: bool = False,
        relative: bool = True,
        adapt_scale: bool = True,
        find_best_frame: bool = False,
        crop: bool = True,
        fps: float = 25.0,
        progress: bool = False,
    ):
        options = AnimateOptions(
            backend=backend, checkpoint=Path(checkpoint), config=Path(config), device=device,
            fp16=fp16, relative=relative, adapt_scale=adapt_scale,
            find_best_frame=find_best_frame, crop=crop, fps=fps, progress=progress,
        )  # fmt: skip
        self._pipeline = OfflinePipeline(options)
        self.backend = self._pipeline.animator.name

    def stream(self, avatars, driving, layout: str = "output", sequence: bool = False):
        """Animated frames one at a time (HxWx3 uint8 RGB), never holding the clip in memory.

        avatars: a path or an HxWx3 array (uint8, or float in [0, 1]), or a list of them;
        driving: a video path, a folder of frames, a list/array of frames or an iterator.
        Returns a FrameStream: iterate it; `.fps` is the frame rate."""
        return FrameStream(self, _as_list(avatars), driving, layout, sequence)

    def animate(
        self, avatars, driving, layout: str = "output", sequence: bool = False
    ) -> Animation:
        """Animate and keep the result (frames on disk, shown inline in Jupyter).

        layout: 'output', 'side-by-side' (driving | result) or 'full' (source | driving |
        result); several avatars make a grid, or one after another with sequence=True."""
        stream = self.stream(avatars, driving, layout, sequence)
        folder = Path(tempfile.mkdtemp(prefix="live-avatar-animation-"))
        try:
            with stream:
                frames = spool_frames(stream, folder / "frames.u8")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        animation = Animation(frames, stream.fps, stream.audio, stream.repeats > 1)
        weakref.finalize(animation, shutil.rmtree, folder, True)
        return animation

    def close(self) -> None:
        """Release the model; idempotent."""
        self._pipeline.close()

    def __enter__(self) -> PortraitAnimator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FrameStream:
    """Iterator over animated frames with `fps` and `audio` known once it has started;
    the temporary driving crops are removed when it ends or is closed."""

    def __init__(self, owner: PortraitAnimator, avatars: list, driving, layout, sequence):
        if layout not in LAYOUTS:
            raise UserError(f"unknown layout '{layout}': choose one of {', '.join(LAYOUTS)}")
        check_inputs(avatars, driving)
        pipeline = owner._pipeline
        prepared = [pipeline.prepare_avatar(a, i) for i, a in enumerate(avatars)]
        self._clip = pipeline.open_driving(driving)
        self.fps, self.audio = self._clip.fps, self._clip.audio
        self.repeats = len(prepared) if sequence else 1
        self._frames = pipeline.frames(prepared, self._clip, layout, sequence)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self

    def __next__(self) -> np.ndarray:
        if self._clip is None:
            raise StopIteration
        try:
            return next(self._frames)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        """Stop and remove the temporary files; idempotent."""
        if self._clip is not None:
            self._frames.close()
            self._clip.close()
            self._clip = None

    def __enter__(self) -> FrameStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_animator(backend: str = "auto", **options) -> PortraitAnimator:
    """A PortraitAnimator (see its options); the weights are loaded once, here."""
    return PortraitAnimator(backend=backend, **options)
