"""The eyes: lids follow the driver's blinks relative to its own usual opening, irises follow
its gaze along the eye."""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from live_avatar.animators.mesh.raster import colour_distance, padded_box, upright_band
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
# A drawn eye can also be taller than the face mesh's: on the anime figure the mesh's eye
# covers the upper half of the drawn iris, and shut, the lower half stayed open under the lash
# line (the face mesh read the shut eyes 0.32 and 0.17 against 0.37 and 0.33 open). For a drawn
# face, what its eye shows below the mesh's lower lid is found at load: within COVER_BOX eye
# widths of the eye, sampled COVER_SAMPLES times per eye width, the pixels at least
# COVER_CONTRAST from the skin (CIELAB: an eye's white counts) with every line thinner than
# COVER_THIN eye widths taken out (lashes, a glasses rim, hair) and nothing further than
# COVER_BESIDE eye widths beyond the corners (where hair or the face's edge joined the iris of
# the figure turned by 12 degrees), in one patch with the iris and COVER_HEIGHT eye widths
# tall. As the eye shuts past COVER_FROM that patch is covered in the skin's colour, in step
# up to fully shut (a half-shut eye keeps most of its iris; covered from the start, it looked
# washed out), grown by COVER_GROW and feathered by COVER_SOFT eye widths.
COVER_BOX = 1.4
COVER_SAMPLES = 64
COVER_CONTRAST = 12.0
COVER_THIN = 0.12
COVER_HEIGHT = (0.4, 2.0)
COVER_GROW = 0.14
COVER_SOFT = 0.03
COVER_FROM = 0.25
COVER_BESIDE = 0.25
# Any other (not carved) eye shut by the warp is its whole inside squeezed into a band, dark
# lashes and lid margin stretched over it: a smudge, which the face mesh read 0.57-0.67 as open
# as the open eye on 8 painted and photographed faces (a driver's shut eye reads about 0.15).
# A shut eye shows its lid: at load each eye's outline, widened by LID_GROW of the eye's width
# (half on each side, for its lashes and lid margin; widened by half that, a band of them was
# left), is filled in from the skin around it (OpenCV's inpainting), and as the eye shuts past
# LID_FROM that fill covers it in step, feathered by LID_SOFT eye widths. Read back shut: 0.22-0.59 of open, mean 0.37. Carved eyes
# keep theirs: their mesh lids are refitted, and a fill of the mesh's eye smeared the carving
# (statue eyes r 0.652 -> 0.548 on lp_d0).
LID_GROW = 0.25
LID_FROM = 0.5
LID_SOFT = 0.04


def _opening(xy: np.ndarray, eye: Eye) -> float:
    upper, lower = eye.lid_pair
    width = np.linalg.norm(xy[eye.outer] - xy[eye.inner])
    return float(np.linalg.norm(xy[upper] - xy[lower]) / max(width, 1e-6))


def _gap_across(xy: np.ndarray, eye: Eye) -> float:
    """The lids' distance across the eye line over the eye's width: 0 once they meet (the
    middle lid points need not lie straight across from each other, see _opening)."""
    upper, lower = eye.lid_pair
    along = xy[eye.inner] - xy[eye.outer]
    width = max(float(np.linalg.norm(along)), 1e-6)
    gap = xy[upper] - xy[lower]
    return abs(float(along[0] * gap[1] - along[1] * gap[0])) / width**2


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


class EyeCover:
    """Covers what each eye shows, in the warp's source, as the eye shuts: a patch per eye
    (its top-left (x0, y0), its opacity (h, w, 1) float32, what covers it: a colour (3,) or a
    picture (h, w, 3)), blended in from `start` shut up to fully shut."""

    def __init__(self, avatar: np.ndarray, patches: list, start: float):
        """avatar: (478, 3) rest landmarks, pixels; patches: one per eye of EYES, or None."""
        rest = avatar[:, :2].astype(np.float64)
        self.rest_gaps = [max(_gap_across(rest, eye), 1e-6) for eye in EYES]
        self.patches = patches
        self.start = start

    @property
    def found(self) -> bool:
        return any(patch is not None for patch in self.patches)

    def covered(self, image: np.ndarray, points: np.ndarray) -> np.ndarray:
        """`image` (the avatar at rest) with the patch of each eye of `points` ((478, 2+)
        pixels) that is shut past `start` covered; a copy, or `image` itself where no eye
        is shutting that far."""
        xy = points[:, :2].astype(np.float64)
        out = None
        for eye, rest_gap, patch in zip(EYES, self.rest_gaps, self.patches, strict=True):
            shut = 1.0 - _gap_across(xy, eye) / rest_gap
            cover = float(np.clip((shut - self.start) / (1.0 - self.start), 0.0, 1.0))
            if patch is None or cover <= 0.0:
                continue
            out = image.copy() if out is None else out
            (x0, y0), alpha, fill = patch
            alpha = alpha * cover
            region = out[y0 : y0 + alpha.shape[0], x0 : x0 + alpha.shape[1]]
            region[:] = (region * (1.0 - alpha) + fill * alpha + 0.5).astype(np.uint8)
        return image if out is None else out


