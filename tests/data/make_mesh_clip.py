"""Regenerates mesh_drive.mp4 + mesh_drive.json: a short driving clip with known mouth opening
and head roll, made from the bundled Mona Lisa face (public domain artwork).

Run from the repository root: `.venv/bin/python tests/data/make_mesh_clip.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from live_avatar.animators.mesh.animator import MeshAnimator
from live_avatar.avatars import load_avatar
from live_avatar.face.crop import crop_square, face_box_from_landmarks
from live_avatar.media import VideoWriter

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent / "avatars" / "mona_lisa.jpg"
FRAMES, FPS, SIZE = 40, 15, 224


def series() -> tuple[np.ndarray, np.ndarray]:
    """Known mouth opening (face heights beyond rest) and roll (degrees) per frame."""
    t = np.arange(FRAMES) / FPS
    mouth = 0.12 * np.clip(np.sin(2 * np.pi * 0.55 * t), 0, None) ** 1.5
    roll = 9.0 * np.sin(2 * np.pi * 0.3 * t + 0.6) * np.clip(t / 0.6, 0, 1)
    mouth[:3] = 0.0  # starts at rest: a clean calibration frame
    mouth[-4:], roll[-4:] = 0.0, 0.0  # ... and returns to it
    return mouth, roll


def main() -> None:
    face = MeshAnimator()
    face.set_avatar(load_avatar(SOURCE))
    rest = face._points.copy()
    box = face_box_from_landmarks(rest, scale=1.9)
    mouth, roll = series()
    with VideoWriter(HERE / "mesh_drive.mp4", fps=FPS) as writer:
        for opening, angle in zip(mouth, roll, strict=True):
            points = rest.copy()
            face._mouth.open_to(points, float(opening))
            moved = face.render(points, face._anchors[:, :2], float(opening))
            centre = tuple(float(v) for v in rest[[33, 263], :2].mean(axis=0))
            turn = cv2.getRotationMatrix2D(centre, -angle, 1.0)  # image y down: -angle = roll
            moved = cv2.warpAffine(moved, turn, moved.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
            writer.write(crop_square(moved, box, SIZE))
    data = {"fps": FPS, "mouth": mouth.round(4).tolist(), "roll": roll.round(3).tolist()}
    (HERE / "mesh_drive.json").write_text(json.dumps(data) + "\n")


if __name__ == "__main__":
    main()
