"""The offline pipeline shared by `live-avatar animate` and the notebook API.

avatar(s) -> face crop -> animator <- driving clip (one stable crop, kept on disk) -> layout
-> frames. Orchestration only: the animator does the maths, media.py the files.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from live_avatar.animators import Animator, MotionOptions, create_animator
from live_avatar.compose import LAYOUTS, compose_layout, fit_into, grid
from live_avatar.errors import CheckpointError, NoFaceError, UserError
from live_avatar.face.crop import Box, crop_square, face_box_from_landmarks, stable_clip_box
from live_avatar.paths import DEFAULT_CHECKPOINT, DEFAULT_CONFIG

#: square size given to animators that take any driving size
DEFAULT_DRIVING_SIZE = 256
#: frame rate given to driving frames that come without one (a folder, a list of arrays)
DEFAULT_FPS = 25.0
#: side of the detector box -> crop side, close to face_box_from_landmarks' framing
DETECTOR_BOX_SCALE = 2.0

ImageInput = "str | Path | np.ndarray"
DrivingInput = "str | Path | Iterable[np.ndarray]"


@dataclass
class AnimateOptions:
    """Every setting of an offline animation (the CLI flags and the API arguments)."""

    backend: str = "auto"  # fomm, mesh, or auto (fomm when the checkpoint file exists)
    checkpoint: Path = DEFAULT_CHECKPOINT  # FOMM weights (.pth.tar)
    config: Path = DEFAULT_CONFIG  # FOMM model config in FOMM's YAML schema
    device: str = "auto"  # auto, cpu, cuda or cuda:N
    fp16: bool = False  # half-precision autocast on CUDA
    relative: bool = True  # motion relative to the calibration frame (False: absolute)
    adapt_scale: bool = True  # scale motion by the ratio of face sizes
    find_best_frame: bool = False  # calibrate on the driving frame closest to the avatar's pose
    crop: bool = True  # crop avatar and driving frames around the face
    layout: str = "output"  # output, side-by-side (driving | result) or full (source | ...)
    sequence: bool = False  # several avatars one after another instead of a grid
    progress: bool = True  # show a progress bar (frames/s, ETA) on stderr
    fps: float = DEFAULT_FPS  # frame rate of driving frames that have none of their own

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise UserError(f"unknown layout '{self.layout}': choose one of {', '.join(LAYOUTS)}")
        self.checkpoint, self.config = Path(self.checkpoint), Path(self.config)


@dataclass
class PreparedAvatar:
    """One avatar ready for the animator."""

    name: str  # file name or 'avatar N', used in messages
    image: np.ndarray  # what set_avatar() receives: HxWx3 uint8 RGB (face crop for FOMM)
    panel: np.ndarray  # the source panel of the 'full' layout: HxWx3 uint8 RGB
    landmarks: np.ndarray | None  # (478, 3) face-mesh points in the original image, if found


@dataclass
class Summary:
    """What an animation produced."""

    frames: int  # output frames
    seconds: float  # wall time of the animation
    output: Path | None = None  # file or folder written, if any

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        target = f"wrote {self.output}: " if self.output else ""
        return f"{target}{self.frames} frames in {self.seconds:.1f} s ({self.fps:.1f} frames/s)"


def to_rgb_uint8(image: np.ndarray, what: str = "image") -> np.ndarray:
    """An HxWx3 uint8 RGB array, or float in [0, 1], as HxWx3 uint8 RGB."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"unexpected {what} shape {image.shape}, expected HxWx3 RGB")
    if image.dtype == np.uint8:
        return image
    if np.issubdtype(image.dtype, np.floating):
        return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    raise ValueError(f"unexpected {what} dtype {image.dtype}, expected uint8 or float in [0, 1]")


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
    return create_animator(backend, **settings)


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
    cleanup: list[Path] = field(default_factory=list)


def _driving_source(driving, fps: float, scratch: Path) -> _Source:
    from live_avatar.media import probe_video, read_frames

    if isinstance(driving, (str, Path)):
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
    spooled = _spool((to_rgb_uint8(f, "driving frame") for f in driving), scratch / "source.u8")
    return _Source(lambda: iter(spooled), "driving frames", fps, None, len(spooled))