def drawn_eye_cover(avatar_image: np.ndarray, avatar: np.ndarray) -> EyeCover:
    """What a drawn eye shows below the face mesh's lower lid, covered in the skin's colour
    as the eye shuts (see COVER_BOX). avatar_image: HxWx3 uint8 RGB; avatar: (478, 3) its rest
    landmarks, pixels."""
    rest = avatar[:, :2].astype(np.float64)
    return EyeCover(avatar, [_below_lower_lid(avatar_image, rest, eye) for eye in EYES], COVER_FROM)


def lid_cover(avatar_image: np.ndarray, avatar: np.ndarray) -> EyeCover:
    """Each eye covered by its lid, filled in from the skin around it, as it shuts (see
    LID_GROW). avatar_image: HxWx3 uint8 RGB; avatar: (478, 3) its rest landmarks, pixels."""
    rest = avatar[:, :2].astype(np.float64)
    return EyeCover(avatar, [_lid_fill(avatar_image, rest, eye) for eye in EYES], LID_FROM)


def _lid_fill(image: np.ndarray, xy: np.ndarray, eye: Eye):
    """The eye filled in from the skin around it: ((x0, y0), opacity (h, w, 1) float32, the
    fill (h, w, 3) float32) over a box around the eye, or None for an eye too small."""
    width = float(np.linalg.norm(xy[eye.inner] - xy[eye.outer]))
    if width < 2.0:
        return None
    ring = xy[list(eye.ring)]
    box = padded_box(ring, image.shape, int(0.6 * width) + 4)  # room for the fill to draw on
    if box is None:
        return None
    x0, y0, x1, y1 = box
    crop = image[y0:y1, x0:x1]
    inside = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round((ring - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_8, 4)
    grow = 2 * max(1, round(LID_GROW * width / 2)) + 1
    inside = cv2.dilate(inside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    # each filled pixel draws on the skin within about a seventh of the eye's width
    fill = cv2.inpaint(crop, inside, max(3, round(0.15 * width)), cv2.INPAINT_TELEA)
    alpha = cv2.GaussianBlur((inside > 0).astype(np.float32), (0, 0), max(0.5, LID_SOFT * width))
    return (x0, y0), alpha[..., None], fill.astype(np.float32)


def _below_lower_lid(image: np.ndarray, xy: np.ndarray, eye: Eye):
    """What the drawn eye shows below the mesh's lower lid (see COVER_BOX): ((x0, y0), its
    opacity (h, w, 1) float32 over the box from there, the skin's colour), or None."""
    outer, inner = xy[eye.outer], xy[eye.inner]
    width = float(np.linalg.norm(inner - outer))
    if width < 2.0:
        return None
    along = (inner - outer) / width
    down = np.array([-along[1], along[0]])
    if (xy[eye.lid_pair[1]] - xy[eye.lid_pair[0]]) @ down < 0:
        down = -down
    scale = COVER_SAMPLES / width
    side = int(2 * COVER_BOX * COVER_SAMPLES)
    origin = (outer + inner) / 2 - COVER_BOX * width * (along + down)
    band, to_image = upright_band(image, origin, along, down, scale, (side, side))
    distance = colour_distance(band)
    thin = 2 * round(COVER_THIN * COVER_SAMPLES) + 1
    shapes = cv2.morphologyEx(
        (distance > COVER_CONTRAST).astype(np.uint8),
        cv2.MORPH_OPEN,
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thin, thin)),
    )

    def in_band(index):
        return (xy[index] - origin) @ np.column_stack([along, down]) * scale

    # only the eye's own columns: beyond its corners hair or a face's edge may join the iris
    beside = np.array([-1.0, 1.0]) * COVER_BESIDE * COVER_SAMPLES
    first, last = in_band([eye.outer, eye.inner])[:, 0] + beside
    shapes[:, : max(int(first), 1)] = 0
    shapes[:, min(int(np.ceil(last)), side - 1) :] = 0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(shapes)
    iris_x, iris_y = np.clip(in_band(eye.iris[0]).astype(int), 0, side - 1)
    label = labels[iris_y, iris_x]
    x, y, w, h, _ = stats[label]
    low, high = (k * COVER_SAMPLES for k in COVER_HEIGHT)
    if label == 0 or min(x, y) == 0 or max(x + w, y + h) >= side or not low <= h <= high:
        return None  # no patch round the iris, or one running out of the box
    lid = in_band([eye.outer, *eye.lower, eye.inner])
    order = np.argsort(lid[:, 0])
    lid_row = np.interp(np.arange(side), lid[order, 0], lid[order, 1])
    below = (labels == label) & (np.arange(side)[:, None] > lid_row[None, :])
    grow = 2 * round(COVER_GROW * COVER_SAMPLES / 2) + 1
    below = cv2.dilate(below.astype(np.uint8), np.ones((grow, grow), np.uint8))
    alpha = cv2.GaussianBlur(below.astype(np.float32), (0, 0), COVER_SOFT * COVER_SAMPLES)
    skin = np.median(band[distance <= COVER_CONTRAST], axis=0).astype(np.float32)
    height, width_px = image.shape[:2]
    alpha = cv2.warpAffine(alpha, to_image, (width_px, height), flags=cv2.INTER_LINEAR)
    rows, columns = np.nonzero(alpha > 0.01)
    if not len(rows):
        return None
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, columns.min(), columns.max() + 1
    return (int(x0), int(y0)), alpha[y0:y1, x0:x1, None], skin


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
