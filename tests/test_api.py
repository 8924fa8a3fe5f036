"""The notebook API on real portraits and a real driving clip, with the fixture checkpoint."""

from __future__ import annotations

import base64
import itertools
import re
import tracemalloc

import av
import numpy as np
import pytest

from live_avatar.api import (
    CheckpointError,
    InputFileError,
    NoFaceError,
    UserError,
    load_animator,
)
from live_avatar.avatars import load_avatar
from live_avatar.cli import main
from live_avatar.media import VideoWriter, probe_video, read_frames, write_tone
from live_avatar.paths import AVATARS_DIR

MONA = AVATARS_DIR / "mona_lisa.jpg"
FRAMES = 3


@pytest.fixture(scope="module")
def animator():
    from conftest import shared_path

    pytest.importorskip("live_avatar.animators.fomm.animator")
    fixture = shared_path("fomm", "fixture-A")
    with load_animator(
        "fomm",
        checkpoint=fixture / "checkpoint.pth.tar",
        config=fixture / "config.yaml",
        device="cpu",
    ) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def driving(tmp_path_factory):
    """The first frames of a real driving video: a short mp4, and its frames as arrays."""
    from conftest import shared_path

    source = shared_path("data", "driving", "lp_d0.mp4")
    path = tmp_path_factory.mktemp("driving") / "d0_short.mp4"
    with VideoWriter(path, 25) as writer:
        for frame in itertools.islice(read_frames(source), FRAMES):
            writer.write(frame)
    return path, list(read_frames(path))


def test_path_array_and_float_inputs_give_the_same_animation(animator, driving):
    path, frames = driving
    from_paths = animator.animate(MONA, path)
    assert len(from_paths) == FRAMES and from_paths.fps == 25.0
    assert from_paths.frames.shape == (FRAMES, 256, 256, 3)
    avatar = load_avatar(MONA)
    from_arrays = animator.animate(avatar, frames)
    from_floats = animator.animate(avatar.astype(np.float32) / 255, iter(frames))
    assert np.array_equal(from_paths.frames, from_arrays.frames)
    assert np.array_equal(from_paths.frames, from_floats.frames)


def test_layouts_grid_and_sequence(animator, driving):
    _, frames = driving
    assert animator.animate(MONA, frames, layout="side-by-side").frames.shape[1:] == (256, 512, 3)
    assert animator.animate(MONA, frames, layout="full").frames.shape[1:] == (256, 768, 3)
    two = [MONA, AVATARS_DIR / "astronaut.png"]
    assert animator.animate(two, frames).frames.shape[1:] == (256, 512, 3)
    sequence = animator.animate(two, frames, layout="full", sequence=True)
    assert sequence.frames.shape == (2 * FRAMES, 256, 768, 3)


def test_html_holds_a_playable_video(animator, driving):
    path, _ = driving
    animation = animator.animate(MONA, path, layout="side-by-side")
    page = animation._repr_html_()
    assert page.startswith("<video") and "controls" in page
    payload = re.search(r'src="data:video/mp4;base64,([^"]+)"', page).group(1)
    with av.open(__import__("io").BytesIO(base64.b64decode(payload))) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.frames) == ("h264", FRAMES)
        assert (stream.codec_context.width, stream.codec_context.height) == (512, 256)


def test_save_with_music_and_as_png_frames(animator, driving, tmp_path):
    _, frames = driving
    animation = animator.animate(MONA, frames)
    music = write_tone(tmp_path / "music.wav", 1.0)
    out = animation.save(tmp_path / "with_music.mp4", audio=music)
    info = probe_video(out)
    assert (info.frame_count, info.has_audio) == (FRAMES, True)
    folder = animation.save(tmp_path / "pngs")
    back = list(read_frames(folder))
    assert len(back) == FRAMES and np.array_equal(back[0], animation[0])


def test_iterator_driving_keeps_memory_bounded(animator, driving):
    # 16 webcam-sized frames (44 MB) produced on the fly: the pipeline must not hold them
    from conftest import shared_path

    webcam = shared_path("data", "driving", "lp_s18_uncropped_1280x720.mp4")
    count = 16
    source = itertools.islice(read_frames(webcam), count)
    tracemalloc.start()
    try:
        stream = animator.stream(MONA, source)
        produced = sum(1 for _ in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert produced == count and stream.fps == 25.0
    assert peak < 25 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_errors_per_kind_with_the_cli_messages(animator, driving, tmp_path, capsys):
    path, frames = driving
    with pytest.raises(InputFileError) as missing:
        animator.animate(tmp_path / "nobody.png", path)
    assert main(["animate", "--avatar", str(tmp_path / "nobody.png"), "--driving", str(path),
                 "-o", str(tmp_path / "o.mp4")]) == 2  # fmt: skip
    assert capsys.readouterr().err.strip() == f"live-avatar: error: {missing.value}"
    with pytest.raises(NoFaceError, match="no face found in avatar"):
        animator.animate(np.full((200, 200, 3), 90, np.uint8), frames)
    with pytest.raises(InputFileError, match="driving video not found"):
        animator.animate(MONA, tmp_path / "none.mp4")
    with pytest.raises(UserError, match="unknown layout"):
        animator.animate(MONA, frames, layout="mosaic")
    with pytest.raises(ValueError, match="expected HxWx3"):
        animator.animate(np.zeros((10, 10), np.uint8), frames)
    with pytest.raises(CheckpointError, match="missing.pth.tar"):
        load_animator("fomm", checkpoint=tmp_path / "missing.pth.tar", device="cpu")
