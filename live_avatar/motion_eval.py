"""How faithfully an animator follows a driving video: animate a portrait with a clip, run the
face mesh on the driving and the generated frames, and score mouth, eyes, roll and yaw
(`motion_metrics`), identity at calibration and the return to neutral. `live-avatar
eval-motion` prints what this measures."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

#: square side the driver's face crop and the generated face crop are measured at
MEASURE_SIZE = 384
#: frames the calibration pose is held after the clip before "return to neutral" is measured
SETTLE_FRAMES = 30


@dataclass
class Evaluation:
    """The figures for one avatar and one driving video."""

    avatar: str
    driving: str
    frames: int  # driving frames used
    driver_faces: int  # frames where the driver's face was found
    generated_faces: int  # generated frames where the face mesh found the avatar's face
    channels: list = field(default_factory=list)  # motion_metrics.ChannelScore as dicts
    identity_psnr: float = float("nan")  # output at the calibration frame vs the avatar, dB
    return_psnr: float = float("nan")  # after holding the calibration pose again, dB
    calibration_mouth: float = float("nan")  # the driver's mouth opening at calibration
    step_ms_median: float = float("nan")  # animator step time per frame
    step_ms_p95: float = float("nan")

    @property
    def neutral_calibration(self) -> bool:
        """Whether the calibration frame is a neutral pose: its mouth is not open wider than
        the mesh animator's "looks closed". Taken mid-sentence, the avatar opens its mouth
        with the driver's there, so identity and return (the avatar itself at that frame)
        are reported but not scored."""
        from live_avatar.animators.mesh.mouth import CLOSED_LOOKING

        return not self.calibration_mouth > CLOSED_LOOKING

    @property
    def passed(self) -> bool:
        channels_ok = all((not c["scored"]) or c["r"] >= c["target"] for c in self.channels)
        identity_ok = self.identity_psnr >= 40 and self.return_psnr >= 40
        return channels_ok and (identity_ok or not self.neutral_calibration)


def _avatar_for(animator, path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The avatar as the animator wants it: whole portrait, or a square face crop (FOMM),
    and its landmarks when already found."""
    from live_avatar.app import avatar_for_animator, load_avatar_with_face
    from live_avatar.avatars import load_avatar

    if not animator.crops_avatar:
        return load_avatar(path), None
    return avatar_for_animator(animator, load_avatar_with_face(Path(path)))


def _driver_box(frame: np.ndarray):
    """A fixed square crop box around the driver's face in the first frame."""
    from live_avatar.errors import NoFaceError
    from live_avatar.face.crop import face_box_from_landmarks
    from live_avatar.face.landmarks import find_portrait_landmarks

    points = find_portrait_landmarks(frame)
    if points is None:
        raise NoFaceError("no face found in the first driving frame")
    return face_box_from_landmarks(points, scale=2.2)  # room for the head to move


def evaluate(
    avatar_path: str,
    driving_path: str,
    backend: str = "mesh",
    max_frames: int = 0,
    settings: dict | None = None,
    strip_path: str | None = None,
) -> Evaluation:
    """Animate `avatar_path` with `driving_path` and measure how well the motion follows."""
    from live_avatar.animators import create_animator
    from live_avatar.console import about
    from live_avatar.errors import NoFaceError
    from live_avatar.face.crop import face_box_from_landmarks, upright_turns
    from live_avatar.face.landmarks import FaceLandmarker, find_portrait_landmarks
    from live_avatar.media import probe_video, read_frames

    animator = create_animator(backend, **(settings or {}))
    try:
        with about(avatar_path):
            animator.set_avatar(*_avatar_for(animator, avatar_path))
        neutral = animator.neutral()
        rest = find_portrait_landmarks(neutral)
        if rest is None:
            raise NoFaceError(
                f"{avatar_path}: the face mesh finds no face in the animator's avatar"
            )
        # a face on its side is measured turned upright, where the face mesh reads it
        generated_view = (face_box_from_landmarks(rest, scale=1.8), upright_turns(rest))
        with FaceLandmarker() as driver_mesh, FaceLandmarker() as generated_mesh:
            period = 1.0 / probe_video(driving_path).fps
            run_ = _ClipRun(animator, neutral, generated_view, driver_mesh, generated_mesh, period)
            frames = read_frames(driving_path)
            for index, frame in enumerate(frames):
                if max_frames and index >= max_frames:
                    break
                run_.step(frame)
            if hasattr(frames, "close"):
                frames.close()
        result = run_.result(avatar_path, driving_path)
        if strip_path:
            _save_strip(run_.strip, strip_path)
        return result
    finally:
        animator.close()


