"""A drawn face's mouth, found in the picture where the face mesh misplaces it, and the lower
face refitted to it (see live_avatar/animators/mesh/drawn.py). The pictures here are drawn
over a real face's landmarks: a flat face with a small open mouth and a chin line drawn
above where the mesh put the lips and chin, as on an anime face."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from live_avatar.animators.mesh.drawn import (
    drawn_gain,
    find_drawn_mouth,
    fit_drawn_mouth,
    misplaced_mouth,
)
from live_avatar.animators.mesh.topology import CHIN, EYES, face_axes, face_triangles
from live_avatar.avatars import load_avatar
from live_avatar.face.landmarks import find_portrait_landmarks

AVATAR = Path(__file__).resolve().parent.parent / "avatars" / "mona_lisa.jpg"
SKIN = (250, 226, 206)


@pytest.fixture(scope="module")
def landmarks() -> tuple[np.ndarray, tuple[int, int]]:
    """The Mona Lisa's face-mesh points and her picture's (height, width)."""
    image = load_avatar(AVATAR)
    points = find_portrait_landmarks(image)
    assert points is not None
    return points.astype(np.float64), image.shape[:2]


def _drawn_face(landmarks, mouth: str = "open"):
    """A flat face over the landmarks' picture size, its mouth drawn halfway between the nose
    tip and the mesh's lips, a third as wide as the mesh's mouth, and its chin outline drawn
    halfway between the mesh's lower lip and chin. Returns (image, mouth centre, (half
    width, half height), chin row)."""
    points, (height, width) = landmarks
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = SKIN
    xy = points[:, :2]
    centre = (xy[1] + xy[[13, 14]].mean(axis=0)) / 2
    half_width = 0.33 * np.linalg.norm(xy[291] - xy[61]) / 2
    half_height = 0.45 * half_width if mouth == "open" else 0.12 * half_width
    axes = (int(round(half_width)), int(round(half_height)))
    middle = tuple(int(round(c)) for c in centre)
    if mouth == "smile":  # a closed smile: the lower half of a round curve, a line thick
        axes = (axes[0], axes[0] // 2)
        cv2.ellipse(image, middle, axes, 0, 10, 170, (90, 40, 30), 2)
    else:
        cv2.ellipse(image, middle, axes, 0, 0, 360, (200, 90, 90), -1)
        cv2.ellipse(image, middle, axes, 0, 0, 360, (90, 40, 30), 2)
    chin_row = (xy[17, 1] + xy[CHIN, 1]) / 2
    chin_axes = (int(round(2 * half_width)), int(round(half_width)))
    cv2.ellipse(image, (middle[0], int(round(chin_row - half_width))), chin_axes, 0, 20, 160,
                (120, 70, 50), 2)
    return image, centre, (half_width, half_height), chin_row


def test_a_drawn_mouth_is_found_where_it_is_drawn(landmarks):
    points, _ = landmarks
    image, centre, (half_width, half_height), chin_row = _drawn_face(landmarks)
    mouth = find_drawn_mouth(image, points)
    assert mouth is not None
    fitted = fit_drawn_mouth(points, mouth)
    # the outer lips' corners and middles land on the drawn mouth's edges
    assert np.abs(fitted[61, :2] - (centre - (half_width, 0))).max() < 3.0
    assert np.abs(fitted[291, :2] - (centre + (half_width, 0))).max() < 3.0
    assert abs(fitted[0, 1] - (centre[1] - half_height)) < 2.5
    assert abs(fitted[17, 1] - (centre[1] + half_height)) < 2.5
    # an open drawn mouth: the inner lips lie just inside its edges, apart
    assert fitted[14, 1] - fitted[13, 1] > 0.8 * half_height
    # the mesh's chin goes up to the drawn chin line
    assert abs(fitted[CHIN, 1] - chin_row) < 3.0 < points[CHIN, 1] - chin_row
    # the eyes stay, and no triangle of the face mesh turns over
    eyes = [i for eye in EYES for i in eye.points]
    assert np.abs(fitted[eyes] - points[eyes]).max() < 1e-9
    triangles = face_triangles()

    def signed_areas(xy):
        a, b, c = xy[triangles[:, 0]], xy[triangles[:, 1]], xy[triangles[:, 2]]
        return np.cross(b - a, c - a)

    before, after = signed_areas(points[:, :2]), signed_areas(fitted[:, :2])
    # (the lips' bands become slivers: a drawing's lips are lines)
    flipped = (np.sign(before) != np.sign(after)) & (np.minimum(abs(before), abs(after)) > 2.0)
    assert not flipped.any(), np.flatnonzero(flipped)
    # a mouth drawn a third of the mesh's width takes about a third of the driver's opening
    assert 0.3 <= drawn_gain(points, fitted) < 0.45


@pytest.mark.parametrize("shape", ["line", "smile"])
def test_a_closed_drawn_mouth_keeps_its_lips_together(landmarks, shape):
    """A flat closed mouth, or a smile's curve (its box as tall as an open mouth's), is
    fitted closed: the inner lips meet along the drawn line."""
    points, _ = landmarks
    image, centre, (half_width, _), _ = _drawn_face(landmarks, mouth=shape)
    mouth = find_drawn_mouth(image, points)
    assert mouth is not None
    fitted = fit_drawn_mouth(points, mouth)
    assert abs(fitted[14, 1] - fitted[13, 1]) < 0.5
    # in the middle, the smile's curve lies half a half-width below its centre
    line = centre[1] + (0.5 * half_width if shape == "smile" else 0.0)
    assert abs(fitted[13, 1] - line) < 2.0


def test_a_face_with_no_drawn_mouth_gives_none(landmarks):
    points, (height, width) = landmarks
    flat = np.zeros((height, width, 3), np.uint8)
    flat[:] = SKIN
    assert find_drawn_mouth(flat, points) is None
    # a mark as small as a drawn nose is not a mouth
    dot = flat.copy()
    nose = tuple(int(round(c)) for c in points[1, :2])
    cv2.circle(dot, nose, 1, (120, 70, 50), -1)
    assert find_drawn_mouth(dot, points) is None


def test_the_band_follows_a_tilted_face(landmarks):
    """Found in the face's own axes: the same drawing turned with its landmarks by 20
    degrees gives the same mouth."""
    points, (height, width) = landmarks
    image, _, _, _ = _drawn_face(landmarks)
    upright = find_drawn_mouth(image, points)
    centre = (width / 2, height / 2)
    turn = cv2.getRotationMatrix2D(centre, 20, 1.0)
    turned_image = cv2.warpAffine(image, turn, (width, height), borderValue=SKIN)
    turned = points.copy()
    turned[:, :2] = points[:, :2] @ turn[:, :2].T + turn[:, 2]
    assert abs(face_axes(turned[:, :2])[0] @ (1, 0) - np.cos(np.radians(20))) < 0.05
    found = find_drawn_mouth(turned_image, turned)
    assert found is not None
    for name in ("left", "right", "top", "bottom"):
        assert abs(getattr(found, name) - getattr(upright, name)) < 1.5, name


def test_a_mouth_is_refitted_only_where_the_mesh_misplaces_it(landmarks):
    """A face mesh that reads the mouth and leaves the chin its length fits the face: its
    lips stay, whatever the picture shows. One that does not read the mouth, or squeezed the
    chin under lips drawn lower than the mouth (as on a drawn face's short lower face), is
    refitted."""
    points, _ = landmarks
    image, _, _, _ = _drawn_face(landmarks)
    assert misplaced_mouth(image, points, seen=True) is None
    assert misplaced_mouth(image, points, seen=False) is not None
    # the chin squeezed up under the lower lip, to a tenth of its length
    _, down, _ = face_axes(points[:, :2])
    below = (points[:, :2] - points[17, :2]) @ down
    squeezed = points.copy()
    squeezed[:, :2] -= np.outer(np.clip(below, 0, None) * 0.9, down)
    assert misplaced_mouth(image, squeezed, seen=True) is not None


def test_a_drawn_face_eyes_turn_flat(landmarks):
    """Around each eye the depth is one level (the eye turns as one piece); far from the eyes
    it is the face mesh's, and nothing moves across the picture."""
    from live_avatar.animators.mesh.eyes import FLAT_EYE_INNER, FLAT_EYE_OUTER, flatten_eye_depth

    points = landmarks[0]
    flat = flatten_eye_depth(points)
    assert np.array_equal(flat[:, :2], points[:, :2])
    far = np.ones(len(points), bool)
    for eye in EYES:
        width = np.linalg.norm(points[eye.inner, :2] - points[eye.outer, :2])
        distance = np.linalg.norm(points[:, :2] - points[eye.iris[0], :2], axis=1) / width
        near = distance < FLAT_EYE_INNER
        assert np.ptp(points[near, 2]) > 0.05 * width  # the mesh gives the socket depth
        assert np.ptp(flat[near, 2]) < 1e-6 * width
        far &= distance > FLAT_EYE_OUTER
    assert far[[13, 14, CHIN]].all()  # lips and chin are far from both eyes
    assert np.array_equal(flat[far], points[far])


def _drawn_eyes(landmarks):
    """A flat face with anime eyes over the landmarks' picture: each a round orange iris as
    wide as the mesh's eye is long, its top on the mesh's upper lid, so that its lower half
    lies below the mesh's lower lid; a dark lash line along the upper lid."""
    points, (height, width) = landmarks
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = SKIN
    xy = points[:, :2]
    for eye in EYES:
        eye_width = np.linalg.norm(xy[eye.inner] - xy[eye.outer])
        top = xy[eye.lid_pair[0]]
        centre = tuple(int(round(c)) for c in (top[0], top[1] + 0.45 * eye_width))
        cv2.circle(image, centre, int(round(0.45 * eye_width)), (230, 150, 40), -1)
        lid = np.round(xy[[eye.outer, *eye.upper, eye.inner]]).astype(np.int32)
        cv2.polylines(image, [lid], False, (40, 25, 20), 2)
    return image


def test_a_drawn_eye_is_covered_below_the_mesh_lid_as_it_shuts(landmarks):
    """What a drawn eye shows below the face mesh's lower lid is found, left as it is while
    the eye is open, and covered in the skin's colour once it is shut."""
    from live_avatar.animators.mesh.eyes import EyeTransfer, drawn_eye_cover

    points = landmarks[0]
    image = _drawn_eyes(landmarks)
    cover = drawn_eye_cover(image, points)
    assert cover.found and all(patch is not None for patch in cover.patches)
    assert cover.covered(image, points) is image  # open: nothing to cover
    transfer = EyeTransfer(points)
    for fraction, most_covered in ((0.5, False), (0.0, True)):
        shutting = points.copy()
        transfer.apply(shutting, [fraction, fraction])
        out = cover.covered(image, shutting)
        for eye in EYES:
            eye_width = np.linalg.norm(points[eye.inner, :2] - points[eye.outer, :2])
            x, y = np.round(points[eye.lid_pair[1], :2] + (0, 0.3 * eye_width)).astype(int)
            below = out[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).astype(float)
            skin_distance = np.abs(below - SKIN).max()
            if most_covered:
                assert skin_distance < 8, eye.lid_pair  # under the lid: skin
            else:
                assert skin_distance > 40, eye.lid_pair  # half shut: the iris still shows
    assert np.array_equal(out[: int(points[:, 1].min())], image[: int(points[:, 1].min())])