def _spool(frames: Iterable[np.ndarray], path: Path, shape: tuple | None = None) -> np.ndarray:
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


def _progress(total: int | None, description: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="frame", disable=not enabled, leave=False)


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
        _progress(source.count, "finding the face", progress) as bar,
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
    driving, size: int, options: AnimateOptions, with_landmarks: bool
) -> DrivingClip:
    """Pass 1 (when cropping) finds one stable face box; pass 2 crops every frame to
    size x size and tracks its landmarks when `with_landmarks`. Returns a DrivingClip."""
    folder = Path(tempfile.mkdtemp(prefix="live-avatar-"))
    try:
        source = _driving_source(driving, options.fps, folder)
        box = _clip_box(source, options.progress) if options.crop else None
        count = _write_crops(source, box, size, folder, with_landmarks, options.progress)
        return DrivingClip(folder, count, size, source.fps, source.audio)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _write_crops(source, box, size, folder: Path, with_landmarks: bool, progress: bool) -> int:
    from live_avatar.face.landmarks import FaceLandmarker

    landmarker = FaceLandmarker() if with_landmarks else None
    missing = np.full((478, 3), np.nan, dtype=np.float32)
    count = 0
    with (
        (folder / "crops.u8").open("wb") as crops,
        (folder / "landmarks.f32").open("wb") if with_landmarks else nullcontext() as marks,
        _progress(source.count, "cropping", progress) as bar,
    ):
        for frame in source.open():
            crop = crop_square(frame, box, size) if box else fit_into(frame, size, size)
            crops.write(np.ascontiguousarray(crop).tobytes())
            if landmarker is not None:
                points = landmarker(crop)
                marks.write((missing if points is None else points.astype(np.float32)).tobytes())
            count += 1
            bar.update()
    if landmarker is not None:
        landmarker.close()
    if count == 0:
        raise UserError(f"the driving clip {source.name} has no frames")
    return count


def _avatar_name(item, index: int) -> str:
    return str(item) if isinstance(item, (str, Path)) else f"avatar {index + 1}"


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
        square around its face and resized to the model size. NoFaceError when no face is
        found where one is needed."""
        from live_avatar.avatars import load_avatar
        from live_avatar.face.landmarks import find_portrait_landmarks

        name = _avatar_name(item, index)
        image = load_avatar(item) if isinstance(item, (str, Path)) else to_rgb_uint8(item, name)
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
                    f"no face found in avatar {name}: use a portrait with a clearly visible face, {hint}"
                )
        if cropping:
            image = crop_square(image, face_box_from_landmarks(landmarks), self.size)
        elif self.animator.crops_avatar:
            image = fit_into(image, self.size, self.size)
        return PreparedAvatar(name, image, image, landmarks)

    def open_driving(self, driving) -> DrivingClip:
        """A video path, frame folder, list or iterator of frames -> DrivingClip (close it)."""
        # FOMM finds its own keypoints; other animators and --find-best-frame need landmarks
        with_landmarks = self.options.find_best_frame or self.animator.name != "fomm"
        return prepare_driving(driving, self.size, self.options, with_landmarks)

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
        self.animator.set_avatar(avatar.image)
        for order in (range(start, len(clip)), range(start - 1, -1, -1)):
            if len(order) == 0:
                continue
            self.animator.calibrate(clip.frame(start), clip.landmarks_at(start))
            for index in order:
                yield index, self.animator.animate(clip.frame(index), clip.landmarks_at(index))
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

    def frames(self, avatars: list[PreparedAvatar], clip: DrivingClip) -> Iterator[np.ndarray]:
        """Composed output frames (HxWx3 uint8 RGB) in the chosen layout: one avatar, several
        one after another (sequence), or several in a grid."""
        layout = self.options.layout
        total = len(clip) * len(avatars)
        with _progress(total, "animating", self.options.progress) as bar:
            if self.options.sequence or len(avatars) == 1:
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
        return _spool(frames, clip.folder / f"grid-{id(avatar)}.u8")

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
        from live_avatar.media import VideoWriter, check_audio_file

        if audio_file is not None:
            check_audio_file(audio_file)  # fail before the long part
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
