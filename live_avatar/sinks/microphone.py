"""Microphone capture for recordings (sounddevice), each block stamped with the wall clock."""

from __future__ import annotations

import queue
import time

import numpy as np


class MicrophoneError(Exception):
    """No usable audio input; the message says why in one line."""


class Microphone:
    """Records mono float32 blocks from the default input into `blocks` (a queue of
    (samples (N,) float32, perf_counter time of the block's first sample)).

    Raises MicrophoneError when there is no input device or PortAudio is missing.
    """

    def __init__(self, samplerate: int | None = None, device: str | int | None = None):
        try:
            import sounddevice as sd
        except OSError as error:  # the PortAudio library itself is missing
            raise MicrophoneError(f"PortAudio is not installed ({error})") from error
        try:
            info = sd.query_devices(device, kind="input")
            self.samplerate = int(samplerate or info["default_samplerate"])
            self.blocks: queue.Queue = queue.Queue()
            self.device_name = str(info["name"])
            self._stream = sd.InputStream(
                samplerate=self.samplerate,
                channels=1,
                dtype="float32",
                device=device,
                callback=self._callback,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as error:
            raise MicrophoneError(" ".join(str(error).split())) from error

    def _callback(self, indata, frames, time_info, status) -> None:
        # the block's first sample was captured `frames` samples before it arrived
        start = time.perf_counter() - frames / self.samplerate
        self.blocks.put((indata[:, 0].copy(), start))

    def close(self) -> None:
        """Stop recording; idempotent (blocks already captured stay in `blocks`)."""
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None

    def __enter__(self) -> Microphone:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def input_devices() -> list[str]:
    """Names of the audio input devices PortAudio sees (empty when none or no PortAudio)."""
    try:
        import sounddevice as sd
    except OSError:  # the PortAudio library itself is missing
        return []
    try:
        devices = sd.query_devices()
    except sd.PortAudioError:
        return []
    return [d["name"] for d in devices if d["max_input_channels"] > 0]


def silence(samples: int) -> np.ndarray:
    """`samples` zeros, float32."""
    return np.zeros(max(samples, 0), dtype=np.float32)
