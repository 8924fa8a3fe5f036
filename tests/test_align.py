"""Landmark normalisation and best-frame search, on real faces from a driving video."""

from __future__ import annotations

import itertools

import numpy as np

from live_avatar.face.align import best_frame_index, normalize_landmarks, pose_distance


def _rotate(points, degrees):
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return points[:, :2] @ rot.T


def test_normalisation_removes_translation_scale_rotation():
    rng = np.random.default_rng(0)
    face = rng.normal(size=(478, 3)) * 50 + 200
    moved = _rotate(face, 25) * 1.7 + (30, -40)
    assert pose_distance(face, moved) < 1e-9
    assert pose_distance(face, rng.normal(size=(478, 3))) > 0.1
    shape = normalize_landmarks(face)
    assert shape.shape == (478, 2)
    assert np.allclose(shape.mean(axis=0), 0)


def test_best_frame_finds_the_matching_real_face(driving_dir):
    from live_avatar.face.landmarks import FaceLandmarker
    from live_avatar.media import read_frames

    frames = list(itertools.islice(read_frames(driving_dir / "lp_d18.mp4"), 0, 120, 20))
    with FaceLandmarker(static_image=True) as landmarker:
        found = [landmarker(frame) for frame in frames]
    assert all(lm is not None for lm in found)
    # the avatar is frame 3, shifted, scaled and rotated: it must still be picked
    avatar = _rotate(found[3], -15) * 0.6 + 100
    assert best_frame_index(avatar, [None, *found]) == 4
    assert best_frame_index(avatar, [None, None]) is None
