"""Video and audio files (PyAV): probe and read videos or frame folders, write mp4 or PNGs."""

from __future__ import annotations

import logging
import math
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from live_avatar.avatars import IMAGE_SUFFIXES, read_image
from live_avatar.errors import InputFileError
from live_avatar.frames import check_rgb

#: output file endings written as H.264 + AAC video; any path without a suffix is a folder
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")
#: frame rate given to a folder of frames (a folder has none of its own)
DEFAULT_FOLDER_FPS = 25.0
#: sample rate of the AAC track written
AUDIO_RATE = 48000
#: name pattern of the PNG frames written to a folder
FRAME_PATTERN = "frame_{:06d}.png"
# An mp4 stays playable on common players and hardware decoders (H.264 level 5.1): at most
# 4096 px a side and 36,864 macroblocks (16x16) a frame; larger frames are scaled down.
MAX_VIDEO_SIDE = 4096
MAX_VIDEO_MACROBLOCKS = 36864

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoInfo:
    """What a driving source holds."""

    fps: float  # frames per second (DEFAULT_FOLDER_FPS for a folder of frames)
    frame_count: int  # number of frames (from the container; exact for mp4 and folders)
    width: int  # frame width in pixels
    height: int  # frame height in pixels
    has_audio: bool  # True when the file has an audio stream


def _natural_key(path: Path) -> list:
    # frame_9.png before frame_10.png, as a person reads them
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _frame_files(folder: Path) -> list[Path]:
    files = sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key
    )
    if not files:
        raise InputFileError(
            f"no image files in frame folder {folder}: expected PNG or JPEG frames"
        )
    return files


def _open_video(path: Path):
    import av

    if not path.exists():
        raise InputFileError(f"driving video not found: {path}")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise InputFileError(
            f"cannot read {path} as a video ({error.__class__.__name__}): "
            "expected a video file such as .mp4 or a folder of frames"
        ) from None
    if not container.streams.video:
        container.close()
        raise InputFileError(
            f"{path} has no video stream: expected a video file or a folder of frames"
        )
    return container


def probe_video(path: str | Path, folder_fps: float = DEFAULT_FOLDER_FPS) -> VideoInfo:
    """Frame rate, frame count, size and audio presence of a video file or a frame folder."""
    import av

    path = Path(path)
    if path.is_dir():
        files = _frame_files(path)
        height, width = read_image(files[0], "frame").shape[:2]
        return VideoInfo(folder_fps, len(files), width, height, False)
    container = _open_video(path)
    with container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        count = stream.frames
        if not count and stream.duration and stream.time_base:
            count = round(float(stream.duration * stream.time_base * rate))
        width, height = stream.codec_context.width, stream.codec_context.height
        try:  # decode one frame: a file that opens may still not be a video
            first = next(container.decode(stream), None)
            if first is not None and _quarter_turns(first.rotation) % 2:  # shown turned
                width, height = height, width
            if not count:  # some containers do not store it: count the packets
                container.seek(0)
                count = sum(1 for packet in container.demux(stream) if packet.size)
        except av.FFmpegError as error:
            raise _undecodable(path, error) from None
        return VideoInfo(
            float(rate),
            int(count),
            width,
            height,
            bool(container.streams.audio),
        )


def read_frames(path: str | Path) -> Iterator[np.ndarray]:
    """Yield the frames of a video file, or of a folder of images in name order (frame_9
    before frame_10), one at a time as HxWx3 uint8 RGB (a clip is never held in memory)."""
    path = Path(path)
    if path.is_dir():
        yield from _read_folder(path)
        return
    import av

    container = _open_video(path)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                yield _upright(frame.to_ndarray(format="rgb24"), frame.rotation)
        except av.FFmpegError as error:
            raise _undecodable(path, error) from None


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """The picture as it is meant to be shown: phones store portrait video as landscape frames
    plus a display rotation (`rotation`, degrees counter-clockwise)."""
    turns = _quarter_turns(rotation)
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _quarter_turns(rotation: float) -> int:
    """A display rotation (degrees counter-clockwise) as counter-clockwise quarter turns, 0-3."""
    return round(rotation / 90) % 4


def _undecodable(path: Path, error: Exception) -> InputFileError:
    return InputFileError(
        f"cannot read {path} as a video ({error.__class__.__name__}): "
        "the file is damaged or is not a video"
    )


def _read_folder(folder: Path) -> Iterator[np.ndarray]:
    files = _frame_files(folder)
    shape = None
    for file in files:
        image = read_image(file, "frame")
        if shape is not None and image.shape != shape:
            raise InputFileError(
                f"frame {file} is {image.shape[1]}x{image.shape[0]}, the first frame is "
                f"{shape[1]}x{shape[0]}: all frames in a folder must have one size"
            )
        shape = image.shape
        yield image


