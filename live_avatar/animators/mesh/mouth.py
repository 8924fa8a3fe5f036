"""The mouth: its opening carried over relative to each face's own closed extreme, and a dark,
soft-edged interior painted into the opened inner-lip region."""

from __future__ import annotations

import cv2
import numpy as np

from live_avatar.animators.mesh.raster import padded_box
from live_avatar.animators.mesh.topology import (
    CHIN,
    FACE_OVAL,
    INNER_LIP_LOWER,
    INNER_LIP_UPPER,
    MOUTH_HOLE,
    MOUTH_PAIRS,
    NOSE_BASE,
    OUTER_LIP_LOWER,
    OUTER_LIP_UPPER,
    chin_weights,
    face_axes,
    jaw_weights,
    upper_lip_weights,
)

# A calibration frame whose mouth opening (face heights) is at most this looks closed, and its
# opening is taken as the driver's closed mouth; twice this or more is a mouth open
# mid-sentence, and the closed mouth is 0, where mediapipe's inner lips meet.
CLOSED_LOOKING = 0.01
# the extra opening of a hidden mouth grows in over this driver opening (face heights),
# above the landmark noise of a closed mouth
EXTRA_RAMP = 0.01
CLOSED_NOISE = 0.003
# No jaw opens much beyond a yawn (a driver's reads about 0.26 face heights): the avatar's
# whole opening eases from WIDEST_EASE (or its rest opening, if wider) towards WIDEST. An
# avatar that already shouts or yawns at rest and was opened by a yawn's full width had its
# chin stretched down onto the neck, and the face mesh read such a mouth as narrower.
WIDEST_EASE = 0.22
WIDEST = 0.32
# The upper teeth show across the middle of the opening, fading out around TEETH_SPAN of the
# half-width (centre to corner) over TEETH_FADE of it, so the corners stay dark; their edge
# is a shallow arc. A band of teeth from corner to corner looks like a lip to the face mesh
# (and to a viewer), which then reads the dark line under it as closed lips.
TEETH_SPAN = 0.5
TEETH_FADE = 0.3
TEETH_ARC = 1.2  # the teeth's height at a share u of the half-width: sqrt(1 - TEETH_ARC u^2)
# The painted inside grows in over this opening (face heights). On an avatar whose rest mouth
# already shows its teeth it grows in over SHOWN_TEETH_RAMP: teeth parting a little show a
# shadow between them, not a void, and fully dark at once such a gap read two to three times
# as open to the face mesh (mouth r on tpsmm: astronaut 0.940 -> 0.960, the grinning man of
# lp_d0 frames 36 and 50 0.941 / 0.935 -> 0.955 / 0.954).
PAINT_RAMP = 0.008
SHOWN_TEETH_RAMP = 0.03
# On a grey picture teeth differ from lips and skin only by being lighter: they are this much
# lighter than its light skin (in colour, they are its light skin half greyed and shaded). As
# light as the skin, the face mesh took speech-sized openings for lips (grey close-up of the
# man of tpsmm: mouth r 0.917, now 0.944).
GREY_TEETH_LIGHT = 1.2
# The tongue shows in a wide-open mouth only: a lip-coloured mound growing TONGUE_RISE face
# heights per face height of opening beyond TONGUE_FROM. Shown in speech-sized openings, it
# reads as part of the lower lip (to the face mesh too), and the mouth looks less open.
TONGUE_FROM = 0.07
TONGUE_RISE = 0.45
# The lower lip below an opening is lit: a band LOWER_LIP_BAND face heights thick in the
# middle, the avatar's lip colour brightened LOWER_LIP_LIGHT times. A real open mouth shows
# its lower lip as a light edge under the dark inside; without it, the dark of a painted
# opening runs into the chin and the lower lip is taken to lie inside it.
LOWER_LIP_BAND = 0.02
LOWER_LIP_LIGHT = 1.6
LOWER_LIP_PALE = 0.4  # share of grey in the lit colour
# A rest mouth that shows its teeth (or a dark opening) parts between them when it opens:
# what lies above the parting line moves with the upper lip, what lies below it with the
# lower lip, and the gap between is painted. Stretched as one piece instead, the lower teeth
# slid down out of sight. The teeth are the brightest part of the opening's middle (sampled
# at PARTING_SAMPLES from the upper inner lip to the lower one, the lips themselves left
# out): the line lies at the edge of that bright band where it has faded halfway to the
# darkest on its far side. The band is taken for the upper teeth (a smile shows those
# first) and the line is under it, unless it is brightest further down than LOWER_TEETH_FROM
# of the way: then it is the lower teeth and the line is above it. Without a band brighter
# than PARTING_CONTRAST of its peak, the line lies halfway.
PARTING_SAMPLES = np.linspace(0.1, 0.9, 17)
PARTING_CONTRAST = 0.1
LOWER_TEETH_FROM = 0.6
SHOWS_TEETH = 0.01  # a rest mouth open this much (face heights) shows what is inside it
UPPER_LIP_TOP, LOWER_LIP_BOTTOM = 0, 17  # the outer lips' middles
# In a yawn the face mesh shortens the driver's upper lip (nose base to lip) and chin (lower
# lip to chin) to about 0.45 of their rest length. Carried over, the avatar's upper lip rose
# into its nose, its upper teeth went out of sight and its chin folded onto the lower lip: a
# black hole the face mesh could not read as a mouth (a 3-D cartoon's mouth r on lp_d18 0.59,
# a small photographed face's 0.71). The avatar keeps at least this share of both, though
# its chin is not pushed out of the picture for it: a close-up cut at the chin read as no
# mouth at all once its chin left the picture (grey statue close-up on phone*, 0.977 -> 0.716).
PHILTRUM_KEEP = 0.7
CHIN_KEEP = 0.7
DRAWN_SHADE = 0.55  # a drawn mouth's opened inside: its own inside colour, this much darker


