"""Video-file output (H.264 mp4) with optional microphone audio (AAC) in sync; written to a
temporary name by a background thread and renamed when complete."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from fractions import Fraction
from pathlib import Path

import numpy as np

from live_avatar.errors import InputFileError, UserError
from live_avatar.sinks.base import Sink, check_frame
from live_avatar.sinks.microphone import Microphone, MicrophoneError, silence

# frames waiting for the encoder; a full queue slows the loop rather than dropping frames
VIDEO_QUEUE = 8


class VideoFileSink(Sink):
    """Writes frames to `path` as they come; frame times follow the wall clock, so the
    video plays at the real speed and stays in sync with the microphone (`audio=True`;
    `audio_device` picks one by name or index, default the system's input).

    Without a usable microphone it records video only and says why in `notes`.
    """

    name = "file"

    def __init__(
        self,
        size: tuple[int, int],
        fps: float,
        path: str | Path,
        audio: bool = False,
        audio_device: str | int | None = None,
        **_ignored,
    ):
        super().__init__(size, fps)
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise InputFileError(f"cannot write {self.path}: folder {self.path.parent} not found")
        self._partial = self.path.with_name(f".{self.path.stem}.part{self.path.suffix}")
        self._video: queue.Queue = queue.Queue(maxsize=VIDEO_QUEUE)
        self._error: BaseException | None = None
        self._closed = False
        self.frames = 0
        self._microphone = self._open_microphone(audio_device) if audio else None
        self._container, self._vstream, self._astream = self._open_container()
        # the file's time zero: when the first frame came (audio before it is dropped)
        self._start: float | None = None
        self._end: float | None = None  # when the newest frame ends (audio is written up to it)
        self._audio: deque = deque()  # microphone blocks waiting for the video to catch up
        self._thread = threading.Thread(target=self._run, name="video-writer", daemon=True)
        self._thread.start()

    def _open_microphone(self, device: str | int | None) -> Microphone | None:
        try:
            return Microphone(device=device)
        except MicrophoneError as error:
            self.notes.append(f"no microphone ({error}): recording video only")
            return None

    def _open_container(self):
        import av

        try:
            container = av.open(str(self._partial), "w")
        except OSError as error:
            raise InputFileError(f"cannot write {self.path}: {error.strerror}") from error
        vstream = container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1001))
        vstream.width, vstream.height = self.size
        vstream.pix_fmt = "yuv420p"
        vstream.options = {"preset": "veryfast", "crf": "20"}
        astream = None
        if self._microphone is not None:
            astream = container.add_stream("aac", rate=self._microphone.samplerate, layout="mono")
        return container, vstream, astream

    def describe(self) -> str:
        audio = f" + audio from '{self._microphone.device_name}'" if self._microphone else ""
        return f"file {self.path}{audio}"

    def write(self, frame: np.ndarray) -> None:
        """Queue one frame (HxWx3 uint8 RGB of `size`), stamped with the current time."""
        check_frame(frame, self.size)
        if self._error is not None:
            raise UserError(f"writing {self.path} failed: {self._error}")
        if self._closed:
            return
        stamp = time.perf_counter()
        if self._start is None:
            self._start = stamp
        self._end = stamp + 1 / self.fps
        self._video.put((frame.copy(), stamp))
        self.frames += 1

    def _run(self) -> None:
        import av

        next_pts, audio_pts = 0, None
        try:
            while True:
                try:
                    item = self._video.get(timeout=0.05)
                except queue.Empty:
                    item = ()
                audio_pts = self._drain_audio(audio_pts)
                if item is None:
                    break
                if item:
                    image, stamp = item
                    pts = max(round((stamp - self._start) * self.fps), next_pts)
                    video_frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                    video_frame.pts, next_pts = pts, pts + 1
                    self._mux(self._vstream.encode(video_frame))
            self._drain_audio(audio_pts)
            for stream in (self._vstream, self._astream):
                if stream is not None:
                    self._mux(stream.encode(None))
        except Exception as error:  # noqa: BLE001 - reported to the loop by write()/close()
            self._error = error

    def _drain_audio(self, pts: int | None) -> int | None:
        """Encode the microphone's samples up to the newest frame's end (the audio never runs
        ahead of the video, so both tracks end together); returns the next audio pts."""
        if self._microphone is None or self._start is None:
            return pts
        rate = self._microphone.samplerate
        while not self._microphone.blocks.empty():
            self._audio.append(self._microphone.blocks.get_nowait())
        limit = round((self._end - self._start) * rate)
        while self._audio and (pts is None or pts < limit):
            samples, start = self._audio.popleft()
            if pts is None:
                # the first block after time zero places the audio against the video's clock
                offset = round((start - self._start) * rate)
                if offset + len(samples) <= 0:
                    continue  # wholly before the first frame
                samples = np.concatenate([silence(offset), samples[max(-offset, 0) :]])
                pts = 0
            if len(samples) > limit - pts:  # keep the rest for when the video catches up
                self._audio.appendleft((samples[limit - pts :], start))
                samples = samples[: limit - pts]
            self._encode_audio(samples, pts, rate)
            pts += len(samples)
        return pts

    def _encode_audio(self, samples: np.ndarray, pts: int, rate: int) -> None:
        import av

        frame = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, pts
        self._mux(self._astream.encode(frame))

    def _mux(self, packets) -> None:
        for packet in packets:
            self._container.mux(packet)

    def close(self) -> None:
        """Stop the microphone, finish encoding and move the file into place; idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._microphone is not None:
            self._microphone.close()
        self._video.put(None)
        self._thread.join()
        self._container.close()
        if self._error is not None:
            raise UserError(f"writing {self.path} failed: {self._error}")
        if self.frames == 0:  # nothing was recorded: leave no empty file behind
            self._partial.unlink(missing_ok=True)
            return
        self._partial.replace(self.path)
