"""The eyes: lids follow the driver's blinks relative to its own usual opening, irises follow
its gaze along the eye."""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from live_avatar.animators.mesh.raster import padded_box
from live_avatar.animators.mesh.topology import EYES, FACE_OVAL, Eye

# the driver's "usual open" eye is this percentile of its recent openings (blinks are brief)
OPEN_PERCENTILE = 50
HISTORY = 240  # frames of opening history kept per eye
WIDEN_LIMIT = 1.3  # a wide-eyed driver widens the avatar's eye up to this share of its rest opening
CLOSE_AT = 0.3  # lids meet this far from the lower lid towards the upper one
# Carved eyes (see LIDS_MISFIT) close onto the lower lid: there is no iris to keep, and a
# shut stone eye is a line there. (On painted and real eyes meeting at the lower lid is no
# better and leaves the pupil as a dot.)
CARVED_CLOSE_AT = 0.0
CLOSED_SHARE = 0.3  # a driver eye this open (of its usual) counts as closed until seen lower
# An open eye shows most of its iris between the lids. Where the face mesh puts an avatar's
# lids closer than LIDS_MISFIT of the iris (carved or stylised eyes it takes for half shut),
# the upper lid is placed LIDS_REFIT of the iris above the lower one, at most RING_SHARE of
# the way to the points above it, so that a blink closes the eye the picture shows.
LIDS_MISFIT = 0.5
LIDS_REFIT = 0.65
RING_SHARE = 0.6
# Warped shut, an eye is a pale line of squeezed white and iris, which looks (and reads to the
# face mesh) half open; a shut eye shows its lashes. As an eye closes, a lash line of the
# avatar's own darkest lid colour (LASH_DARKEST of the pixels along its upper lid) is drawn
# along the upper lid, as opaque as the eye is shut, LASH_WIDTH of the eye's width thick in
# the middle and LASH_ENDS of that at the corners. Carved eyes get none (stone has no lashes; measured, a
# line on the statue's shut eyes read no more shut).
LASH_WIDTH = 0.08
LASH_ENDS = 0.6
LASH_DARKEST = 20  # percent
# Gaze: the eyeball turns under the lids. Moved as mesh points, the iris dragged the pixels
# next to the lids with it and came out sheared (the rendered iris moved a tenth to a third
# as far as its points); instead, what the open eye shows slides along the eye, fully in the
# middle and fading out over GAZE_FADE of the eye's width towards each corner, at most
# GAZE_LIMIT of its width (further, the white at a corner would fold). Carved eyes keep the
# warped iris points: their "eye" is the carving between refitted lids.
GAZE_FADE = 0.25
GAZE_LIMIT = 0.15
# ... and fading in over GAZE_EDGE of the eye's width inside the lids, so that the lid line
# (the mesh's lid points sit on it, not outside it) stays where it is
GAZE_EDGE = 0.06
# A drawn face's eyes are flat and larger than the face mesh's eye: its lids, lashes and
# glasses lie over the mesh's socket, whose depth is a human's. Turned with that depth, the far
# eye sheared under its lid and the face mesh read it half shut (the anime figure turned 9-10
# degrees by lp_s18: 0.13-0.16 against 0.35 at rest; flat, 0.24-0.30). Within FLAT_EYE_INNER
# eye widths of each iris the depth is the eye's mean, easing back to the mesh's by
# FLAT_EYE_OUTER, so each eye turns as one piece.
FLAT_EYE_INNER = 0.8
FLAT_EYE_OUTER = 1.4


def _opening(xy: np.ndarray, eye: Eye) -> float:
    upper, lower = eye.lid_pair
    width = np.linalg.norm(xy[eye.outer] - xy[eye.inner])
    return float(np.linalg.norm(xy[upper] - xy[lower]) / max(width, 1e-6))


def _gap_and_iris(xy: np.ndarray, eye: Eye) -> tuple[float, float]:
    """The eye's lid gap and its iris diameter, pixels."""
    upper, lower = eye.lid_pair
    rim = xy[list(eye.iris[1:])]
    iris = 0.5 * (np.linalg.norm(rim[0] - rim[2]) + np.linalg.norm(rim[1] - rim[3]))
    return float(np.linalg.norm(xy[upper] - xy[lower])), float(iris)


def _fitted_shut(xy: np.ndarray, eye: Eye) -> tuple[float, float] | None:
    """(lid gap, iris diameter) in pixels of an eye the face mesh fits as nearly shut while
    its iris says it is open (see LIDS_MISFIT); None for an eye fitted as it looks."""
    gap, iris = _gap_and_iris(xy, eye)
    return (gap, iris) if gap < LIDS_MISFIT * iris else None