class _ClipRun:
    """Per-frame state of one evaluation: crop, animate, measure both faces."""

    def __init__(self, animator, neutral, generated_view, driver_mesh, generated_mesh, period):
        self.animator, self.neutral, self.generated_view = animator, neutral, generated_view
        self.driver_mesh, self.generated_mesh = driver_mesh, generated_mesh
        self.box = None
        self.calibration = None  # (crop, landmarks) of the neutral pose
        self.references = None  # (driver, generated) landmarks of the first measured frame
        self.driving, self.generated, self.times, self.strip = [], [], [], []
        self.frames = 0
        self.period = period  # seconds between driving frames
        self.identity_psnr = float("nan")

    def step(self, frame: np.ndarray) -> None:
        from live_avatar import motion_metrics as mm
        from live_avatar.face.crop import crop_square

        if self.box is None:
            self.box = _driver_box(frame)
        size = self.animator.driving_size or MEASURE_SIZE
        crop = crop_square(frame, self.box, size)
        points = self.driver_mesh(crop)
        self.frames += 1
        if points is None:
            self.driving.append(mm.measure(None))
            self.generated.append(mm.measure(None))
            return
        if self.calibration is None:
            self.animator.calibrate(crop, points)
            self.calibration = (crop, points)
        start = time.perf_counter()
        out = self.animator.animate(crop, points, self.frames * self.period)
        self.times.append(time.perf_counter() - start)
        if len(self.times) == 1:
            self.identity_psnr = mm.psnr(out, self.neutral)
        box, turns = self.generated_view
        face = np.ascontiguousarray(np.rot90(crop_square(out, box, MEASURE_SIZE), turns))
        generated = self.generated_mesh(face)
        if self.references is None and generated is not None:
            self.references = (points, generated)  # the yaw is measured against these
        driver_ref, generated_ref = self.references or (None, None)
        self.driving.append(mm.measure(points, driver_ref))
        self.generated.append(mm.measure(generated, generated_ref))
        if len(self.strip) < 8 and self.frames % 12 == 1:
            self.strip.append((crop, face))

    def result(self, avatar_path: str, driving_path: str) -> Evaluation:
        from live_avatar import motion_metrics as mm
        from live_avatar.errors import NoFaceError

        if self.calibration is None:
            raise NoFaceError(f"{driving_path}: no face found in any driving frame")
        crop, points = self.calibration
        for index in range(SETTLE_FRAMES):  # the driver returns to the neutral pose, holds it
            out = self.animator.animate(crop, points, (self.frames + index + 1) * self.period)
        times = np.array(self.times) * 1e3
        return Evaluation(
            avatar=str(avatar_path),
            driving=str(driving_path),
            frames=self.frames,
            driver_faces=sum(np.isfinite(m["mouth"]) for m in self.driving),
            generated_faces=sum(np.isfinite(m["mouth"]) for m in self.generated),
            channels=[asdict(s) for s in mm.score(self.driving, self.generated)],
            identity_psnr=self.identity_psnr,
            return_psnr=mm.psnr(out, self.neutral),
            calibration_mouth=mm.mouth_opening(points),
            step_ms_median=float(np.median(times)),
            step_ms_p95=float(np.percentile(times, 95)),
        )


def _save_strip(pairs, path: str) -> None:
    import cv2

    tiles = [np.vstack([cv2.resize(d, (256, 256)), cv2.resize(g, (256, 256))]) for d, g in pairs]
    if tiles:
        cv2.imwrite(str(path), cv2.cvtColor(np.hstack(tiles), cv2.COLOR_RGB2BGR))