def check_audio_file(path: str | Path) -> Path:
    """The path of a music file that exists and has an audio stream, else InputFileError."""
    import av

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"audio file not found: {path}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InputFileError(
                    f"{path} has no audio stream: expected a music file (.mp3, .wav, ...)"
                )
    except (av.FFmpegError, OSError):
        raise InputFileError(
            f"cannot read {path} as audio: expected .mp3, .wav, .m4a ..."
        ) from None
    return path


def _has_audio(path: Path) -> bool:
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except (av.FFmpegError, OSError):
        return False


def _audio_frames(path: Path, loop: bool) -> Iterator:
    """Decoded audio of `path` as fltp stereo AUDIO_RATE frames, replayed when `loop`."""
    import av

    while True:
        produced = 0
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        with av.open(str(path)) as container:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    out.pts = None  # the fifo re-times the samples; loops restart pts at 0
                    produced += out.samples
                    yield out
            for out in resampler.resample(None):
                out.pts = None
                produced += out.samples
                yield out
        if not loop or produced == 0:
            return


def check_output_path(path: str | Path) -> bool:
    """Check that `path` can receive a video (.mp4 ...) or PNG frames (a folder: no suffix,
    or an existing folder); returns True for a folder. InputFileError otherwise."""
    path = Path(path)
    if path.suffix and not path.is_dir():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise InputFileError(
                f"unsupported output '{path}': use an .mp4 file or a folder for PNG frames"
            )
        return False
    # a folder is replaced only when it holds nothing but frames from an earlier run
    if path.is_dir() and any(not p.name.startswith("frame_") for p in path.iterdir()):
        raise InputFileError(f"output folder {path} is not empty: choose a new folder or empty it")
    return True