def carved_eyes(points: np.ndarray) -> bool:
    """Whether the face mesh fits an eye of these rest landmarks ((478, 3)) as nearly shut
    while its iris says it is open: stone or stylised eyes (see LIDS_MISFIT)."""
    return any(_fitted_shut(points[:, :2], eye) is not None for eye in EYES)


def refit_lids(points: np.ndarray) -> np.ndarray:
    """The avatar's rest landmarks ((478, 3) pixels) with the upper lids of eyes the face mesh
    fits as nearly shut moved up to the eye's visible opening (see LIDS_MISFIT); a copy."""
    points = points.copy()
    xy = points[:, :2]
    for eye in EYES:
        fit = _fitted_shut(xy, eye)
        if fit is None:
            continue
        gap, iris = fit
        lower = eye.lid_pair[1]
        along = xy[eye.inner] - xy[eye.outer]
        up = np.array([along[1], -along[0]]) / max(np.linalg.norm(along), 1e-9)
        middle_above = eye.above[len(eye.above) // 2]
        if (xy[middle_above] - xy[lower]) @ up < 0:  # "up" points towards the brow
            up = -up
        # most in the middle of the lid, little at the corners
        profile = np.sin(np.pi * (np.arange(len(eye.upper)) + 1) / (len(eye.upper) + 1))
        for index, above, share in zip(eye.upper, eye.above, profile, strict=True):
            room = max(float((xy[above] - xy[index]) @ up), 0.0)
            xy[index] += up * min((LIDS_REFIT * iris - gap) * share, RING_SHARE * room)
    return points


def flatten_eye_depth(points: np.ndarray) -> np.ndarray:
    """A copy of `points` ((478, 3) pixels) with the depth around each eye made flat (see
    FLAT_EYE_INNER), for a drawn face."""
    flat = points.astype(np.float64)
    for eye in EYES:
        width = max(np.linalg.norm(flat[eye.inner, :2] - flat[eye.outer, :2]), 1e-9)
        distance = np.linalg.norm(flat[:, :2] - flat[eye.iris[0], :2], axis=1) / width
        level = flat[distance < FLAT_EYE_INNER, 2].mean()
        weight = np.clip((FLAT_EYE_OUTER - distance) / (FLAT_EYE_OUTER - FLAT_EYE_INNER), 0, 1)
        flat[:, 2] += (level - flat[:, 2]) * weight
    return flat


class EyeTransfer:
    """Sets each avatar eye's opening to the driver's, as a fraction of each face's own open eye.

    The avatar's eye is rebuilt from its rest shape: the lid and iris points keep their place
    along the eye (plus the driver's gaze shift there) and their distance across the eye line
    is scaled by the fraction, so the lids close over the iris instead of crossing it.
    """

    def __init__(self, avatar: np.ndarray, close_at: float = CLOSE_AT):
        """avatar: (478, 3) rest landmarks in pixels; close_at: where the lids meet, as a
        share of the way from the lower lid to the upper one."""
        self.rest = avatar[:, :2].astype(np.float64)
        self.close_at = close_at
        self.history = [deque(maxlen=HISTORY) for _ in EYES]
        self.calibration: list[float | None] = [None] * len(EYES)

    def reset(self) -> None:
        for history in self.history:
            history.clear()
        self.calibration = [None] * len(EYES)

    def openings(self, neutral_driver: np.ndarray) -> list[float]:
        """Each driver eye's lid gap over its width; neutral_driver: (478, 3) pose-free."""
        return [_opening(neutral_driver[:, :2], eye) for eye in EYES]

    def fractions(self, openings) -> list[float]:
        """How open each driver eye is (`openings` from `openings()`), between its closed
        extreme (0) and its usual opening (1)."""
        out = []
        for index, (value, history) in enumerate(zip(openings, self.history, strict=True)):
            history.append(float(value))
            if self.calibration[index] is None:  # the first frame after a reset
                self.calibration[index] = float(value)
            # the calibration frame's eye gives the avatar's rest eye back (no widening when
            # the driver returns to it), unless it was narrower than usual (mid-blink)
            usual = max(float(np.percentile(history, OPEN_PERCENTILE)), self.calibration[index])
            # mediapipe's lids never quite meet: a closed eye reads about a third of an open one
            closed = min(min(history), CLOSED_SHARE * usual)
            fraction = (value - closed) / max(usual - closed, 1e-6)
            out.append(float(np.clip(fraction, 0.0, WIDEN_LIMIT)))
        return out

    def apply(self, points: np.ndarray, fractions: list[float]) -> None:
        """Reshape both eyes of `points` ((478, 3), avatar frame, in place)."""
        for eye, fraction in zip(EYES, fractions, strict=True):
            self._reshape(points, eye, fraction)

    def _reshape(self, points: np.ndarray, eye: Eye, fraction: float) -> None:
        rest = self.rest
        along_rest = rest[eye.inner] - rest[eye.outer]
        along_rest /= max(np.linalg.norm(along_rest), 1e-9)
        across_rest = np.array([-along_rest[1], along_rest[0]])
        idx = eye.points
        height = (rest[idx] - rest[eye.outer]) @ across_rest  # rest distance from the eye line
        upper, lower = eye.lid_pair
        closed = (
            height[list(idx).index(lower)] * (1 - self.close_at)
            + height[list(idx).index(upper)] * self.close_at
        )
        # lids widen past the rest eye; the iris keeps its round shape
        share = np.where(np.isin(idx, eye.iris), min(fraction, 1.0), fraction)
        new_height = closed + (height - closed) * share
        # the moved eye line: where the transferred corners are now
        origin = points[eye.outer, :2].copy()
        along = points[eye.inner, :2] - origin
        length = max(np.linalg.norm(along), 1e-9)
        along /= length
        across = np.array([-along[1], along[0]])
        position = (points[idx, :2] - origin) @ along  # keeps the gaze shift along the eye
        scale = length / max(np.linalg.norm(rest[eye.inner] - rest[eye.outer]), 1e-9)
        points[idx, :2] = origin + np.outer(position, along) + np.outer(new_height * scale, across)


class LashLines:
    """Draws each closing eye's lash line along its upper lid (see LASH_WIDTH)."""

    def __init__(self, avatar_image: np.ndarray, avatar: np.ndarray):
        """avatar_image: HxWx3 uint8 RGB; avatar: (478, 3) its rest landmarks, pixels."""
        rest = avatar[:, :2].astype(np.float64)
        self.rest_openings = [max(_opening(rest, eye), 1e-6) for eye in EYES]
        self.colours = [_lid_colour(avatar_image, self._upper_lid(rest, eye)) for eye in EYES]

    @staticmethod
    def _upper_lid(xy: np.ndarray, eye: Eye) -> np.ndarray:
        return xy[[eye.outer, *eye.upper, eye.inner]]

    def paint(self, frame: np.ndarray, points: np.ndarray) -> None:
        """Draw into `frame` (HxWx3 uint8, in place) for the eyes of `points` ((478, 2+),
        frame pixels) that are narrower than at rest."""
        xy = points[:, :2].astype(np.float64)
        outline = xy[list(FACE_OVAL)]
        for eye, rest_opening, colour in zip(EYES, self.rest_openings, self.colours, strict=True):
            shut = 1.0 - _opening(xy, eye) / rest_opening
            if shut > 0.01:
                self._draw(frame, self._upper_lid(xy, eye), min(shut, 1.0), colour, outline)

    @staticmethod
    def _draw(frame: np.ndarray, lid: np.ndarray, opacity: float, colour, face) -> None:
        """Draw the lash line along `lid` ((N, 2) pixels), only inside the `face` outline
        ((M, 2) pixels): the far eye of a turned head reaches its silhouette, and a line
        drawn past it lay on the background."""
        along = lid[-1] - lid[0]
        width = float(np.linalg.norm(along))
        if width < 1.0:
            return
        across = np.array([-along[1], along[0]]) / width
        ends = np.linspace(0.0, 1.0, len(lid))
        half = 0.5 * LASH_WIDTH * width * (LASH_ENDS + (1 - LASH_ENDS) * np.sin(np.pi * ends))
        outline = np.concatenate([lid + half[:, None] * across, (lid - half[:, None] * across)[::-1]])
        drawn = _polygon_mask(outline, frame.shape, antialiased=True)
        if drawn is None:
            return
        mask, (x0, y0) = drawn
        inside = np.zeros_like(mask)
        cv2.fillPoly(inside, [np.round(face - (x0, y0)).astype(np.int32)], 1)
        alpha = (mask * inside).astype(np.float32)[..., None] * (opacity / 255.0)
        region = frame[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]]
        region[:] = (region * (1.0 - alpha) + colour * alpha + 0.5).astype(np.uint8)


