"""Recording with microphone audio against a PulseAudio null sink: the file is complete and
in sync after SIGTERM or Ctrl-C; a missing microphone gives a video-only file and one line."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from live_avatar.sinks import open_sink


def _pactl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture(scope="module")
def pulse_null_source():
    """A running PulseAudio whose default input is the monitor of a null sink."""
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.skip("needs pulseaudio (apt-get install pulseaudio)")
    started = _pactl("info").returncode != 0
    if started:
        subprocess.run(["pulseaudio", "-D", "--exit-idle-time=-1"], capture_output=True,
                       timeout=20)
        deadline = time.time() + 10
        while _pactl("info").returncode != 0:
            if time.time() > deadline:
                pytest.skip("pulseaudio could not start here")
            time.sleep(0.2)
    loaded = _pactl("load-module", "module-null-sink", "sink_name=live_avatar_test")
    if loaded.returncode != 0:
        pytest.skip(f"cannot load a PulseAudio null sink: {loaded.stderr.strip()}")
    _pactl("set-default-source", "live_avatar_test.monitor")
    yield "live_avatar_test.monitor"
    _pactl("unload-module", loaded.stdout.strip())
    if started:  # leave the machine as it was
        subprocess.run(["pulseaudio", "--kill"], capture_output=True, timeout=20)


def _streams(path: Path) -> dict[str, float]:
    import av

    with av.open(str(path)) as container:
        return {s.type: float(s.duration * s.time_base) for s in container.streams}


def _run_until_recording(command: list[str], log: Path) -> subprocess.Popen:
    app = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.time() + 60
    while "running:" not in log.read_text():
        if app.poll() is not None or time.time() > deadline:
            app.kill()
            raise AssertionError(log.read_text()[-2000:])
        time.sleep(0.2)
    time.sleep(3)  # record a few seconds
    return app


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_recording_with_audio_survives_stop_signals(
    pulse_null_source, stop, driving_dir, portraits_dir, tmp_path
):
    out, log = tmp_path / "rec.mp4", tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "live_avatar", "--camera",
               str(driving_dir / "lp_s18_uncropped_1280x720.mp4"), "--loop",
               "--avatar", str(portraits_dir / "afy_mona_lisa_face.jpg"),
               "--avatars-dir", str(tmp_path), "--output", "none", "--output-size", "320x180",
               "--no-preview", "--record", str(out)]
    app = _run_until_recording(command, log)
    app.send_signal(stop)
    status = app.wait(timeout=30)
    text = log.read_text()
    assert status == (0 if stop == signal.SIGTERM else 130), text
    assert "recording saved" in text and "Traceback" not in text
    durations = _streams(out)
    assert set(durations) == {"video", "audio"}
    assert durations["video"] > 2
    # in sync: both tracks cover the same stretch of time
    assert abs(durations["audio"] - durations["video"]) < 0.2


def test_no_microphone_records_video_only(tmp_path):
    path = tmp_path / "silent.mp4"
    sink = open_sink(str(path), (160, 90), 30, audio=True, audio_device="no such microphone")
    assert any("recording video only" in note for note in sink.notes)
    for value in range(5):
        sink.write(np.full((90, 160, 3), value * 40, dtype=np.uint8))
    sink.close()
    assert set(_streams(path)) == {"video"}