def mouth_gap(xy: np.ndarray, down: np.ndarray, face_height: float) -> float:
    """Signed inner-lip gap along the face's down axis over face height (< 0: lips cross)."""
    gaps = [(xy[lower] - xy[upper]) @ down for upper, lower in MOUTH_PAIRS]
    return float(np.mean(gaps) / max(face_height, 1e-6))


def shows_teeth(avatar: np.ndarray) -> bool:
    """Whether the rest mouth of landmarks (478, 2+) is open enough to show its teeth."""
    xy = avatar[:, :2].astype(np.float64)
    _, down, height = face_axes(xy)
    return mouth_gap(xy, down, height) >= SHOWS_TEETH


def eye_span(xy: np.ndarray) -> float:
    """The distance between the outer eye corners of landmarks (478, 2): a size that the
    mouth's motion leaves alone."""
    return max(float(np.linalg.norm(xy[263] - xy[33])), 1e-6)


class MouthTransfer:
    """Sets the avatar's mouth opening from the driver's.

    The driver's opening is taken relative to its own closed extreme, not to the calibration
    frame (a clip may start mid-sentence), and added to the avatar's own rest opening; the
    lower lip, chin and lower cheeks carry the difference (jaw weights).
    """

    def __init__(self, avatar: np.ndarray, size: tuple[int, int] | None = None):
        """avatar: (478, 3) rest landmarks in pixels; size: the picture's (height, width),
        which the chin is not pushed out of (see CHIN_KEEP)."""
        xy = avatar[:, :2].astype(np.float64)
        self.size = size
        _, self.down, self.height = face_axes(xy)
        self.rest = mouth_gap(xy, self.down, self.height)
        self.weights = jaw_weights(xy)
        self.upper_weights = upper_lip_weights(xy)
        self.chin_weights = chin_weights(xy)
        self.philtrum = self._length(xy, NOSE_BASE, UPPER_LIP_TOP)
        self.chin = self._length(xy, LOWER_LIP_BOTTOM, CHIN)
        self.closed: float | None = None  # the driver's closed-mouth opening (see apply)
        self.gain = 1.0  # share of the driver's opening the avatar takes
        self.extra = 0.0  # added to any clear opening, so that it shows (face heights)

    def reset(self) -> None:
        self.closed = None

    def driver_opening(self, neutral_driver: np.ndarray) -> float:
        """The driver's opening (pose-free landmarks (478, 3)) in its own face-height units."""
        _, down, height = face_axes(neutral_driver[:, :2])
        return mouth_gap(neutral_driver[:, :2], down, height)

    def apply(self, points: np.ndarray, driver_opening: float) -> float:
        """Move the avatar's jaw in `points` ((478, 3), avatar frame, in place) to the target
        opening; returns the target opening beyond the avatar's rest (face-height units)."""
        # The driver's closed extreme: its calibration opening if that looks closed, else 0,
        # lowered by any smaller opening seen since. A calibration frame that looks closed
        # gives back the avatar as it is; one taken mid-sentence opens the avatar's mouth as
        # wide as the driver's, from that frame on.
        if self.closed is None:
            fade = np.clip(2.0 - driver_opening / CLOSED_LOOKING, 0.0, 1.0)
            self.closed = min(driver_opening * fade, driver_opening)
        self.closed = min(self.closed, driver_opening)
        opened = max(0.0, driver_opening - self.closed) * self.gain
        opened += self.extra * float(np.clip((opened - CLOSED_NOISE) / EXTRA_RAMP, 0.0, 1.0))
        opened = self._eased(opened)
        philtrum = PHILTRUM_KEEP * self.philtrum
        self._keep(points, NOSE_BASE, UPPER_LIP_TOP, philtrum, self.upper_weights)
        self.open_to(points, opened)
        room = self._room_below(points[CHIN, :2])
        chin = CHIN_KEEP * self.chin
        self._keep(points, LOWER_LIP_BOTTOM, CHIN, chin, self.chin_weights, room)
        return opened

    def _room_below(self, point: np.ndarray) -> float:
        """How far `point` can move along the face's down before it leaves the picture."""
        if self.size is None:
            return np.inf
        height, width = self.size
        room = np.inf
        for axis, (low, high) in enumerate(((0.0, width - 1.0), (0.0, height - 1.0))):
            if self.down[axis] > 1e-9:
                room = min(room, (high - point[axis]) / self.down[axis])
            elif self.down[axis] < -1e-9:
                room = min(room, (low - point[axis]) / self.down[axis])
        return max(float(room), 0.0)

    def _length(self, xy: np.ndarray, top: int, bottom: int) -> float:
        """From landmark `top` down to landmark `bottom`, pixels along the face's down."""
        return float((xy[bottom] - xy[top]) @ self.down)

    def _keep(self, points, top: int, bottom: int, shortest: float, weights, room=np.inf) -> None:
        """Lengthen the span from landmark `top` down to `bottom` to `shortest` pixels by
        moving `weights` down, if shorter, by at most `room` pixels."""
        short = min(shortest - self._length(points[:, :2], top, bottom), room)
        if short > 0:
            points[:, :2] += np.outer(weights * short, self.down)

    def _eased(self, opened: float) -> float:
        """`opened` beyond the rest, eased into the widest opening (see WIDEST)."""
        knee = max(WIDEST_EASE, self.rest)
        room = WIDEST - knee
        beyond = self.rest + opened - knee
        if beyond <= 0:
            return opened
        if room <= 0:
            return max(knee - self.rest, 0.0)
        return knee + room * float(np.tanh(beyond / room)) - self.rest

    def open_to(self, points: np.ndarray, opened: float) -> None:
        """Move the jaw in `points` ((478, 3), in place) so the mouth is open `opened`
        face heights beyond the avatar's rest."""
        current = mouth_gap(points[:, :2], self.down, self.height)
        shift = (self.rest + opened - current) * self.height
        points[:, :2] += np.outer(self.weights, self.down) * shift


