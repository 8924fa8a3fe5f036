"""The real preview window under Xvfb: keys sent with `xdotool key --window ID` reach the
app's dispatch (h, m, then q quits cleanly)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.display
TITLE = "live-avatar preview"


@pytest.fixture
def xvfb_display():
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (apt-get install xvfb xdotool)")
    for number in range(91, 110):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    display = f":{number}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if server.poll() is not None or time.time() > deadline:
            server.kill()
            pytest.skip("Xvfb did not start")
        time.sleep(0.1)
    yield display
    server.terminate()
    server.wait(timeout=10)


def _xdotool(display: str, *args: str) -> str:
    result = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display},
                            capture_output=True, text=True, timeout=10)
    return result.stdout.strip()


def _find_window(display: str, app: subprocess.Popen, log: Path, timeout: float = 90) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline and app.poll() is None:
        found = _xdotool(display, "search", "--name", TITLE).split()
        if found:
            return found[0]
        time.sleep(0.5)
    app.kill()
    raise AssertionError(f"no '{TITLE}' window appeared: {log.read_text()[-2000:]}")


def _wait_for(path: Path, text: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in path.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"'{text}' never appeared in the app's output")


def test_keys_reach_the_preview_window(xvfb_display, driving_dir, portraits_dir, tmp_path):
    log = tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "live_avatar", "--camera",
               str(driving_dir / "lp_s18_uncropped_1280x720.mp4"), "--loop",
               "--avatar", str(portraits_dir / "afy_mona_lisa_face.jpg"),
               "--avatars-dir", str(tmp_path), "--output", "none", "--output-size", "320x180"]
    with log.open("w") as stderr:
        app = subprocess.Popen(command, env={**os.environ, "DISPLAY": xvfb_display},
                               stdout=subprocess.DEVNULL, stderr=stderr, text=True)
        try:
            window = _find_window(xvfb_display, app, log)
            _wait_for(log, "running:")
            _xdotool(xvfb_display, "key", "--window", window, "m")
            _wait_for(log, "mirror on")
            _xdotool(xvfb_display, "key", "--window", window, "h")
            _xdotool(xvfb_display, "key", "--window", window, "q")
            assert app.wait(timeout=30) == 0
        finally:
            if app.poll() is None:
                app.kill()
    text = log.read_text()
    assert "frames in" in text and "Traceback" not in text
