"""`live-avatar animate` end to end: real portraits, a real driving clip, the fixture checkpoint."""

from __future__ import annotations

import itertools

import av
import cv2
import numpy as np
import pytest

from live_avatar.cli import main
from live_avatar.media import VideoWriter, probe_video, read_frames, write_tone
from live_avatar.paths import AVATARS_DIR

FRAMES = 4  # few frames: the suite runs on 2 shared cores
MONA = str(AVATARS_DIR / "mona_lisa.jpg")
ASTRONAUT = str(AVATARS_DIR / "astronaut.png")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """The first frames of a real driving video (with its audio), cut to a short mp4."""
    from conftest import shared_path

    source = shared_path("data", "driving", "lp_d18.mp4")
    path = tmp_path_factory.mktemp("driving") / "d18_short.mp4"
    with VideoWriter(path, 30, audio_from=source) as writer:
        for frame in itertools.islice(read_frames(source), FRAMES):
            writer.write(frame)
    return path


@pytest.fixture
def fomm(fixture_a):
    """CLI flags selecting the reduced FOMM fixture checkpoint."""
    pytest.importorskip("live_avatar.animators.fomm.animator")
    return [
        "--backend", "fomm",
        "--checkpoint", str(fixture_a / "checkpoint.pth.tar"),
        "--config", str(fixture_a / "config.yaml"),
        "--device", "cpu",
    ]  # fmt: skip


def animate(*args: str) -> int:
    return main(["animate", *args])


def _audio_seconds(path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base)


def test_animate_real_clip_to_mp4_with_audio(clip, fomm, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert animate("--avatar", MONA, "--driving", str(clip), "-o", str(out), *fomm) == 0
    info = probe_video(out)
    assert (info.frame_count, info.fps, info.width, info.height) == (FRAMES, 30.0, 256, 256)
    assert info.has_audio
    assert _audio_seconds(out) == pytest.approx(FRAMES / 30, abs=0.03)
    assert f"{FRAMES} frames in" in capsys.readouterr().out
    frames = list(read_frames(out))
    assert frames[0].std() > 10  # a picture, not a blank frame


@pytest.mark.parametrize(
    ("layout", "width"), [("output", 256), ("side-by-side", 512), ("full", 768)]
)
def test_layouts_to_png_folders(clip, fomm, tmp_path, layout, width):
    out = tmp_path / f"frames_{layout}"
    args = ["--avatar", MONA, "--driving", str(clip), "-o", str(out), "--layout", layout]
    assert animate(*args, *fomm) == 0
    pngs = sorted(out.glob("frame_*.png"))
    assert len(pngs) == FRAMES
    assert cv2.imread(str(pngs[0])).shape == (256, width, 3)


def test_several_avatars_grid_and_sequence_with_music(clip, fomm, tmp_path):
    common = ["--avatar", MONA, "--avatar", ASTRONAUT, "--driving", str(clip), *fomm]
    grid = tmp_path / "grid.mp4"
    assert animate(*common, "-o", str(grid), "--no-audio") == 0
    info = probe_video(grid)
    assert (info.frame_count, info.width, info.height, info.has_audio) == (FRAMES, 512, 256, False)
    music = write_tone(tmp_path / "song.m4a", 0.1)
    sequence = tmp_path / "sequence.mp4"
    args = ["-o", str(sequence), "--sequence", "--audio", str(music), "--find-best-frame"]
    assert animate(*common, *args, "--absolute", "--no-adapt-scale") == 0
    assert probe_video(sequence).frame_count == 2 * FRAMES
    assert _audio_seconds(sequence) == pytest.approx(2 * FRAMES / 30, abs=0.03)  # looped


def test_driving_folder_of_frames_and_no_crop(clip, fomm, tmp_path):
    folder = tmp_path / "driving_frames"
    folder.mkdir()
    for index, frame in enumerate(read_frames(clip)):
        cv2.imwrite(str(folder / f"{index:04d}.png"), frame[:, :, ::-1])
    out = tmp_path / "from_folder.mp4"
    args = ["--avatar", MONA, "--driving", str(folder), "-o", str(out), "--no-crop"]
    assert animate(*args, *fomm) == 0
    info = probe_video(out)
    assert (info.frame_count, info.fps, info.has_audio) == (FRAMES, 25.0, False)


def _fails(capsys, *args: str) -> str:
    """Run animate expecting a user error: exit 2, one line on stderr, no traceback."""
    assert animate(*args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("live-avatar: error: ") and "\n" not in err, err
    return err


def test_bad_inputs_exit_2_with_one_line_and_no_output(clip, fomm, tmp_path, capsys):
    out = tmp_path / "never.mp4"
    base = ["--driving", str(clip), "-o", str(out), *fomm]
    assert "avatar image not found" in _fails(capsys, "--avatar", "missing.png", *base)
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    assert "cannot read" in _fails(capsys, "--avatar", str(text), *base)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((300, 300, 3), 128, np.uint8))
    assert "no face found in avatar" in _fails(capsys, "--avatar", str(blank), *base)
    no_video = ["--avatar", MONA, "-o", str(out), *fomm]
    assert "driving video not found" in _fails(capsys, *no_video, "--driving", "none.mp4")
    assert "as a video" in _fails(capsys, *no_video, "--driving", str(text))
    assert "unsupported output" in _fails(
        capsys, "--avatar", MONA, "--driving", str(clip), "-o", str(tmp_path / "o.gif"), *fomm
    )
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_no_face_in_driving_video(fomm, tmp_path, capsys):
    noise = tmp_path / "noise.mp4"
    rng = np.random.default_rng(0)
    with VideoWriter(noise, 10) as writer:
        for _ in range(3):
            writer.write(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8))
    out = tmp_path / "never.mp4"
    err = _fails(capsys, "--avatar", MONA, "--driving", str(noise), "-o", str(out), *fomm)
    assert "no face found in the driving video" in err
    assert not out.exists()