def _polygon_mask(polygon: np.ndarray, shape: tuple, antialiased: bool):
    """(a uint8 mask, 255 inside `polygon` ((N, 2) pixels), over the polygon's box within an
    image of `shape`; the box's top-left (x0, y0)), or None where that box is empty."""
    box = padded_box(polygon, shape, 2)  # a clear pixel beyond the filled edge
    if box is None:
        return None
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    corners = np.round((polygon - (x0, y0)) * 16).astype(np.int32)
    cv2.fillPoly(mask, [corners], 255, cv2.LINE_AA if antialiased else cv2.LINE_8, shift=4)
    return mask, (x0, y0)


def _lid_colour(image: np.ndarray, lid: np.ndarray) -> np.ndarray:
    """The avatar's lash colour: the darkest pixels along an upper lid ((N, 2) pixels)."""
    height, width = image.shape[:2]
    samples = []
    for start, end in zip(lid[:-1], lid[1:], strict=True):
        for t in np.linspace(0.0, 1.0, 6, endpoint=False):
            x, y = np.round(start + t * (end - start)).astype(int)
            patch = image[max(y - 1, 0) : min(y + 2, height), max(x - 1, 0) : min(x + 2, width)]
            samples.append(patch.reshape(-1, 3))
    pixels = np.concatenate(samples).astype(np.float32)
    if not len(pixels):
        return np.zeros(3, np.float32)
    brightness = pixels.sum(axis=1)
    return pixels[brightness <= np.percentile(brightness, LASH_DARKEST)].mean(axis=0)