class TeethParting:
    """The parting line of a rest mouth that shows its teeth (see PARTING_SAMPLES): two copies
    of it, one moving with the upper lip and one with the lower, split the inner-lip hole so
    that each lip carries its own teeth and a gap opens between them."""

    def __init__(self, avatar_image: np.ndarray, avatar: np.ndarray):
        """avatar_image: HxWx3 uint8 RGB; avatar: (478, 3) its rest landmarks."""
        xy = avatar[:, :2].astype(np.float64)
        upper = xy[list(INNER_LIP_UPPER[1:-1])]
        self.rest_gap = xy[list(INNER_LIP_LOWER[1:-1])] - upper  # (9, 2) per lip pair
        self.share = _parting_share(avatar_image, upper, self.rest_gap)
        self.rest = upper + self.share * self.rest_gap
        self.right = face_axes(xy)[0]
        self.eye_span = eye_span(xy)

    def lines(self, points: np.ndarray, apart: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The parting line's upper and lower copies ((9, 2) each, pixels) for landmarks
        `points` ((478, 2+)): together where the lips are as far apart as at rest (or
        closer), apart by what the mouth has opened beyond that; always together when not
        `apart` (nothing will be painted into the gap: the mouth stretches as one piece)."""
        xy = points[:, :2].astype(np.float64)
        upper = xy[list(INNER_LIP_UPPER[1:-1])]
        lower = xy[list(INNER_LIP_LOWER[1:-1])]
        gap = lower - upper
        if not apart:
            line = upper + self.share * gap
            return line, line
        right, down, _ = face_axes(xy)
        # the rest gaps turned and scaled with the head
        cos = float(right @ self.right)
        sin = float(self.right[0] * right[1] - self.right[1] * right[0])
        scale = eye_span(xy) / self.eye_span
        rest_gap = scale * (self.rest_gap @ np.array([[cos, sin], [-sin, cos]]))
        opened = np.maximum((gap - rest_gap) @ down, 0.0)[:, None] * down
        closed = gap - opened
        return upper + self.share * closed, lower - (1 - self.share) * closed


def _parting_share(image: np.ndarray, upper: np.ndarray, gap: np.ndarray) -> float:
    """Where between the inner lips (0 upper, 1 lower) a rest opening parts (see
    PARTING_SAMPLES); upper: (9, 2) inner upper-lip points, gap: (9, 2) vectors to the lower
    ones."""
    middle = slice(2, 7)  # the pairs across the middle of the mouth
    samples = upper[middle, None, :] + PARTING_SAMPLES[None, :, None] * gap[middle, None, :]
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    map_x, map_y = (np.ascontiguousarray(samples[..., k], dtype=np.float32) for k in (0, 1))
    profile = cv2.remap(grey, map_x, map_y, cv2.INTER_LINEAR).mean(axis=0)
    peak = int(np.argmax(profile))
    if profile[peak] - profile.min() < PARTING_CONTRAST * max(float(profile[peak]), 1.0):
        return 0.5
    # from the peak down, past the upper teeth; or up, past lower teeth
    order = range(peak, len(profile))
    if PARTING_SAMPLES[peak] > LOWER_TEETH_FROM:
        order = range(peak, -1, -1)
    beyond = profile[list(order)]
    halfway = (profile[peak] + beyond.min()) / 2
    faded = int(np.argmax(beyond < halfway))  # the first sample past halfway
    return float(PARTING_SAMPLES[list(order)[faded]])


class MouthInterior:
    """Paints a mouth interior into the opened lips: a band of upper teeth under the upper
    lip, then a dark inside shaded deeper in the middle, soft-edged. Colours come from the
    avatar itself (darkened lips, its lightest skin desaturated for teeth), so a grey picture
    gets a grey mouth and a painting keeps its palette."""

    def __init__(
        self, avatar_image: np.ndarray, avatar: np.ndarray, grayscale: bool, drawn: bool = False
    ):
        """avatar_image: HxWx3 uint8 RGB; avatar: (478, 3) its rest landmarks; drawn: the
        landmarks were fitted to a drawn mouth (see drawn.py)."""
        lips = np.zeros(avatar_image.shape[:2], np.uint8)
        outer = np.array(OUTER_LIP_UPPER + tuple(reversed(OUTER_LIP_LOWER[1:-1])))
        cv2.fillPoly(lips, [np.round(avatar[outer, :2]).astype(np.int32)], 1)
        cv2.fillPoly(lips, [np.round(avatar[list(MOUTH_HOLE), :2]).astype(np.int32)], 0)
        lip_colour = (
            avatar_image[lips > 0].mean(axis=0) if lips.any() else np.array([150.0, 90.0, 90.0])
        )
        face = np.zeros(avatar_image.shape[:2], np.uint8)
        cv2.fillPoly(face, [np.round(avatar[list(FACE_OVAL), :2]).astype(np.int32)], 1)
        skin = avatar_image[face > 0].astype(np.float32)
        bright = skin[skin.sum(axis=1) >= np.percentile(skin.sum(axis=1), 90)].mean(axis=0)
        teeth = (0.5 * bright + 0.5 * bright.mean()) * 0.85  # half desaturated, in shade
        if grayscale:
            lip_colour = np.full(3, lip_colour.mean())
            teeth = np.full(3, bright.mean() * GREY_TEETH_LIGHT)
        self.colour = (lip_colour * 0.2).astype(np.float32)  # the mouth's inside, in shadow
        lit = np.clip(lip_colour * LOWER_LIP_LIGHT, 0, 255)
        # part grey, as light pales a lip: fully coloured, the band reads as lipstick
        self.lit_lip = (lit * (1 - LOWER_LIP_PALE) + lit.mean() * LOWER_LIP_PALE).astype(np.float32)
        self.lit_band = LOWER_LIP_BAND
        self.tongue = (lip_colour * 0.75).astype(np.float32)
        inside = _drawn_inside(avatar_image, avatar) if drawn else None
        if inside is not None:
            # a drawn mouth's lips are its outline: the inside is the drawing's own inside
            # colour in shade, and no lit lower lip is drawn under it
            self.colour = (inside * DRAWN_SHADE).astype(np.float32)
            self.tongue = inside.astype(np.float32)
            self.lit_band = 0.0
        self.teeth = np.clip(teeth, 0, 255).astype(np.float32)
        xy = avatar[:, :2].astype(np.float64)
        height = face_axes(xy)[2]
        self.face_height = height
        self.eye_span = eye_span(xy)
        # an avatar showing its teeth already keeps them (they part, see TeethParting)
        self.paint_teeth = not shows_teeth(avatar)

    def paint(self, frame: np.ndarray, points: np.ndarray, opened: float, parting=None) -> None:
        """Fill the newly opened part of the inner-lip hole of `points` ((478, 2+) output
        pixels) in `frame` (in place); `opened`: the opening beyond the avatar's rest in
        face-height units. What the rest mouth showed (teeth of a smile) stays: above the
        gap between `parting`'s two lines (see TeethParting.lines) when given, else with the
        upper lip, the gap below it painted."""
        if opened <= 0.002:
            return
        xy = points[:, :2].astype(np.float64)
        _, down, _ = face_axes(xy)
        height = self.face_height * eye_span(xy) / self.eye_span
        upper = xy[list(INNER_LIP_UPPER)]
        lower = xy[list(INNER_LIP_LOWER)]
        if parting is None:
            hole = xy[list(MOUTH_HOLE)]
            kept_lower = xy[list(INNER_LIP_LOWER[1:-1])] - down * (opened * height)
            cut = [(hole, 1.0), (np.concatenate([upper, kept_lower[::-1]]), 0.0)]
            floor = lower  # what the tongue rests on
        else:
            floor = np.concatenate([lower[:1], parting[1], lower[-1:]])
            hole = np.concatenate([upper[:1], parting[0], upper[-1:], parting[1][::-1]])
            cut = [(hole, 1.0)]
        teeth_height = min(0.7 * opened, 0.045) * height if self.paint_teeth else 0.0
        corners = xy[INNER_LIP_UPPER[0]], xy[INNER_LIP_UPPER[-1]]
        arc = np.sqrt(np.clip(1 - TEETH_ARC * _off_centre(upper, *corners) ** 2, 0, 1))[:, None]
        teeth = np.concatenate([upper, (upper + down * teeth_height * arc)[::-1]])
        # the tongue rests on the lower teeth: a lip-coloured mound above the lower lip
        tongue_height = TONGUE_RISE * float(np.clip(opened - TONGUE_FROM, 0, 0.13)) * height
        mound = np.sin(np.linspace(0, np.pi, len(lower)))[:, None] ** 0.5
        tongue = np.concatenate([floor, (floor - down * tongue_height * mound)[::-1]])
        # thickest in the middle, thinning to nothing at the corners, as a lip does
        lip_height = self.lit_band * height * mound**2
        lip = np.concatenate([lower, (lower + down * lip_height)[::-1]])
        box = padded_box(np.concatenate([hole, lip]), frame.shape, int(0.05 * self.face_height) + 2)
        if box is None:
            return
        x0, y0, x1, y1 = box
        inside = _mask((y1 - y0, x1 - x0), cut, (x0, y0))
        band = _mask((y1 - y0, x1 - x0), [(teeth, 1.0)], (x0, y0)) * inside
        pixels = np.stack(np.meshgrid(np.arange(x0, x1), np.arange(y0, y1)), axis=-1)
        off_centre = _off_centre(pixels.astype(np.float32), *corners)
        band *= np.clip((TEETH_SPAN + TEETH_FADE / 2 - off_centre) / TEETH_FADE, 0, 1)
        mound = _mask((y1 - y0, x1 - x0), [(tongue, 1.0)], (x0, y0)) * inside * (1 - band)
        lit = np.zeros((y1 - y0, x1 - x0), np.float32)
        if self.lit_band > 0:  # (a band of no height still rasterises as a line)
            lit = _mask((y1 - y0, x1 - x0), [(lip, 1.0)], (x0, y0))
        ramp = PAINT_RAMP if self.paint_teeth else SHOWN_TEETH_RAMP
        strength = float(np.clip(opened / ramp, 0, 1))
        masks = inside, band, mound, lit
        self._composite(frame[y0:y1, x0:x1], *masks, strength, opened * height)

    def _composite(self, region: np.ndarray, inside, band, mound, lit, strength, gap) -> None:
        """Blend the inside and the lit lower lip (masks: HxW float32 in [0, 1]) into
        `region` (in place); `gap`: the opening in pixels."""
        # edges as crisp as real lips: a blur wider than a tenth of the gap greys a narrow
        # opening out, and the face mesh (like a viewer) then reads the lips as closed
        soft = max(0.6, min(0.006 * self.face_height, 0.1 * gap))
        edge = cv2.GaussianBlur(inside, (0, 0), soft)
        # deeper (darker) away from the lips: a wider blur of the same region
        depth = cv2.GaussianBlur(inside, (0, 0), 3 * soft)
        tongue = cv2.GaussianBlur(mound, (0, 0), 1.5 * soft)
        teeth = cv2.GaussianBlur(band, (0, 0), 0.7 * soft)
        alpha = np.clip(edge * 2.0 - 0.2, 0, 1) * strength
        # lit right up to the opening's edge, where the inside then covers it
        lit = cv2.GaussianBlur(lit, (0, 0), max(0.6, 0.3 * LOWER_LIP_BAND * self.face_height))
        lit = lit * (1 - inside) * strength
        # the inside is shaded, with the tongue over it and the teeth over both, and covers
        # the lit lip, which covers the picture: each colour's share of every pixel
        shares = np.stack(
            [
                lit * (1 - alpha),
                (1.0 - 0.55 * depth) * (1 - tongue) * (1 - teeth) * alpha,
                (0.7 + 0.3 * tongue) * tongue * (1 - teeth) * alpha,
                (0.85 + 0.15 * teeth) * teeth * alpha,
            ],
            axis=-1,
        )
        colours = np.stack([self.lit_lip, self.colour, self.tongue, self.teeth])
        kept = ((1 - lit) * (1 - alpha))[..., None]
        mixed = region.astype(np.float32) * kept + shares @ colours + 0.5
        region[:] = np.clip(mixed, 0, 255).astype(np.uint8)


def _drawn_inside(image: np.ndarray, avatar: np.ndarray) -> np.ndarray | None:
    """The colour inside a drawn open mouth at rest (the darker half of the pixels between
    its inner lips: the teeth are the lighter), or None where it shows nothing."""
    hole = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(hole, [np.round(avatar[list(MOUTH_HOLE), :2]).astype(np.int32)], 1)
    pixels = image[hole > 0].astype(np.float32)
    if len(pixels) < 4:
        return None
    brightness = pixels.sum(axis=1)
    return pixels[brightness <= np.median(brightness)].mean(axis=0)


def _off_centre(points: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """How far (..., 2) `points` lie from the mouth's middle towards a corner (`left`,
    `right`: the mouth corners), as a share of the half-width: 0 in the middle, 1 at a corner."""
    half = max(float(np.linalg.norm(right - left)) / 2, 1e-6)
    across = (right - left) / (2 * half)
    return np.abs((points - (left + right) / 2) @ across) / half


def _mask(size: tuple[int, int], polygons, origin) -> np.ndarray:
    """A float32 mask of `size` drawn from (polygon (N, 2) pixels, value) pairs in order."""
    mask = np.zeros(size, np.float32)
    for polygon, value in polygons:
        corners = np.round((polygon - origin) * 4).astype(np.int32)
        cv2.fillPoly(mask, [corners], value, lineType=cv2.LINE_AA, shift=2)
    return mask