def test_missing_and_wrong_checkpoint(clip, fixture_a, tmp_path, capsys):
    pytest.importorskip("live_avatar.animators.fomm.animator")
    base = ["--avatar", MONA, "--driving", str(clip), "-o", str(tmp_path / "x.mp4")]
    config = ["--config", str(fixture_a / "config.yaml"), "--backend", "fomm"]
    err = _fails(capsys, *base, *config, "--checkpoint", str(tmp_path / "none.pth.tar"))
    assert "none.pth.tar" in err and "not found" in err
    fake = tmp_path / "fake.pth.tar"
    fake.write_bytes(b"definitely not a checkpoint")
    assert "fake.pth.tar" in _fails(capsys, *base, *config, "--checkpoint", str(fake))
    assert not (tmp_path / "x.mp4").exists()


def _moving_portrait_clip(path, frames=4):
    """A bundled portrait nodding a little: a driving clip made without ../shared."""
    face = cv2.resize(cv2.imread(ASTRONAUT)[:, :, ::-1], (256, 256))
    with VideoWriter(path, 25) as writer:
        for i in range(frames):
            matrix = cv2.getRotationMatrix2D((128, 128), 4 * np.sin(i), 1.0)
            writer.write(cv2.warpAffine(face, matrix, (256, 256), borderMode=cv2.BORDER_REPLICATE))
    return path


def test_input_errors_come_before_any_model_loads(tmp_path, capsys):
    clip = _moving_portrait_clip(tmp_path / "clip.mp4", 1)
    out = str(tmp_path / "never.mp4")
    missing_weights = ["--backend", "fomm", "--checkpoint", str(tmp_path / "no.pth.tar")]
    err = _fails(
        capsys, "--avatar", "gone.png", "--driving", str(clip), "-o", out, *missing_weights
    )
    assert "avatar image not found: gone.png" in err
    err = _fails(capsys, "--avatar", MONA, "--driving", str(clip), "-o", out, "--audio", "x.mp3")
    assert "audio file not found" in err
    assert not (tmp_path / "never.mp4").exists()


def test_mesh_backend_without_shared_data(tmp_path):
    pytest.importorskip("live_avatar.animators.mesh.animator")
    clip = _moving_portrait_clip(tmp_path / "clip.mp4")
    music = write_tone(tmp_path / "tune.wav", 0.5)
    out = tmp_path / "mesh.mp4"
    args = ["--avatar", MONA, "--driving", str(clip), "-o", str(out), "--backend", "mesh"]
    assert animate(*args, "--audio", str(music), "--layout", "side-by-side") == 0
    info = probe_video(out)
    assert (info.frame_count, info.fps, info.has_audio) == (4, 25.0, True)


def test_mesh_keeps_a_large_portraits_resolution_offline(tmp_path):
    """Live, portraits are reduced to 1280 px for real time; a clip made offline keeps the
    portrait's own size."""
    pytest.importorskip("live_avatar.animators.mesh.animator")
    clip = _moving_portrait_clip(tmp_path / "clip.mp4", 2)
    big = tmp_path / "big.png"
    cv2.imwrite(str(big), cv2.resize(cv2.imread(MONA), (1601, 1601)))
    out = tmp_path / "big.mp4"
    args = ["--avatar", str(big), "--driving", str(clip), "-o", str(out), "--backend", "mesh"]
    assert animate(*args) == 0
    info = probe_video(out)
    assert (info.width, info.height) == (1602, 1602)  # padded to even for the encoder


def test_mesh_avatar_without_a_face_names_the_file(tmp_path, capsys):
    pytest.importorskip("live_avatar.animators.mesh.animator")
    clip = _moving_portrait_clip(tmp_path / "clip.mp4", 1)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((256, 256, 3), 200, np.uint8))
    out = tmp_path / "never.mp4"
    err = _fails(capsys, "--avatar", str(blank), "--driving", str(clip), "-o", str(out),
                 "--backend", "mesh")  # fmt: skip
    assert str(blank) in err and "crop the picture tighter" in err
    assert not out.exists()
