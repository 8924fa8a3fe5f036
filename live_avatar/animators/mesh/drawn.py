"""A drawn face's mouth: found in the picture where the face mesh misplaces it.

On anime and other drawn faces the face mesh lays a human face's proportions over a short
lower face: it puts the lips on the chin and the nose on the drawn mouth (the anime figure of
the shared set: lips 10 px, a whole mouth height, below the drawn one). Opened there, the
jaw stretched the chin and the drawn mouth stayed shut. Where the mesh misplaces the mouth
(see misplaced_mouth), the mouth is looked for in the picture: the topmost patch below the
eyes that is not skin-coloured, stands alone in the middle of the lower face and is larger
than a drawn nose (the chin's outline lies below it). The lower face is then refitted so
that the mesh's lips cover that mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from live_avatar.animators.mesh.mouth import LOWER_LIP_BOTTOM, UPPER_LIP_TOP, eye_span
from live_avatar.animators.mesh.raster import colour_distance, upright_band
from live_avatar.animators.mesh.topology import (
    CHIN,
    INNER_LIP_LOWER,
    INNER_LIP_UPPER,
    LEFT_EYE,
    OUTER_LIP_LOWER,
    OUTER_LIP_UPPER,
    RIGHT_EYE,
    face_axes,
)

# The search band, in face axes from the eyes' centre: across within SEARCH_ACROSS eye spans
# of the midline, down from SEARCH_FROM to SEARCH_TO of the way from the eyes to the mesh's
# chin (which lies at or below a drawn face's chin). Sampled SEARCH_SCALE times finer than
# the picture, so that a small face's mouth outline stays connected.
SEARCH_ACROSS = 0.45
SEARCH_FROM, SEARCH_TO = 0.2, 1.05
SEARCH_SCALE = 4.0
# A pixel belongs to a feature when its colour (CIELAB) is at least this far from the band's
# own median colour (the skin), and well outside the spread of the skin's shading.
MIN_CONTRAST = 25.0
SPREAD_FACTOR = 6.0
# The mouth: a patch clear of the band's sides and bottom (hair, neck and jaw line run into
# them), its centre within MAX_OFF_CENTRE eye spans of the midline, at most MAX_WIDTH eye
# spans wide and MAX_HEIGHT of the eyes-to-chin depth tall, and at least MIN_AREA of the
# square of the eye span (a nose mark or a freckle is smaller).
MAX_OFF_CENTRE = 0.2
MAX_WIDTH = 0.8
MAX_HEIGHT = 0.4
MIN_AREA = 0.004
# Fitted to a drawn face's short lower face, the face mesh squeezes the chin under its lips:
# lower lip to chin 0.03-0.07 of the face height on the anime figure (scaled, turned and
# cropped), 0.11-0.27 on 133 photographs, paintings, statues and 3-D cartoons.
SQUEEZED_CHIN = 0.09
# Above this share of the eyes-to-chin depth, the lower face is left where the mesh put it.
FIT_FROM = 0.2
# Across the face, the mouth's landmarks are scaled into the drawn mouth's box wholly up to
# FADE_FROM of the mesh mouth's half-width from its middle, fading out by FADE_TO.
FADE_FROM, FADE_TO = 1.1, 2.0
# A drawn mouth whose columns are (median) at least OPEN_DRAWN of its width tall is drawn
# open: its lips are lines DRAWN_LINE of its height thick along its edges, and what lies
# between them is its inside. A thinner one is a closed mouth, a line (straight or a smile's
# curve, whose box is taller than the line), its lips meeting along its middle.
OPEN_DRAWN = 0.25
DRAWN_LINE = 0.15
MIN_GAIN = 0.3  # the least share of the driver's opening a drawn mouth takes (see drawn_gain)


@dataclass
class DrawnMouth:
    """A drawn mouth in face axes (pixels across from the midline and down from the eyes'
    centre): its box, and its upper and lower edge at each of `columns` across it."""

    left: float
    right: float
    top: float
    bottom: float
    columns: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    chin: float | None = None  # the drawn chin's outline below the mouth, if seen


def _frame(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """(eyes' centre, right axis, down axis, eye span, eyes-to-chin depth) of landmarks."""
    right, down, _ = face_axes(xy)
    eyes = (
        xy[[RIGHT_EYE.outer, RIGHT_EYE.inner]].mean(axis=0)
        + xy[[LEFT_EYE.outer, LEFT_EYE.inner]].mean(axis=0)
    ) / 2
    depth = float((xy[CHIN] - eyes) @ down)
    return eyes, right, down, eye_span(xy), max(depth, 1e-6)


def find_drawn_mouth(image: np.ndarray, landmarks: np.ndarray) -> DrawnMouth | None:
    """The drawn mouth of the face whose landmarks ((478, 2+) pixels) are given, in
    `image` (HxWx3 uint8 RGB); None where no patch looks like one."""
    xy = landmarks[:, :2].astype(np.float64)
    eyes, right, down, span, depth = _frame(xy)
    u0, u1 = -SEARCH_ACROSS * span, SEARCH_ACROSS * span
    v0, v1 = SEARCH_FROM * depth, SEARCH_TO * depth
    width, height = int((u1 - u0) * SEARCH_SCALE), int((v1 - v0) * SEARCH_SCALE)
    if width < 8 or height < 8:
        return None
    # band pixel (x, y) lies at eyes + right * (u0 + x / scale) + down * (v0 + y / scale)
    origin = eyes + right * u0 + down * v0
    band, _ = upright_band(image, origin, right, down, SEARCH_SCALE, (width, height))
    distance = colour_distance(band)
    typical = float(np.median(distance))
    spread = float(np.median(np.abs(distance - typical)))
    feature = (distance > max(MIN_CONTRAST, typical + SPREAD_FACTOR * spread)).astype(np.uint8)
    feature = cv2.morphologyEx(feature, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(feature)
    best = None
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        left, right_edge = u0 + x / SEARCH_SCALE, u0 + (x + w) / SEARCH_SCALE
        top, bottom = v0 + y / SEARCH_SCALE, v0 + (y + h) / SEARCH_SCALE
        if x == 0 or y == 0 or x + w >= width or y + h >= height:
            continue  # runs into hair, glasses, the jaw line or the neck
        if abs(left + right_edge) / 2 > MAX_OFF_CENTRE * span:
            continue
        if right_edge - left > MAX_WIDTH * span or bottom - top > MAX_HEIGHT * depth:
            continue
        if area / SEARCH_SCALE**2 < MIN_AREA * span**2:
            continue
        if best is None or top < best[0]:
            best = (top, label, (left, right_edge, top, bottom))
    if best is None:
        return None
    _, label, box = best
    inside = labels == label
    filled = np.flatnonzero(inside.any(axis=0))
    rows = np.arange(height)[:, None]
    upper = np.where(inside, rows, height).min(axis=0)[filled]
    lower = np.where(inside, rows, -1).max(axis=0)[filled] + 1
    # the chin: the first feature under the mouth in the mouth's middle columns
    middle = filled[len(filled) // 2 - 1 : len(filled) // 2 + 2]
    under = int(stats[label][1] + stats[label][3])  # the first row below the mouth
    below = feature[under:, middle].any(axis=1)
    chin = None
    if below.any():
        chin = v0 + (under + np.argmax(below)) / SEARCH_SCALE
    return DrawnMouth(
        *box,
        columns=u0 + (filled + 0.5) / SEARCH_SCALE,
        upper=v0 + upper / SEARCH_SCALE,
        lower=v0 + lower / SEARCH_SCALE,
        chin=chin,
    )


def misplaced_mouth(image: np.ndarray, landmarks: np.ndarray, seen: bool) -> DrawnMouth | None:
    """The drawn mouth to fit the face mesh to (see find_drawn_mouth), where the mesh
    misplaces the avatar's: it does not see the mouth open at all (`seen` False, from the
    animator's probe), or it squeezed the chin under its lips (SQUEEZED_CHIN) and a drawn
    mouth lies above them. None for a face the mesh fits."""
    xy = landmarks[:, :2].astype(np.float64)
    _, down, height = face_axes(xy)
    squeezed = float((xy[CHIN] - xy[LOWER_LIP_BOTTOM]) @ down) < SQUEEZED_CHIN * height
    if seen and not squeezed:
        return None
    mouth = find_drawn_mouth(image, landmarks)
    if mouth is None or not seen:
        return mouth
    eyes, _, _, _, _ = _frame(xy)
    lip_top = float((xy[UPPER_LIP_TOP] - eyes) @ down)
    return mouth if (mouth.top + mouth.bottom) / 2 < lip_top else None


def fit_drawn_mouth(landmarks: np.ndarray, mouth: DrawnMouth) -> np.ndarray:
    """The landmarks ((478, 3) pixels) with the lower face refitted to a drawn mouth; a copy.

    Across the face, the mouth is scaled into the drawn mouth's width. Down the face, each
    point moves by a piecewise-linear map of its column (so nothing folds): the outer lips go
    to the drawn mouth's edges, the inner lips just inside them (an open drawn mouth) or to
    its middle line (a closed one), and the band under the eyes and the chin stay.
    """
    points = landmarks.astype(np.float64).copy()
    xy = points[:, :2]
    eyes, right, down, _, depth = _frame(xy)
    across = (xy - eyes) @ right
    along = (xy - eyes) @ down
    lips = list(OUTER_LIP_UPPER + OUTER_LIP_LOWER)
    top, bottom = along[lips].min(), along[lips].max()
    left, right_edge = across[lips].min(), across[lips].max()
    start = FIT_FROM * depth
    if not (start < mouth.top < mouth.bottom < depth and start < top < bottom < depth):
        return points
    centre, half = (left + right_edge) / 2, max((right_edge - left) / 2, 1e-6)
    beside = np.abs(across - centre) / half
    near = np.clip((FADE_TO - beside) / (FADE_TO - FADE_FROM), 0.0, 1.0)
    # ... and down the face, wholly beside the lips, fading out up to the band under the
    # eyes and down to the chin
    near *= np.clip(
        np.minimum((along - start) / (top - start), (depth - along) / (depth - bottom)), 0, 1
    )
    scale = (mouth.right - mouth.left) / 2 / half
    boxed = (mouth.left + mouth.right) / 2 + (across - centre) * scale
    new_across = across + near * (boxed - across)

    def contour(indices: tuple) -> np.ndarray:
        """The mesh lip contour's depth at every point's column."""
        order = np.argsort(across[list(indices)])
        return np.interp(across, across[list(indices)][order], along[list(indices)][order])

    mesh = np.stack(
        [
            np.full(len(xy), start),
            contour(OUTER_LIP_UPPER),
            contour(INNER_LIP_UPPER),
            contour(INNER_LIP_LOWER),
            contour(OUTER_LIP_LOWER),
            np.full(len(xy), depth),
        ],
        axis=1,
    )
    upper = np.interp(new_across, mouth.columns, mouth.upper)
    lower = np.interp(new_across, mouth.columns, mouth.lower)
    if np.median(mouth.lower - mouth.upper) >= OPEN_DRAWN * (mouth.right - mouth.left):
        line = DRAWN_LINE * (lower - upper)
        inner_upper, inner_lower = upper + line, lower - line
    else:
        inner_upper = inner_lower = (upper + lower) / 2
    # the chin goes up to the drawn one where that lies above the mesh's, and what lies
    # beyond the mesh's chin moves up with it
    chin = depth
    if mouth.chin is not None and mouth.bottom < mouth.chin < depth:
        chin = mouth.chin
    drawn = np.stack(
        [mesh[:, 0], upper, inner_upper, inner_lower, lower, np.full(len(xy), chin)], axis=1
    )
    plain = np.interp(along, [start, top, bottom, depth], [start, mouth.top, mouth.bottom, chin])
    fitted = _piecewise(along, mesh, drawn)
    # the contours themselves by name: where the mesh's lips meet, a point on the line
    # between them belongs to one lip or the other
    for contour_points, column in (
        (OUTER_LIP_UPPER, 1), (INNER_LIP_UPPER, 2), (INNER_LIP_LOWER, 3), (OUTER_LIP_LOWER, 4)
    ):
        middle = list(contour_points[1:-1])
        fitted[middle] = drawn[middle, column]
    corners = (OUTER_LIP_UPPER[0], OUTER_LIP_UPPER[-1], INNER_LIP_UPPER[0], INNER_LIP_UPPER[-1])
    for corner in corners:
        fitted[corner] = (upper[corner] + lower[corner]) / 2
    new_along = np.where(along > start, near * fitted + (1 - near) * plain, along)
    new_along = np.where(along >= depth, along + chin - depth, new_along)
    xy[:] = eyes + np.outer(new_across, right) + np.outer(new_along, down)
    return points


def _piecewise(values: np.ndarray, knots: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each value mapped through its own row of increasing `knots` ((N, K)) onto `targets`
    ((N, K)), linearly between knots."""
    knots = np.maximum.accumulate(knots, axis=1) + 1e-6 * np.arange(knots.shape[1])
    segment = np.clip((values[:, None] >= knots).sum(axis=1) - 1, 0, knots.shape[1] - 2)
    rows = np.arange(len(values))
    low, high = knots[rows, segment], knots[rows, segment + 1]
    share = np.clip((values - low) / (high - low), 0.0, 1.0)
    return targets[rows, segment] + share * (targets[rows, segment + 1] - targets[rows, segment])


def drawn_gain(mesh: np.ndarray, fitted: np.ndarray) -> float:
    """The share of the driver's mouth opening a drawn mouth takes: a mouth drawn smaller
    than the face mesh's human one (landmarks (478, 2+) before and after the fit) opens by
    as much less, or a wide opening would stretch its chin onto the neck."""
    corners = [OUTER_LIP_UPPER[0], OUTER_LIP_UPPER[-1]]
    before = float(np.linalg.norm(mesh[corners[1], :2] - mesh[corners[0], :2]))
    after = float(np.linalg.norm(fitted[corners[1], :2] - fitted[corners[0], :2]))
    return float(np.clip(after / max(before, 1e-6), MIN_GAIN, 1.0))