def _along(xy: np.ndarray, eye: Eye, point: np.ndarray) -> float:
    """Where `point` lies along the eye, 0 at the outer corner and 1 at the inner one."""
    axis = xy[eye.inner] - xy[eye.outer]
    return float((point - xy[eye.outer]) @ axis / max(axis @ axis, 1e-9))


class GazeSlide:
    """Moves the avatar's gaze by sliding what each open eye shows along the eye (see
    GAZE_FADE) instead of warping the iris points."""

    def __init__(self, avatar: np.ndarray):
        """avatar: (478, 3) rest landmarks, pixels."""
        rest = avatar[:, :2].astype(np.float64)
        self.rest_gaze = [_along(rest, eye, rest[eye.iris[0]]) for eye in EYES]
        # each eye's rest outer corner and axis (outer -> inner), float32 for the remap maps
        self.axes = [
            (
                rest[eye.outer].astype(np.float32),
                (rest[eye.inner] - rest[eye.outer]).astype(np.float32),
            )
            for eye in EYES
        ]

    def split(self, target: np.ndarray) -> tuple[np.ndarray, list[float]]:
        """(`target` ((478, 3)) with its irises put back where they sit along the eye at
        rest, for the warp; each eye's gaze shift, in eye widths along the eye)."""
        target = target.copy()
        shifts = []
        for eye, rest_gaze in zip(EYES, self.rest_gaze, strict=True):
            xy = target[:, :2]
            shift = _along(xy, eye, xy[eye.iris[0]]) - rest_gaze
            shift = float(np.clip(shift, -GAZE_LIMIT, GAZE_LIMIT))
            target[list(eye.iris), :2] -= shift * (xy[eye.inner] - xy[eye.outer])
            shifts.append(shift)
        return target, shifts

    def slide(self, source: np.ndarray, origin: tuple[int, int], target, shifts) -> None:
        """Shift the source coordinates (an (h, w, 2) remap map whose pixel (0, 0) is at
        `origin` (x, y) in the output, avatar pixels) inside each open eye of `target`."""
        for eye, shift, (outer, axis) in zip(EYES, shifts, self.axes, strict=True):
            if abs(shift) < 1e-3:
                continue
            ring = target[list(eye.ring), :2] - origin
            drawn = _polygon_mask(ring, source.shape, antialiased=False)
            if drawn is None or not drawn[0].any():
                continue
            inside, (x0, y0) = drawn
            region = source[y0 : y0 + inside.shape[0], x0 : x0 + inside.shape[1]]
            scale = np.float32(1.0 / max(float(axis @ axis), 1e-9))
            along = ((region[..., 0] - outer[0]) * axis[0] + (region[..., 1] - outer[1]) * axis[1])
            along *= scale
            profile = np.clip(np.minimum(along, 1.0 - along) * (1.0 / GAZE_FADE), 0.0, 1.0)
            width = float(np.linalg.norm(target[eye.inner, :2] - target[eye.outer, :2]))
            edge = max(GAZE_EDGE * width, 1.0)
            depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3)  # pixels inside the lids
            weight = np.clip(depth * np.float32(1.0 / edge), 0.0, 1.0) * profile
            region[..., 0] -= weight * np.float32(shift * axis[0])
            region[..., 1] -= weight * np.float32(shift * axis[1])
