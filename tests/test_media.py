"""Video and audio files: probe, read, write mp4 with audio, PNG folders, safe finalising."""

from __future__ import annotations

import itertools

import av
import numpy as np
import pytest

from live_avatar.errors import InputFileError
from live_avatar.media import VideoWriter, probe_video, read_frames, write_tone


def _frames(count, height=37, width=51):
    # odd sizes on purpose: H.264 yuv420p needs even ones
    rng = np.random.default_rng(1)
    return [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def _audio_seconds(path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base)


def test_probe_and_read_real_video(driving_dir):
    info = probe_video(driving_dir / "tpsmm_driving.mp4")
    assert (info.fps, info.frame_count, info.width, info.height) == (25.0, 169, 410, 412)
    assert info.has_audio
    first = next(read_frames(driving_dir / "tpsmm_driving.mp4"))
    assert first.shape == (412, 410, 3) and first.dtype == np.uint8


def test_mp4_with_driving_audio_trimmed(driving_dir, tmp_path):
    source = driving_dir / "lp_d18.mp4"
    frames = list(itertools.islice(read_frames(source), 15))
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 30, audio_from=source) as writer:
        for frame in frames:
            writer.write(frame[:-1, :-3])  # 479x477
    info = probe_video(out)
    assert (info.frame_count, info.fps, info.has_audio) == (15, 30.0, True)
    assert (info.width, info.height) == (478, 480)  # padded to even
    assert _audio_seconds(out) == pytest.approx(0.5, abs=0.03)
    assert not list(tmp_path.glob(".*partial"))


def test_music_is_looped_to_the_video_length(tmp_path):
    music = write_tone(tmp_path / "song.m4a", 0.4)
    out = tmp_path / "looped.mp4"
    with VideoWriter(out, 25, audio_file=music) as writer:
        for frame in _frames(30):
            writer.write(frame)
    assert probe_video(out).frame_count == 30
    assert _audio_seconds(out) == pytest.approx(1.2, abs=0.03)


def test_no_audio_and_silent_driving(tmp_path):
    out = tmp_path / "silent.mp4"
    with VideoWriter(out, 10) as writer:
        writer.write(_frames(1)[0])
    assert not probe_video(out).has_audio


def test_png_folder_is_lossless_and_reads_back_sorted(tmp_path):
    frames = _frames(3)
    with VideoWriter(tmp_path / "frames", 25) as writer:
        for frame in frames:
            writer.write(frame)
    back = list(read_frames(tmp_path / "frames"))
    assert len(back) == 3 and all(np.array_equal(a, b) for a, b in zip(frames, back, strict=True))
    assert probe_video(tmp_path / "frames").frame_count == 3


def test_folder_frames_in_natural_name_order(tmp_path):
    import cv2

    for index in (10, 9, 1):  # 10 would sort before 9 as plain text
        cv2.imwrite(str(tmp_path / f"f{index}.png"), np.full((4, 4, 3), index, np.uint8))
    assert [int(f[0, 0, 0]) for f in read_frames(tmp_path)] == [1, 9, 10]


def test_oversized_frames_are_scaled_to_a_playable_mp4_and_kept_as_pngs(tmp_path, caplog):
    """H.264 level 5.1 (common players and hardware decoders): at most 4096 px a side and
    36,864 macroblocks; a 'full' layout of a large portrait is far wider."""
    wide = np.zeros((1000, 5000, 3), np.uint8)
    wide[:, 2500:] = 255  # the right half white: the scaling keeps the picture
    with caplog.at_level("WARNING"):
        with VideoWriter(tmp_path / "wide.mp4", 25) as writer:
            writer.write(wide)
    info = probe_video(tmp_path / "wide.mp4")
    assert (info.width, info.height) == (4096, 818)
    assert "scaled to 4096x818" in caplog.text
    frame = next(iter(read_frames(tmp_path / "wide.mp4")))
    assert frame[:, :2000].mean() < 10 and frame[:, 2100:].mean() > 245
    square = np.zeros((3000, 3000, 3), np.uint8)
    with VideoWriter(tmp_path / "square.mp4", 25) as writer:
        writer.write(square)
    info = probe_video(tmp_path / "square.mp4")
    assert -(-info.width // 16) * -(-info.height // 16) <= 36864 and info.width == info.height
    with VideoWriter(tmp_path / "frames", 25) as writer:  # PNGs keep every pixel
        writer.write(wide)
    assert next(iter(read_frames(tmp_path / "frames"))).shape == (1000, 5000, 3)
    with VideoWriter(tmp_path / "uhd.mp4", 25) as writer:  # 3840x2160 is within: unchanged
        writer.write(np.zeros((2160, 3840, 3), np.uint8))
    uhd = probe_video(tmp_path / "uhd.mp4")
    assert (uhd.width, uhd.height) == (3840, 2160)


def test_error_leaves_no_file_and_ctrl_c_finalises(tmp_path):
    out = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 25) as writer:
            writer.write(_frames(1)[0])
            raise RuntimeError("animator failed")
    assert not out.exists() and not list(tmp_path.iterdir())
    out = tmp_path / "interrupted.mp4"
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(out, 25) as writer:
            for frame in _frames(4):
                writer.write(frame)
            raise KeyboardInterrupt
    assert probe_video(out).frame_count == 4


def test_bad_inputs(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        probe_video(tmp_path / "missing.mp4")
    fake = tmp_path / "fake.mp4"
    fake.write_text("hello")
    with pytest.raises(InputFileError, match="cannot read .*fake.mp4 as a video"):
        list(read_frames(fake))
    with pytest.raises(InputFileError, match="unsupported output"):
        VideoWriter(tmp_path / "out.gif", 25)
    with pytest.raises(InputFileError, match="audio file not found"):
        VideoWriter(tmp_path / "out.mp4", 25, audio_file=tmp_path / "none.mp3")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="no image files"):
        probe_video(tmp_path / "empty")
    with pytest.raises(ValueError, match="expected HxWx3 uint8"):
        VideoWriter(tmp_path / "x.mp4", 25).write(np.zeros((4, 4), dtype=np.uint8))


@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_phone_video_is_read_upright(tmp_path, rotation):
    """Phones store portrait video as landscape frames plus a display rotation."""
    from conftest import write_turned_clip

    path, stored = write_turned_clip(tmp_path / "phone.mp4", rotation)
    expected = np.rot90(stored, rotation // 90)  # counter-clockwise quarter turns
    frames = list(read_frames(path))
    assert len(frames) == 3
    assert frames[0].shape == expected.shape
    assert np.abs(frames[0].astype(int) - expected).max() < 40
    info = probe_video(path)
    assert (info.width, info.height) == (expected.shape[1], expected.shape[0])
