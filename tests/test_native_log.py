"""The `live-avatar` command keeps the native libraries' chatter off the terminal and still
shows its own messages and the native errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from live_avatar.native_log import CHATTER

REPO = Path(__file__).resolve().parent.parent
CLIP = Path(__file__).resolve().parent / "data" / "mesh_drive.mp4"


def test_chatter_lines_are_recognised_and_errors_are_not():
    chatter = [
        b"W0000 00:00:1795656815.158236   20087 inference_feedback_manager.cc:114] Feedback "
        b"manager requires a model with a single signature inference.\n",
        b"I1126 01:35:00.123456    42 gl_context.cc:357] GL version: 3.2\n",
        b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
        b"WARNING: All log messages before absl::InitializeLog() is called are written to "
        b"STDERR\n",
    ]
    kept = [
        b"E0000 00:00:1795656815.158236   20087 calculator_graph.cc:887] graph failed\n",
        b"F1126 01:35:00.123456    42 tflite.cc:12] Check failed\n",
        b"live-avatar: error: avatar image not found: x.png\n",
        b"Traceback (most recent call last):\n",
    ]
    assert all(CHATTER.match(line) for line in chatter)
    assert not any(CHATTER.match(line) for line in kept)


def _command(*args: str) -> subprocess.CompletedProcess:
    # the console command's own entry point, as `live-avatar` runs it
    code = "from live_avatar.cli import entry; entry()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


def test_animate_prints_its_own_lines_only(tmp_path):
    out = tmp_path / "out.mp4"
    done = _command(
        "animate", "--backend", "mesh", "--avatar", "avatars/mona_lisa.jpg",
        "--driving", str(CLIP), "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.exists() and "wrote" in done.stdout
    assert not [line for line in done.stderr.splitlines() if CHATTER.match(line.encode())]


def test_user_errors_still_reach_the_terminal(tmp_path):
    done = _command(
        "animate", "--avatar", str(tmp_path / "missing.png"), "--driving", str(CLIP),
        "-o", str(tmp_path / "out.mp4"),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("live-avatar: error: avatar image")
