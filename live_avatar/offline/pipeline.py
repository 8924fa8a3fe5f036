"""The offline pipeline: avatar(s) -> face crop -> animator <- driving clip -> layout -> frames.

Orchestration only: the animator does the maths, driving.py the clip, media.py the files.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_avatar.animators import Animator, MotionOptions, create_animator
from live_avatar.compose import compose_layout, fit_into, grid
from live_avatar.errors import CheckpointError, NoFaceError, UserError
from live_avatar.face.crop import upright_face_crop
from live_avatar.offline.driving import DrivingClip, prepare_driving, spool_frames
from live_avatar.offline.options import AnimateOptions, Summary, progress_bar, to_rgb_uint8

#: the mesh animator reduces larger portraits to this longer side offline (live: 1280)
OFFLINE_MAX_SIDE = 3840
#: square size given to animators that take any driving size
DEFAULT_DRIVING_SIZE = 256


@dataclass
class PreparedAvatar:
    """One avatar ready for the animator."""

    name: str  # file name or 'avatar N', used in messages
    image: np.ndarray  # what set_avatar() receives: HxWx3 uint8 RGB (face crop for FOMM)
    panel: np.ndarray  # the source panel of the 'full' layout: HxWx3 uint8 RGB
    landmarks: np.ndarray | None  # (478, 3) face-mesh points in the original image, if found


def resolve_backend(name: str, checkpoint: Path) -> str:
    """'auto' -> 'fomm' when the checkpoint file exists, else the weight-free 'mesh'."""
    if name != "auto":
        return name
    if checkpoint.is_file():
        return "fomm"
    if _mesh_available():
        return "mesh"
    raise CheckpointError(
        f"no FOMM checkpoint at {checkpoint}: download vox-cpk.pth.tar into checkpoints/ "
        "(see checkpoints/README.md) or pass --checkpoint FILE --config FILE"
    )


def _mesh_available() -> bool:
    return importlib.util.find_spec("live_avatar.animators.mesh.animator") is not None


def build_animator(options: AnimateOptions) -> Animator:
    """The animator the options ask for (weights loaded once)."""
    backend = resolve_backend(options.backend, options.checkpoint)
    if backend == "mesh" and not _mesh_available():
        raise UserError("the mesh animator is not part of this version: use --backend fomm")
    motion = MotionOptions(relative=options.relative, adapt_scale=options.adapt_scale)
    settings: dict = {"motion": motion, "device": options.device, "fp16": options.fp16}
    if backend == "fomm":
        settings.update(checkpoint=options.checkpoint, config=options.config)
    else:  # no real-time budget offline: the portrait keeps its resolution up to 4K
        settings.update(max_side=OFFLINE_MAX_SIDE)
    return create_animator(backend, **settings)


def _avatar_name(item, index: int) -> str:
    return str(item) if isinstance(item, (str, os.PathLike)) else f"avatar {index + 1}"


def check_inputs(avatars: list, driving, output=None, audio_file=None) -> None:
    """Cheap checks of every file named, before any model loads: InputFileError naming the
    first one missing or unreadable (avatars, driving video, music, output target)."""
    from live_avatar.avatars import load_avatar
    from live_avatar.media import check_audio_file, check_output_path, probe_video

    if not avatars:
        raise UserError("no avatar given: pass at least one portrait image")
    for item in avatars:
        if isinstance(item, (str, os.PathLike)):
            load_avatar(item)
    if isinstance(driving, (str, os.PathLike)):
        probe_video(driving)
    if audio_file is not None:
        check_audio_file(audio_file)
    if output is not None:
        check_output_path(output)


class OfflinePipeline:
    """Load once, animate many: avatars + a driving clip -> composed frames or a video file.

    Built on one animator (weights loaded once); several avatars are animated one after
    another with the same animator. close() releases it; also a context manager.
    """

    def __init__(self, options: AnimateOptions | None = None, animator: Animator | None = None):
        self.options = options or AnimateOptions()
        self.animator = animator or build_animator(self.options)
        self.size = self.animator.driving_size or DEFAULT_DRIVING_SIZE

    def prepare_avatar(self, item, index: int = 0) -> PreparedAvatar:
        """A path or an array (HxWx3 uint8 RGB or float in [0, 1]) -> PreparedAvatar.

        With cropping on and an animator that wants a face crop (FOMM), the portrait is cut
        square around its face, turned upright if the face lies on its side or upside down,
        and resized to the model size. NoFaceError when no face is found where one is
        needed."""
        from live_avatar.avatars import load_avatar
        from live_avatar.face.landmarks import find_portrait_landmarks

        name = _avatar_name(item, index)
        image = (
            load_avatar(item) if isinstance(item, (str, os.PathLike)) else to_rgb_uint8(item, name)
        )
        cropping = self.options.crop and self.animator.crops_avatar
        landmarks = None
        if cropping or self.options.find_best_frame:
            landmarks = find_portrait_landmarks(image)
            if landmarks is None:
                hint = (
                    "or --no-crop to use the whole image"
                    if cropping
                    else "or leave out --find-best-frame"
                )
                raise NoFaceError(
                    f"no face found in avatar {name}: use a portrait with a clearly visible "
                    f"face, {hint}"
                )
        if cropping:
            image = upright_face_crop(image, landmarks, self.size)
        elif self.animator.crops_avatar:
            image = fit_into(image, self.size, self.size)
        return PreparedAvatar(name, image, image, landmarks)

    def open_driving(self, driving) -> DrivingClip:
        """A video path, frame folder, list or iterator of frames -> DrivingClip (close it)."""
        # FOMM finds its own keypoints; other animators and --find-best-frame need landmarks
        with_landmarks = self.options.find_best_frame or self.animator.name != "fomm"
        o = self.options
        return prepare_driving(driving, self.size, o.crop, with_landmarks, o.fps, o.progress)

    def calibration_index(self, avatar: PreparedAvatar, clip: DrivingClip) -> int:
        """The calibration frame: 0, or with find_best_frame the frame whose normalised
        landmarks best match the avatar's."""
        from live_avatar.face.align import best_frame_index

        if not self.options.find_best_frame or avatar.landmarks is None:
            return 0
        best = best_frame_index(avatar.landmarks, (clip.landmarks_at(i) for i in range(len(clip))))
        return 0 if best is None else best

    def _generate(self, avatar: PreparedAvatar, clip: DrivingClip, start: int, bar):
        """(index, generated frame) from `start` forwards, then from start-1 backwards, as
        the original demo does; the animator is re-calibrated before each direction."""
        from live_avatar.console import about

        with about(avatar.name):
            # landmarks found in the whole portrait (--find-best-frame) serve a whole-portrait
            # animator too
            found = None if self.animator.crops_avatar else avatar.landmarks
            self.animator.set_avatar(avatar.image, found)
        for order in (range(start, len(clip)), range(start - 1, -1, -1)):
            if len(order) == 0:
                continue
            self.animator.calibrate(clip.frame(start), clip.landmarks_at(start))
            for index in order:
                # time runs away from the calibration frame, backwards through the clip too
                seconds = abs(index - start) / clip.fps
                frame, landmarks = clip.frame(index), clip.landmarks_at(index)
                yield index, self.animator.animate(frame, landmarks, seconds)
                bar.update()

    def generated(self, avatar: PreparedAvatar, clip: DrivingClip, bar) -> Iterator[np.ndarray]:
        """The avatar's generated frames in clip order (HxWx3 uint8 RGB each)."""
        start = self.calibration_index(avatar, clip)
        if start == 0:
            for _, frame in self._generate(avatar, clip, 0, bar):
                yield frame
            return
        # animated out of order: put the frames in place on disk, then read them in order
        spool = None
        for index, frame in self._generate(avatar, clip, start, bar):
            if spool is None:
                spool = np.memmap(
                    clip.folder / f"gen-{id(avatar)}.u8",
                    np.uint8,
                    "w+",
                    shape=(len(clip), *frame.shape),
                )
            spool[index] = frame
        yield from spool

    def frames(
        self,
        avatars: list[PreparedAvatar],
        clip: DrivingClip,
        layout: str | None = None,
        sequence: bool | None = None,
    ) -> Iterator[np.ndarray]:
        """Composed output frames (HxWx3 uint8 RGB) in `layout` (default: the options'): one
        avatar, several one after another (`sequence`), or several in a grid."""
        layout = layout or self.options.layout
        sequence = self.options.sequence if sequence is None else sequence
        total = len(clip) * len(avatars)
        with progress_bar(total, "animating", self.options.progress) as bar:
            if sequence or len(avatars) == 1:
                size = None
                for avatar in avatars:
                    for index, frame in enumerate(self.generated(avatar, clip, bar)):
                        out = compose_layout(layout, frame, clip.frame(index), avatar.panel)
                        size = size or out.shape[:2]
                        yield out if out.shape[:2] == size else fit_into(out, size[1], size[0])
                return
            streams = [self._on_disk(avatar, clip, bar) for avatar in avatars]
            for index in range(len(clip)):
                driving = clip.frame(index)
                yield grid(
                    [
                        compose_layout(layout, s[index], driving, a.panel)
                        for s, a in zip(streams, avatars, strict=True)
                    ]
                )

    def _on_disk(self, avatar: PreparedAvatar, clip: DrivingClip, bar) -> np.ndarray:
        frames = self.generated(avatar, clip, bar)
        return spool_frames(frames, clip.folder / f"grid-{id(avatar)}.u8")

    def animate_to_file(
        self,
        avatars: list,
        driving,
        output: str | Path,
        audio_file: str | Path | None = None,
        audio: bool = True,
    ) -> Summary:
        """Animate `avatars` (paths or arrays) with `driving` into `output` (.mp4 or a folder
        of PNGs). Audio: the driving video's by default, `audio_file` instead, or none when
        `audio` is False. The output appears only when complete. Returns a Summary."""
        from live_avatar.media import VideoWriter

        check_inputs(avatars, driving, output, audio_file)  # fail before the long part
        prepared = [self.prepare_avatar(item, i) for i, item in enumerate(avatars)]
        started = time.perf_counter()
        with self.open_driving(driving) as clip:
            sequence = self.options.sequence and len(prepared) > 1
            writer = VideoWriter(
                output,
                clip.fps,
                audio_from=clip.audio if audio else None,
                audio_file=audio_file if audio else None,
                loop_audio=True if sequence else None,
            )
            with writer:
                for frame in self.frames(prepared, clip):
                    writer.write(frame)
        return Summary(writer.frames_written, time.perf_counter() - started, Path(output))

    def close(self) -> None:
        """Release the animator; idempotent."""
        if self.animator is not None:
            self.animator.close()
            self.animator = None

    def __enter__(self) -> OfflinePipeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
