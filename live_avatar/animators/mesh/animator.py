"""The embedded animator: face-mesh puppeteering of a whole portrait, no weights, real time on
a CPU (`--backend mesh`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from live_avatar.animators.base import Animator, MotionOptions
from live_avatar.animators.mesh.drawn import drawn_gain, fit_drawn_mouth, misplaced_mouth
from live_avatar.animators.mesh.eyes import (
    CARVED_CLOSE_AT,
    CLOSE_AT,
    EyeTransfer,
    GazeSlide,
    LashLines,
    carved_eyes,
    drawn_eye_cover,
    flatten_eye_depth,
    lid_cover,
    refit_lids,
)
from live_avatar.animators.mesh.geometry import MotionTransfer
from live_avatar.animators.mesh.mouth import (
    CLOSED_LOOKING,
    MouthInterior,
    MouthTransfer,
    TeethParting,
    shows_teeth,
)
from live_avatar.animators.mesh.topology import (
    FACE_OVAL,
    anchor_points,
    collapsible_points,
    mesh_triangles,
    mouth_region_weights,
)
from live_avatar.animators.mesh.warp import MeshWarp
from live_avatar.errors import NoFaceError
from live_avatar.filters import OneEuroFilter

log = logging.getLogger(__name__)

POOR_FIT = (
    "the face mesh fits this avatar's mouth poorly (it does not see the avatar's own mouth "
    "open, as with many drawn faces): the mouth will barely move; for drawn faces use "
    "--backend fomm with a checkpoint"
)
#: openings (face heights) rendered to see how the face mesh reads the avatar's mouth
PROBE_OPENINGS = (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.12)
#: the opening (face heights) by which the face mesh reads at least half of a painted mouth
#: without a moustache: by 0.01 on every shared portrait; later than this, the mouth is hidden
USUAL_SMALLEST = 0.02
MAX_EXTRA = 0.06  # the most a hidden mouth is opened beyond the driver's (face heights)
# A rest mouth the face mesh already reads this open (face heights) is one it fits: it is not
# probed. Opened further, a wide-open mouth (a yawn, a shout) reads no wider to the mesh,
# and the probe took a yawning photograph for a drawn face whose lips the mesh misplaces.
OPEN_AT_REST = 0.05
DRAWN_MOUTH = (
    "the face mesh misplaces this drawn face's mouth: it is fitted to the mouth found in the "
    "picture"
)
ABSOLUTE_IGNORED = (
    "--absolute is for FOMM: the mesh animator moves the avatar relative to the calibration "
    "frame (its own face shape and pose are kept)"
)
NO_FACE_IN_AVATAR = (
    "no face found in the avatar: crop the picture tighter around the face, or use --backend fomm"
)


@dataclass
class MeshSettings:
    """Settings of the mesh animator."""

    max_side: int = 1280  # larger portraits are reduced to this longer side to stay real time
    smoothing: bool = True  # One Euro filter on the driver's landmarks
    min_cutoff: float = 3.0  # Hz: lower = steadier still face (One Euro), but more lag
    beta: float = 40.0  # how fast the filter opens up with speed (per face height per second)
    aperture_cutoff: float = 20.0  # Hz: the mouth and eye openings' own, lighter smoothing
    fps: float = 30.0  # frame rate assumed for driving frames given without a timestamp
    grid_cells: int = 64  # warp grid cells along the face height (finer = sharper lids, slower)
    grid_points: int = 24000  # at most this many warp grid points (coarser cells beyond)


def create(
    motion: MotionOptions | None = None, smoothing: bool = True, max_side: int = 1280, **ignored
) -> MeshAnimator:
    """The registry factory: settings other backends take (checkpoint, device...) are ignored."""
    return MeshAnimator(motion, MeshSettings(max_side=max_side, smoothing=smoothing))


class MeshAnimator(Animator):
    """Moves the avatar's own face-mesh landmarks as the driver's move and warps the portrait.

    Motion is always relative to the calibration frame (`MotionOptions.relative` is not
    used); `adapt_scale` False moves the avatar as if the driver's crop were its face box.
    """

    name = "mesh"
    driving_size = None
    crops_avatar = False

    def __init__(self, motion: MotionOptions | None = None, settings: MeshSettings | None = None):
        super().__init__(motion)
        if not self.motion.relative:
            log.warning(ABSOLUTE_IGNORED)
        self.settings = settings or MeshSettings()
        self._landmarker = None
        self._avatar: np.ndarray | None = None
        self._last: np.ndarray | None = None
        self._calibrated = False
        self._rebase_mouth = None

    # --- avatar ---------------------------------------------------------------------------------
    def set_avatar(self, image: np.ndarray, landmarks: np.ndarray | None = None) -> None:
        """Find the face in the whole portrait (HxWx3 uint8 RGB) and build its warp mesh;
        `landmarks`: the portrait's (478, 3) face-mesh points, when already found."""
        from live_avatar.face.landmarks import find_portrait_landmarks
        from live_avatar.frames import check_rgb

        check_rgb(image, "avatar")
        # found at full resolution (the face of a full-length portrait may be too small to
        # find once the picture is reduced), then scaled with the picture
        points = find_portrait_landmarks(image) if landmarks is None else landmarks
        if points is None:
            raise NoFaceError(NO_FACE_IN_AVATAR)
        reduced = self._working_size(image)
        points = np.asarray(points, np.float64) * (reduced.shape[1] / image.shape[1])
        image = reduced
        self._avatar = np.ascontiguousarray(image)
        self._build(points)
        seen, smallest = self._probe_mouth()
        drawn = misplaced_mouth(image, points, seen)
        if drawn is not None:
            # a drawn face whose mouth the mesh misplaces: the mesh is refitted to the mouth
            # found in the picture (the probe read the mesh's misplaced lips, not it)
            log.info(DRAWN_MOUTH)
            fitted = fit_drawn_mouth(points, drawn)
            self._build(fitted, drawn=True)
            self._mouth.gain = drawn_gain(points, fitted)
        elif not seen:
            # the mesh's lips are not where the picture's are: an opened mouth would be
            # painted on the chin, so the jaw only moves a little and nothing is painted
            log.warning(POOR_FIT)
            self._interior = None
            self._mouth.gain = 0.25
        elif self._parting is None:  # no teeth show at rest
            # a mouth hidden under a moustache, or carved, shows an opening only once it is
            # wider than on a face: speech-sized openings are widened by the difference. (A
            # mouth whose teeth show at rest is not hidden; the face mesh reads less of its
            # parting gap, and widened, a 3-D cartoon's opened past where the mesh could read
            # it: Megamind frame 99, mouth r on lp_d18 0.922, on mid* 0.898.)
            self._mouth.extra = float(np.clip(smallest - USUAL_SMALLEST, 0.0, MAX_EXTRA))
        self._last = None
        if self._calibrated:  # a new avatar keeps the driver's neutral pose
            self._transfer.calibrate(*self._calibration)

    def _build(self, points: np.ndarray, drawn: bool = False) -> None:
        """The warp mesh and the mouth and eye transfers of the avatar's rest landmarks
        `points` ((478, 3), working-size pixels); `drawn`: a drawn face, fitted to its drawn
        mouth, its eyes turned flat and covered as they shut."""
        from live_avatar.avatars import is_grayscale

        image = self._avatar
        if drawn:
            points = flatten_eye_depth(points)
        carved = carved_eyes(points)
        self._points = refit_lids(points.astype(np.float64))
        height, width = image.shape[:2]
        anchors, follow = anchor_points(self._points, width, height)
        self._anchors, self._follow = anchors, follow
        # a rest mouth showing its teeth parts between them: the line's two copies are
        # vertices after the anchors
        parted = shows_teeth(self._points)
        self._parting = TeethParting(image, self._points) if parted else None
        parting = [] if self._parting is None else [self._parting.rest] * 2
        vertices = np.concatenate([self._points[:, :2], anchors[:, :2], *parting])
        extra = len(vertices) - len(self._points) - len(anchors)
        moving = np.concatenate(
            [np.ones(len(self._points), bool), follow > 0, np.ones(extra, bool)]
        )
        face_height = float(np.ptp(self._points[list(FACE_OVAL), 1]))
        collapsible = np.concatenate(
            [collapsible_points(), np.zeros(len(anchors), bool), np.ones(extra, bool)]
        )
        first = len(self._points) + len(anchors)
        triangles = mesh_triangles(self._points, anchors[:, :2], first if extra else None)
        # cells fine enough for the lids, coarser where a large warped region would exceed
        # the point budget
        step = int(np.clip(round(face_height / self.settings.grid_cells), 2, 8))
        self._warp = MeshWarp(
            vertices,
            triangles,
            moving,
            (height, width),
            step,
            collapsible,
            max_points=self.settings.grid_points,
        )
        self._transfer = MotionTransfer(self._points, self.motion.adapt_scale, face_height * 1.8)
        self._mouth = MouthTransfer(self._points, (height, width))
        self._interior = MouthInterior(image, self._points, is_grayscale(image), drawn)
        # stone eyes have no lashes: shut, a carved eye is the line its lower lid already is
        self._lashes = None if carved else LashLines(image, self._points)
        self._gaze = None if carved else GazeSlide(self._points)
        # a shut eye shows its lid (a drawn one: skin over what shows below the mesh's lid)
        cover = None
        if drawn:
            cover = drawn_eye_cover(image, self._points)
        elif not carved:
            cover = lid_cover(image, self._points)
        self._cover = cover if cover is not None and cover.found else None
        self._eyes = EyeTransfer(self._points, CARVED_CLOSE_AT if carved else CLOSE_AT)

    def _probe_mouth(self) -> tuple[bool, float]:
        """How the face mesh reads this avatar's mouth: (whether it sees it open at all, the
        opening from which it reads at least half of it, face heights). The avatar is rendered
        opening step by step and read as a video, as a viewer of the output would."""
        from live_avatar.face.crop import crop_square, face_box_from_landmarks, upright_turns
        from live_avatar.face.landmarks import FaceLandmarker

        if self._mouth.rest >= OPEN_AT_REST:
            return True, USUAL_SMALLEST
        box = face_box_from_landmarks(self._points, scale=1.8)
        turns = upright_turns(self._points)  # the mesh reads a face on its side poorly
        readings = []
        with FaceLandmarker(static_image=False, min_detection_confidence=0.3) as landmarker:
            for opening in (0.0, *PROBE_OPENINGS):
                points = self._points.copy()
                self._mouth.open_to(points, opening)
                image = self.render(points, self._anchors[:, :2], opening)
                found = landmarker(np.ascontiguousarray(np.rot90(crop_square(image, box, 384), turns)))
                readings.append(np.nan if found is None else self._mouth.driver_opening(found))
        seen = np.array(readings[1:]) - readings[0]
        log.debug("mouth openings %s read as %s", PROBE_OPENINGS, np.round(seen, 3))
        if not np.isfinite(readings).all() or seen.max() < 0.3 * PROBE_OPENINGS[-1]:
            return False, 0.0
        # where the reading first reaches half the rendered opening, between probes
        share = np.maximum.accumulate(seen / np.array(PROBE_OPENINGS))
        if share[-1] < 0.5:
            return True, PROBE_OPENINGS[-1]
        return True, float(np.interp(0.5, share + 1e-9 * np.arange(len(share)), PROBE_OPENINGS))

    def _working_size(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        longest = max(height, width)
        if longest <= self.settings.max_side:
            return image
        factor = self.settings.max_side / longest
        size = (round(width * factor), round(height * factor))
        log.warning("avatar %dx%d reduced to %dx%d for real-time animation", width, height, *size)
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    # --- driver ---------------------------------------------------------------------------------
    def _driver_landmarks(self, driving: np.ndarray, landmarks: np.ndarray | None):
        if landmarks is not None:
            landmarks = np.asarray(landmarks, dtype=np.float64)
            if landmarks.shape != (478, 3):
                raise ValueError(f"unexpected landmarks {landmarks.shape}, expected (478, 3)")
            return landmarks
        if self._landmarker is None:
            from live_avatar.face.landmarks import FaceLandmarker

            self._landmarker = FaceLandmarker(static_image=False)
        found = self._landmarker(driving)
        return None if found is None else found.astype(np.float64)

    def _check_ready(self) -> None:
        if self._avatar is None:
            raise RuntimeError("set_avatar() must be called before calibrate() or animate()")

    def calibrate(self, driving: np.ndarray, landmarks: np.ndarray | None = None) -> None:
        """Take the driver's face in `driving` (HxWx3 uint8 RGB) as the neutral pose."""
        self._check_ready()
        if landmarks is None:
            # video-mode tracking refines its first detection: settle it on this frame, so
            # that animating the calibration frame again gives back the avatar itself
            self._driver_landmarks(driving, None)
        points = self._driver_landmarks(driving, landmarks)
        if points is None:
            raise NoFaceError(
                "no face found in the calibration frame: face the camera and try again"
            )
        self._calibration = (points, float(max(driving.shape[:2])))
        self._transfer.calibrate(*self._calibration)
        # Taken mid-sentence, the calibration's lips and jaw are a speaking shape: measured
        # from it, a closed mouth would carry that shape's undoing onto the avatar's lips
        # (a yawning calibration tears a closed mouth). The mouth region is re-based on the
        # driver's first closed-mouth frame.
        opening = self._mouth.driver_opening(points)
        self._rebase_mouth = mouth_region_weights(points) if opening > CLOSED_LOOKING else None
        self._unit = max(float(np.ptp(points[list(FACE_OVAL), 1])), 1.0)
        self._filter = OneEuroFilter(self.settings.min_cutoff, self.settings.beta, 1.0)
        self._aperture_filter = OneEuroFilter(self.settings.aperture_cutoff, 0.0, 1.0)
        self._time: float | None = None  # the filters' clock, seconds
        self._mouth.reset()
        self._eyes.reset()
        self._smooth(points)
        self._last = None
        self._calibrated = True

    def _smooth(self, points: np.ndarray, timestamp: float | None = None) -> np.ndarray:
        """One Euro filter in face-height units, so its settings do not depend on crop size.
        Its clock is the frame's `timestamp` when given, else one assumed frame period on:
        a 15 frames/s camera, or frames dropped while the step ran late, would otherwise
        count as 30 frames/s and the face would trail behind."""
        if timestamp is not None:
            self._time = float(timestamp)
        else:
            self._time = 0.0 if self._time is None else self._time + 1.0 / self.settings.fps
        if not self.settings.smoothing:
            return points
        return self._filter(points / self._unit, self._time) * self._unit

    # --- frames ---------------------------------------------------------------------------------
    def animate(
        self,
        driving: np.ndarray,
        landmarks: np.ndarray | None = None,
        timestamp: float | None = None,
    ) -> np.ndarray:
        """The portrait (working size, HxWx3 uint8 RGB) moved as the driver in `driving`,
        captured at `timestamp` seconds (see Animator.animate)."""
        self._check_ready()
        if not self._calibrated:
            self.calibrate(driving, landmarks)
        points = self._driver_landmarks(driving, landmarks)
        if points is None:  # face lost for a moment: hold the last picture
            return self.neutral() if self._last is None else self._last.copy()
        target, anchors, opened = self.target_landmarks(self._smooth(points, timestamp), points)
        self._last = self.render(target, anchors, opened)
        return self._last.copy()

    def target_landmarks(
        self, driver: np.ndarray, raw: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Where the avatar's landmarks and anchors go for driver landmarks (478, 3):
        ((478, 3) avatar pixels, (M, 2) anchor positions, mouth opening beyond the avatar's
        rest in face-height units). `driver` is smoothed; the apertures (mouth, eyes) are read
        from `raw` when given, lightly smoothed on their own: speech and blinks are too
        quick for the head's smoothing."""
        transfer = self._transfer
        pose = transfer.pose(driver)
        neutral = pose.neutral if raw is None else transfer.pose(raw).neutral
        apertures = np.array([self._mouth.driver_opening(neutral), *self._eyes.openings(neutral)])
        if self._rebase_mouth is not None and apertures[0] <= CLOSED_LOOKING:
            transfer.rebase(neutral, self._rebase_mouth)  # unsmoothed: no lag in it
            self._calibration = (transfer.calibration.copy(), self._calibration[1])
            self._rebase_mouth = None
        if self.settings.smoothing and raw is not None:
            apertures = self._aperture_filter(apertures, self._time)
        points = self._points + transfer.expression(pose)
        opened = self._mouth.apply(points, float(apertures[0]))
        self._eyes.apply(points, self._eyes.fractions(apertures[1:]))
        anchors = transfer.rigid(pose, self._anchors, self._follow)[:, :2]
        return transfer.rigid(pose, points), anchors, opened

    def render(self, target: np.ndarray, anchors: np.ndarray, opened: float) -> np.ndarray:
        """The avatar warped so its landmarks sit at `target` ((478, 3)) and its anchors at
        `anchors` ((M, 2)); HxWx3 uint8 RGB."""
        out = self._avatar.copy()
        if np.abs(target[:, :2] - self._points[:, :2]).max() < 1e-3 and np.abs(
            anchors - self._anchors[:, :2]
        ).max() < 1e-3:
            return out  # at rest: exactly the avatar
        source = self._avatar if self._cover is None else self._cover.covered(self._avatar, target)
        warped, slide = target, None
        if self._gaze is not None:
            warped, shifts = self._gaze.split(target)
            slide = partial(self._gaze.slide, target=target, shifts=shifts)
        moves = [warped[:, :2] - self._points[:, :2], anchors - self._anchors[:, :2]]
        lines = None
        if self._parting is not None:
            lines = self._parting.lines(target, apart=self._interior is not None)
            moves += [line - self._parting.rest for line in lines]
        self._warp.apply(source, np.concatenate(moves), out, slide)
        if self._interior is not None:
            self._interior.paint(out, target, opened, lines)
        if self._lashes is not None:
            self._lashes.paint(out, target)
        return out

    def neutral(self) -> np.ndarray:
        """The avatar at rest (working size), HxWx3 uint8 RGB."""
        self._check_ready()
        return self._avatar.copy()

    @property
    def calibrated(self) -> bool:
        return self._calibrated

    def close(self) -> None:
        """Release the landmark tracker; idempotent."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
