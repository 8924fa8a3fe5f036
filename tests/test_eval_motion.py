"""`live-avatar eval-motion` and the motion-fidelity measures, on real faces."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from live_avatar import motion_metrics as mm
from live_avatar.cli import main
from live_avatar.face.landmarks import find_portrait_landmarks
from live_avatar.motion_eval import evaluate

REPO = Path(__file__).resolve().parent.parent
ASTRONAUT = REPO / "avatars" / "astronaut.png"
MONA = REPO / "avatars" / "mona_lisa.jpg"
CLIP = Path(__file__).resolve().parent / "data" / "mesh_drive.mp4"


def test_pearson_and_psnr():
    a = np.arange(10.0)
    assert mm.pearson(a, 2 * a + 1) == pytest.approx(1.0)
    assert mm.pearson(a, -a) == pytest.approx(-1.0)
    assert np.isnan(mm.pearson(a, np.ones(10)))
    image = np.full((8, 8, 3), 100, np.uint8)
    assert mm.psnr(image, image) == float("inf")
    assert mm.psnr(image, image + 1) == pytest.approx(48.13, abs=0.01)
    with pytest.raises(ValueError, match="differ in shape"):
        mm.psnr(image, image[:4])


def test_measures_on_a_real_face_follow_a_known_roll():
    from live_avatar.avatars import load_avatar

    face = load_avatar(ASTRONAUT)
    reference = find_portrait_landmarks(face)
    upright = mm.measure(reference, reference)
    centre = (face.shape[1] / 2, face.shape[0] / 2)
    turned = cv2.warpAffine(face, cv2.getRotationMatrix2D(centre, -12, 1.0), face.shape[1::-1])
    rolled = mm.measure(find_portrait_landmarks(turned), reference)
    assert rolled["roll"] - upright["roll"] == pytest.approx(12, abs=2)
    # opening measures do not depend on the roll
    assert rolled["eyes"] == pytest.approx(upright["eyes"], abs=0.05)
    assert rolled["mouth"] == pytest.approx(upright["mouth"], abs=0.02)
    assert 0.15 < upright["eyes"] < 0.6 and upright["yaw"] == pytest.approx(0, abs=1e-6)
    # an in-plane roll is no turn
    assert abs(rolled["yaw"]) < 3


def test_unscored_when_the_driver_barely_moves():
    still = [{"mouth": 0.01, "eyes": 0.3, "roll": 0.1 * i % 0.3, "yaw": 0.0} for i in range(20)]
    scores = {s.name: s for s in mm.score(still, still)}
    assert not scores["roll"].scored and scores["roll"].passed
    assert np.isnan(scores["mouth"].r)


def test_evaluate_committed_clip():
    result = evaluate(str(ASTRONAUT), str(CLIP), max_frames=30)
    channels = {c["name"]: c for c in result.channels}
    assert result.frames == 30 and result.driver_faces == 30 and result.generated_faces == 30
    assert channels["mouth"]["scored"] and channels["mouth"]["r"] >= 0.9
    assert channels["roll"]["scored"] and channels["roll"]["r"] >= 0.95
    assert result.identity_psnr >= 40 and result.return_psnr >= 40


def test_command_prints_and_writes_json(tmp_path, capsys):
    out = tmp_path / "figures.json"
    strip = tmp_path / "strip.png"
    args = ["eval-motion", "--avatar", str(MONA), "--driving", str(CLIP), "--max-frames", "16"]
    assert main([*args, "--json", str(out), "--strip", str(strip)]) == 0
    printed = capsys.readouterr().out
    assert "mouth" in printed and "identity at calibration" in printed
    data = json.loads(out.read_text())
    assert data[0]["frames"] == 16 and {c["name"] for c in data[0]["channels"]} == set(mm.CHANNELS)
    assert cv2.imread(str(strip)) is not None


def test_command_rejects_a_face_free_avatar(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 90, np.uint8))
    assert main(["eval-motion", "--avatar", str(blank), "--driving", str(CLIP)]) == 2
    assert "no face found in the avatar" in capsys.readouterr().err


# --- real portraits x real driving videos (../shared) -------------------------------------------
# (portrait, driving video, frames): each scored channel must reach its target
REAL = [
    ("skimage_astronaut_eileen_collins.png", "lp_d18.mp4", 150),
    ("afy_mona_lisa_face.jpg", "lp_d0.mp4", 78),
    ("lp_s8_raphael_la_velata.jpg", "lp_s18_uncropped_1280x720.mp4", 120),
]


def _shortfalls(result, skip=()) -> list[str]:
    return [
        f"{c['name']} r={c['r']:.3f} < {c['target']}"
        for c in result.channels
        if c["scored"] and c["r"] < c["target"] and c["name"] not in skip
    ]


@pytest.mark.parametrize(("portrait", "driving", "frames"), REAL)
def test_fidelity_on_real_portraits_and_videos(
    portraits_dir, driving_dir, portrait, driving, frames
):
    result = evaluate(str(portraits_dir / portrait), str(driving_dir / driving), max_frames=frames)
    assert result.identity_psnr >= 40 and result.return_psnr >= 40
    assert any(c["scored"] for c in result.channels)
    assert not _shortfalls(result)


@pytest.fixture(scope="module")
def talking():
    """Raphael driven by the interview clip (head turns and tilts, speech that starts
    mid-sentence), evaluated once for the tests below."""
    from conftest import shared_path

    portrait = shared_path("data", "portraits", "lp_s8_raphael_la_velata.jpg")
    driving = shared_path("data", "driving", "tpsmm_driving.mp4")
    return evaluate(str(portrait), str(driving))


def test_head_motion_and_eyes_on_a_talking_head(talking):
    scored = {c["name"] for c in talking.channels if c["scored"]}
    assert {"roll", "yaw", "eyes"} <= scored
    assert not _shortfalls(talking, skip=("mouth",))


def test_a_mid_sentence_calibration_opens_the_avatars_mouth_with_it(talking):
    """The clip's first frame is mid-sentence: not a neutral pose, so identity is not scored
    there; the avatar's mouth opens as the driver's, at the start and when that frame comes
    back at the end."""
    assert not talking.neutral_calibration and talking.calibration_mouth > 0.04
    assert talking.passed  # every channel on target; identity and return not scored here
    assert 25 < talking.identity_psnr < 40  # the mouth differs, the rest is the avatar
    assert 25 < talking.return_psnr < 40


def test_mouth_on_a_talking_head(talking):
    """Speech-sized openings show, from the first frame on."""
    assert not [s for s in _shortfalls(talking) if s.startswith("mouth")]


def test_a_moustache_hiding_the_mouth_on_a_grayscale_close_up(portraits_dir, driving_dir, tmp_path):
    """A carved mouth under a moustache, grey and cropped close: speech-sized openings must
    still show (the animator opens such a mouth wider), in grey."""
    from live_avatar.avatars import load_avatar

    statue = load_avatar(portraits_dir / "lp_s6_terracotta_warrior_statue.jpg")
    points = find_portrait_landmarks(statue)
    (x0, y0), (x1, y1) = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    side, cx, cy = 1.05 * (y1 - y0), (x0 + x1) / 2, (y0 + y1) / 2
    close_up = statue[
        int(cy - side / 2) : int(cy + side / 2), int(cx - side / 2) : int(cx + side / 2)
    ]
    path = tmp_path / "statue_grey_close_up.png"
    cv2.imwrite(str(path), cv2.cvtColor(close_up, cv2.COLOR_RGB2GRAY))
    result = evaluate(str(path), str(driving_dir / "lp_d0.mp4"))
    assert result.identity_psnr >= 40 and result.return_psnr >= 40
    assert not _shortfalls(result, skip=("eyes",))  # stone eyes: see the closing note
    mouth = {c["name"]: c for c in result.channels}["mouth"]
    assert mouth["scored"] and mouth["r"] >= 0.95