def playable_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) scaled down, aspect kept, to within MAX_VIDEO_SIDE and
    MAX_VIDEO_MACROBLOCKS (even sides when scaled); unchanged when already within."""

    def macroblocks(w: int, h: int) -> int:
        return math.ceil(w / 16) * math.ceil(h / 16)

    if max(width, height) <= MAX_VIDEO_SIDE and macroblocks(width, height) <= MAX_VIDEO_MACROBLOCKS:
        return width, height
    factor = min(1.0, MAX_VIDEO_SIDE / max(width, height))
    while True:
        size = max(2, int(width * factor) // 2 * 2), max(2, int(height * factor) // 2 * 2)
        if macroblocks(*size) <= MAX_VIDEO_MACROBLOCKS:
            return size
        factor *= 0.99 * math.sqrt(MAX_VIDEO_MACROBLOCKS / macroblocks(*size))


class VideoWriter:
    """Writes RGB frames to an .mp4 (H.264 yuv420p + AAC) or to a folder of PNG frames.

    The file is written under a hidden temporary name beside the target and renamed when
    complete, so the target never holds a half-written video. A Ctrl-C inside the `with`
    block still finalises the frames written so far; any other error removes the
    temporary file. Audio: `audio_from` (a video whose audio is copied, trimmed to the
    output's length) or `audio_file` (music, trimmed or looped to the output's length);
    `loop_audio` None loops music but not a video's audio, True/False decides for both.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        audio_from: str | Path | None = None,
        audio_file: str | Path | None = None,
        loop_audio: bool | None = None,
        crf: int = 18,
    ):
        self.path = Path(path)
        if fps <= 0:
            raise ValueError(f"unexpected fps {fps}, expected > 0")
        self.fps = Fraction(fps).limit_denominator(1001)
        self.is_folder = check_output_path(self.path)
        self._audio_path, self._loop = None, loop_audio
        if audio_file is not None:
            self._audio_path = check_audio_file(audio_file)
            self._loop = loop_audio is not False
        elif audio_from is not None and _has_audio(Path(audio_from)):
            self._audio_path, self._loop = Path(audio_from), bool(loop_audio)
        self.crf = crf
        self.frames_written = 0
        self._tmp = self.path.with_name(f".{self.path.name}.partial")
        self._container = None
        self._size: tuple[int, int] | None = None
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, frame: np.ndarray) -> None:
        """Append one frame: HxWx3 uint8 RGB, the same size as the first."""
        if self._closed:
            raise ValueError("write() on a closed VideoWriter")
        check_rgb(frame)
        size = frame.shape[:2]
        if self._size is None:
            self._size = size
            self._open()
        elif size != self._size:
            raise ValueError(f"unexpected frame size {size}, the first frame was {self._size}")
        if self.is_folder:
            self._write_png(frame)
        else:
            self._encode_video(frame)
        self.frames_written += 1

    def _open(self) -> None:
        if self.is_folder:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp.mkdir(parents=True)
        else:
            self._open_mp4()

    def _write_png(self, frame: np.ndarray) -> None:
        import cv2

        name = self._tmp / FRAME_PATTERN.format(self.frames_written + 1)
        if not cv2.imwrite(str(name), np.ascontiguousarray(frame[:, :, ::-1])):
            raise InputFileError(f"cannot write {name}: is the disk full or read-only?")

    def _open_mp4(self) -> None:
        import av

        height, width = self._size
        self._scaled_to = playable_size(width, height)
        if self._scaled_to != (width, height):
            log.warning("%s: frames %dx%d scaled to %dx%d to stay playable", self.path.name,
                        width, height, *self._scaled_to)  # fmt: skip
            width, height = self._scaled_to
        self._container = av.open(
            str(self._tmp), "w", format="mp4", options={"movflags": "+faststart"}
        )
        stream = self._container.add_stream("libx264", rate=self.fps)
        # H.264 with yuv420p needs even sides: frames are padded by one pixel when odd
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": "fast"}
        self._video = stream
        self._audio = None
        if self._audio_path is not None:
            self._audio = self._container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            self._audio_source = _audio_frames(self._audio_path, self._loop)
            self._fifo = av.AudioFifo()
            self._samples_written = 0

    def _encode_video(self, frame: np.ndarray) -> None:
        import av
        import cv2

        if self._scaled_to != (frame.shape[1], frame.shape[0]):
            frame = cv2.resize(frame, self._scaled_to, interpolation=cv2.INTER_AREA)
        height, width = frame.shape[:2]
        if height % 2 or width % 2:
            frame = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        video_frame.pts = self.frames_written
        video_frame.time_base = 1 / self.fps
        self._container.mux(self._video.encode(video_frame))
        if self._audio is not None:
            # keep the audio interleaved with the video, a little ahead of it
            self._encode_audio_until(self.frames_written + 1, final=False)

    def _encode_audio_until(self, frame_index: int, final: bool) -> None:
        target = round(frame_index / self.fps * AUDIO_RATE)
        chunk = self._audio.codec_context.frame_size or 1024
        while self._samples_written < target:
            wanted = min(chunk, target - self._samples_written)
            while self._fifo.samples < wanted:
                decoded = next(self._audio_source, None)
                if decoded is None:
                    break
                self._fifo.write(decoded)
            if self._fifo.samples < wanted and not final:
                return
            if not final and wanted < chunk:
                return  # only the last frame of the track may be short
            audio_frame = self._fifo.read(wanted, partial=final)
            if audio_frame is None:
                return
            audio_frame.pts = self._samples_written
            audio_frame.time_base = Fraction(1, AUDIO_RATE)
            self._samples_written += audio_frame.samples
            self._container.mux(self._audio.encode(audio_frame))

    def close(self) -> None:
        """Finish the file and give it its final name; idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._size is None:
            return  # nothing written: no file at all
        if self.is_folder:
            if self.path.is_dir():
                shutil.rmtree(self.path)
            self._tmp.rename(self.path)
            return
        if self._audio is not None:
            self._encode_audio_until(self.frames_written, final=True)
            self._container.mux(self._audio.encode(None))
        self._container.mux(self._video.encode(None))
        self._container.close()
        self._tmp.replace(self.path)

    def abort(self) -> None:
        """Drop everything written; the target is left as it was. Idempotent."""
        self._closed = True
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - the file is being discarded anyway
                pass
            self._container = None
        if self._tmp.is_dir():
            shutil.rmtree(self._tmp, ignore_errors=True)
        else:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None or issubclass(exc_type, KeyboardInterrupt):
            self.close()
        else:
            self.abort()


def write_tone(path: str | Path, seconds: float, notes: tuple[float, ...] = (440.0, 554.4, 659.3)):
    """Write a short music-like audio file (an arpeggio of sine `notes`, Hz) for demos and
    tests; the format follows the suffix (.wav, .m4a, .mp3 ...). Returns the path."""
    import av

    path = Path(path)
    total = int(seconds * AUDIO_RATE)
    t = np.arange(total) / AUDIO_RATE
    note = (t * 4).astype(int) % len(notes)  # four notes a second
    wave = 0.3 * np.sin(2 * np.pi * np.asarray(notes)[note] * t) * np.minimum(1, (t * 4) % 1 * 20)
    samples = np.ascontiguousarray(np.stack([wave, wave]).astype(np.float32))
    codec = {".wav": "pcm_s16le", ".mp3": "libmp3lame"}.get(path.suffix.lower(), "aac")
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=AUDIO_RATE, layout="stereo")
        resampler = av.AudioResampler(format=stream.codec_context.format, layout="stereo")
        chunk = 1024
        for start in range(0, total, chunk):
            frame = av.AudioFrame.from_ndarray(
                samples[:, start : start + chunk], format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = AUDIO_RATE, start
            for out in resampler.resample(frame):
                container.mux(stream.encode(out))
        container.mux(stream.encode(None))
    return path
