"""The live loop end to end, headless, on a real driving video standing in for the webcam:
`--camera clip.mp4 --output out.mp4 --no-preview --max-frames N`, plus the errors a user can
cause (each one line, exit status 2)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from live_avatar.app import LiveApp
from live_avatar.cli import main
from live_avatar.config import LiveSettings

WEBCAM = ("data", "driving", "lp_s18_uncropped_1280x720.mp4")
SIZE = (320, 180)


def read_video(path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture
def webcam_clip():
    from conftest import shared_path

    return shared_path(*WEBCAM)


@pytest.fixture
def mona(portraits_dir):
    return portraits_dir / "afy_mona_lisa_face.jpg"


def test_headless_run_writes_animated_frames(webcam_clip, mona, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    status = main(["--camera", str(webcam_clip), "--avatar", str(mona), "--output", str(out),
                   "--output-size", "320x180", "--no-preview", "--max-frames", "24",
                   "--avatars-dir", str(tmp_path)])
    assert status == 0
    err = capsys.readouterr().err
    assert "animator: mesh" in err and "no FOMM checkpoint" in err  # says what and why
    assert "24 frames" in err and "latency median" in err
    frames = read_video(out)
    assert len(frames) == 24
    assert frames[0].shape == (180, 320, 3)
    # the portrait is letterboxed into 16:9 over a darker blurred backdrop, not squashed
    middle, side = frames[-1][:, 110:210], frames[-1][:, :40]
    assert middle.mean() > side.mean() + 10
    # the face moves: the portrait changes over the clip, not one still picture
    first = frames[0][:, 110:210].astype(int)
    assert max(np.abs(f[:, 110:210] - first).max() for f in frames) > 20


def _clip_with_face_then_empty(source, path, face_frames=30, empty_frames=45):
    capture = cv2.VideoCapture(str(source))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 360))
    for _ in range(face_frames):
        ok, frame = capture.read()
        assert ok
        writer.write(cv2.resize(frame, (640, 360)))
    empty = np.full((360, 640, 3), 90, dtype=np.uint8)  # the user left: an empty room
    for _ in range(empty_frames):
        writer.write(empty)
    writer.release()
    capture.release()


def test_face_lost_eases_back_to_the_neutral_avatar(webcam_clip, mona, tmp_path):
    clip = tmp_path / "leaves.mp4"
    _clip_with_face_then_empty(webcam_clip, clip)
    out = tmp_path / "out.mp4"
    settings = LiveSettings(avatars=[str(mona)], avatars_dir=str(tmp_path), preview=False)
    settings.capture.source = str(clip)
    settings.output.outputs, settings.output.size = [str(out)], SIZE
    app = LiveApp(settings)
    assert app.run() == 0  # the clip ends, the loop stops by itself
    frames = read_video(out)
    neutral = app.compositor(app.neutral).astype(int)
    # 1.5 s without a face: the last frames are the avatar at rest, all alike
    for frame in frames[-5:]:
        assert np.abs(frame.astype(int) - neutral).mean() < 3
    # and on the way there every frame stays a blend of real outputs (no black, no garbage)
    assert min(f.mean() for f in frames) > 0.5 * neutral.mean()


def test_missing_avatar_is_one_line(webcam_clip, tmp_path, capsys):
    status = main(["--camera", str(webcam_clip), "--avatar", str(tmp_path / "nobody.png"),
                   "--output", "none", "--no-preview", "--avatars-dir", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("live-avatar: error:") and "nobody.png" in err[-1]


def test_avatar_without_a_face_is_one_line(webcam_clip, tmp_path, capsys):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((256, 256, 3), 200, dtype=np.uint8))
    status = main(["--camera", str(webcam_clip), "--avatar", str(blank), "--output", "none",
                   "--no-preview", "--avatars-dir", str(tmp_path / "none")])
    assert status == 2
    err = capsys.readouterr().err
    assert "no face found in avatar" in err and "Traceback" not in err


def test_no_avatar_at_all(tmp_path, capsys):
    status = main(["--camera", "0", "--output", "none", "--no-preview",
                   "--avatars-dir", str(tmp_path)])
    assert status == 2
    assert "no avatar" in capsys.readouterr().err


def test_missing_camera_is_one_line(mona, tmp_path, capsys):
    status = main(["--camera", "63", "--avatar", str(mona), "--output", "none", "--no-preview",
                   "--avatars-dir", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err
    assert "camera 63" in err and "cameras that work" in err


def test_unknown_output_is_one_line(webcam_clip, mona, tmp_path, capsys):
    status = main(["--camera", str(webcam_clip), "--avatar", str(mona), "--output", "beamer",
                   "--no-preview", "--avatars-dir", str(tmp_path)])
    assert status == 2
    assert "unknown output 'beamer'" in capsys.readouterr().err


def test_vcam_missing_without_preview_says_how_to_fix(webcam_clip, mona, tmp_path, capsys):
    from pyvirtualcam.camera import BACKENDS

    if "v4l2loopback" not in BACKENDS:
        pytest.skip("the v4l2loopback case is a Linux one")
    status = main(["--camera", str(webcam_clip), "--avatar", str(mona), "--output", "vcam",
                   "--no-preview", "--avatars-dir", str(tmp_path),
                   "--vcam-device", "/dev/video63"])
    err = capsys.readouterr().err
    assert status == 2
    assert "modprobe v4l2loopback" in err and "Traceback" not in err


def test_settings_yaml_and_bad_sizes(tmp_path):
    from live_avatar.config import load_settings, parse_size
    from live_avatar.errors import UserError

    path = tmp_path / "live.yaml"
    path.write_text("mirror: true\noutput:\n  size: 640x360\n  fps: 15\n")
    settings = load_settings(path)
    assert settings.mirror and settings.output.size == (640, 360) and settings.output.fps == 15
    path.write_text("outptu: {}\n")
    with pytest.raises(UserError, match="unknown setting 'outptu'"):
        load_settings(path)
    with pytest.raises(UserError, match="WIDTHxHEIGHT"):
        parse_size("big")


def test_fomm_backend_runs_the_same_loop(webcam_clip, mona, fixture_a, tmp_path, capsys):
    pytest.importorskip("live_avatar.animators.fomm.animator")
    out = tmp_path / "fomm.mp4"
    status = main(["--camera", str(webcam_clip), "--loop", "--avatar", str(mona),
                   "--avatars-dir", str(tmp_path), "--backend", "fomm", "--device", "cpu",
                   "--checkpoint", str(fixture_a / "checkpoint.pth.tar"),
                   "--config", str(fixture_a / "config.yaml"), "--output", str(out),
                   "--output-size", "320x180", "--no-preview", "--max-frames", "3"])
    assert status == 0
    assert "animator: fomm (chosen with --backend)" in capsys.readouterr().err
    frames = read_video(out)
    assert len(frames) == 3 and frames[0].shape == (180, 320, 3)
    # FOMM's square 256 output sits in the middle of the 16:9 frame
    assert frames[0][:, 100:220].mean() > 20


def test_missing_checkpoint_is_one_line(webcam_clip, mona, tmp_path, capsys):
    status = main(["--camera", str(webcam_clip), "--avatar", str(mona), "--backend", "fomm",
                   "--checkpoint", str(tmp_path / "none.pth.tar"), "--output", "none",
                   "--no-preview", "--avatars-dir", str(tmp_path)])
    assert status == 2
    assert "none.pth.tar" in capsys.readouterr().err


def test_list_cameras(capsys):
    assert main(["--list-cameras"]) == 0
    assert capsys.readouterr().out.strip()


def test_camera_unplugged_keeps_the_last_frame_and_resumes(webcam_clip, mona, tmp_path, capsys):
    # a 'camera' that stops: a source read as live whose file goes away, then comes back
    clip, away = tmp_path / "camera.mp4", tmp_path / "unplugged.mp4"
    capture = cv2.VideoCapture(str(webcam_clip))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 360))
    for _ in range(20):
        writer.write(cv2.resize(capture.read()[1], (640, 360)))
    writer.release()
    capture.release()
    settings = LiveSettings(avatars=[str(mona)], avatars_dir=str(tmp_path), preview=False)
    settings.capture.source, settings.capture.live = str(clip), True
    settings.output.outputs, settings.output.size = ["none"], SIZE
    app = LiveApp(settings)
    app.open()
    try:
        assert app.step()
        clip.rename(away)  # unplugged: once the open file ends, reopening fails
        for _ in range(40):
            assert app.step()  # the loop goes on
            if app._camera_gap:
                break
        assert app._camera_gap
        held = app.last_output.copy()
        frames = app.stats.frames
        assert app.step()
        assert app.stats.frames == frames + 1 and np.array_equal(app.last_output, held)
        away.rename(clip)  # plugged back in
        for _ in range(40):
            assert app.step()
            if not app._camera_gap:
                break
        assert not app._camera_gap
    finally:
        app.close()
    err = capsys.readouterr().err
    assert "camera stopped sending frames" in err and "camera is back" in err


def test_avatar_by_name_from_the_avatars_folder(portraits_dir):
    from live_avatar.app import AvatarList

    avatars = AvatarList(["afy_mona_lisa_face.jpg"], str(portraits_dir))
    assert avatars.paths[0] == portraits_dir / "afy_mona_lisa_face.jpg"
    assert len(avatars.paths) == len(set(avatars.paths)) == 8  # the folder's, no duplicate
