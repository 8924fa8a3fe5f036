"""Face-mesh index sets (mediapipe's 478 points) and the mesh over landmarks, anchors and border."""

from __future__ import annotations

import functools

import cv2
import numpy as np

# --- landmark index sets (mediapipe face mesh with irises) ---------------------------------
#: closed outline of the face, forehead to chin
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
#: points that move only with the head (forehead, temples, upper cheeks, nose, eye corners):
#: the rigid pose is fitted on these so that speaking and blinking do not shake it
STABLE = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 45, 275, 33, 133, 362, 263, 116, 345, 123, 352,
)  # fmt: skip
FOREHEAD_TOP, CHIN = 10, 152
NOSE_TIP = 1
NOSE_BASE = 2
RIGHT_CHEEK, LEFT_CHEEK = 234, 454  # image left / image right on a frontal face
# lips: inner contour, corner to corner, upper then lower
INNER_LIP_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LIP_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
OUTER_LIP_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LIP_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
#: (upper, lower) inner-lip pairs whose gap is the mouth opening
MOUTH_PAIRS = ((13, 14), (82, 87), (312, 317))
#: the inner-lip polygon, going round once (the opened mouth's hole)
MOUTH_HOLE = INNER_LIP_UPPER + tuple(reversed(INNER_LIP_LOWER[1:-1]))
LOWER_LIP = tuple(sorted(set(INNER_LIP_LOWER[1:-1] + OUTER_LIP_LOWER[1:-1])))
UPPER_LIP = tuple(sorted(set(INNER_LIP_UPPER + OUTER_LIP_UPPER)))


class Eye:
    """Index sets of one eye: corners, upper and lower lid contours, iris."""

    def __init__(self, outer, inner, upper, lower, iris, lid_pair, above):
        self.outer, self.inner = outer, inner  # corner indices
        self.upper, self.lower = upper, lower  # lid contours without the corners
        self.above = above  # the ring of points just above the upper lid, one per upper point
        self.iris = iris  # centre first, then 4 points on the rim
        self.lid_pair = lid_pair  # (upper, lower) at the middle: the eye's opening
        self.points = np.array((outer, inner) + upper + lower + iris)
        self.ring = (outer, *upper, inner, *reversed(lower))  # the eye's outline, in order


RIGHT_EYE = Eye(
    33, 133, (246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155),
    (468, 469, 470, 471, 472), (159, 145), (247, 30, 29, 27, 28, 56, 190),
)  # fmt: skip
LEFT_EYE = Eye(
    263, 362, (466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382),
    (473, 474, 475, 476, 477), (386, 374), (467, 260, 259, 257, 258, 286, 414),
)  # fmt: skip
EYES = (RIGHT_EYE, LEFT_EYE)

# --- anchors around the face -----------------------------------------------------------------
#: (scale of the face oval about its centre, share of the head's rigid motion it follows):
#: hair and ears move with the head, the far ring stays, and between them motion fades out
ANCHOR_RINGS = ((1.25, 1.0), (1.6, 0.55), (2.1, 0.2), (2.7, 0.0))
BORDER_POINTS_PER_SIDE = 8


def anchor_points(landmarks: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Rings of anchor points around the face in an image of width x height.

    landmarks: (478, 3) pixels. Returns (points (M, 3) float64: x, y and the depth of the
    outline point each ring point was scaled from, so that it turns with the outline;
    follow (M,) float64 share of the rigid head motion each follows). Points outside the
    image are dropped; the image border gets fixed points (follow 0) so the picture frame
    never moves.
    """
    oval3 = landmarks[list(FACE_OVAL)].astype(np.float64)
    oval = oval3[:, :2]
    centre = oval.mean(axis=0)
    points, follow = [], []
    for scale, share in ANCHOR_RINGS:
        ring = centre + (oval - centre) * scale
        inside = (
            (ring[:, 0] > 1)
            & (ring[:, 0] < width - 2)
            & (ring[:, 1] > 1)
            & (ring[:, 1] < height - 2)
        )
        points.append(np.column_stack([ring, oval3[:, 2]])[inside])
        follow.append(np.full(int(inside.sum()), share))
    t = np.linspace(0.0, 1.0, BORDER_POINTS_PER_SIDE, endpoint=False)
    right, bottom = width - 1.0, height - 1.0
    border = np.concatenate(
        [
            np.stack([t * right, np.zeros_like(t)], 1),
            np.stack([np.full_like(t, right), t * bottom], 1),
            np.stack([right - t * right, np.full_like(t, bottom)], 1),
            np.stack([np.zeros_like(t), bottom - t * bottom], 1),
        ]
    )
    points.append(np.column_stack([border, np.zeros(len(border))]))
    follow.append(np.zeros(len(border)))
    return np.concatenate(points), np.concatenate(follow)


def delaunay(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles over `points` ((V, 2) pixels); returns (T, 3) int32 vertex indices.

    Points that coincide with an earlier one are left out of the triangles (their neighbours
    carry the motion there).
    """
    low = points.min(axis=0) - 10
    high = points.max(axis=0) + 10
    subdiv = cv2.Subdiv2D(
        (int(low[0]), int(low[1]), int(high[0] - low[0]) + 1, int(high[1] - low[1]) + 1)
    )
    vertex_of = {}
    for index, (x, y) in enumerate(points.astype(np.float32)):
        key = (float(x), float(y))
        if key not in vertex_of:
            vertex_of[key] = index
            subdiv.insert(key)
    triangles = []
    for x1, y1, x2, y2, x3, y3 in subdiv.getTriangleList():
        keys = ((float(x1), float(y1)), (float(x2), float(y2)), (float(x3), float(y3)))
        if all(k in vertex_of for k in keys):  # skips the virtual outer vertices
            triangles.append([vertex_of[k] for k in keys])
    return np.array(triangles, dtype=np.int32)


def collapsible_points() -> np.ndarray:
    """(478,) bool: the lids, irises and inner lips, whose triangles close up in a blink or
    when the lips meet (not a fold to smooth away)."""
    mask = np.zeros(478, bool)
    for eye in EYES:
        mask[eye.points] = True
    mask[list(INNER_LIP_UPPER + INNER_LIP_LOWER)] = True
    return mask


@functools.lru_cache(maxsize=1)
def face_triangles() -> np.ndarray:
    """Mediapipe's own face-mesh triangles (its tessellation; holes at the eyes and mouth).

    Read from mediapipe's edge list as its 3-cliques, dropping the few cliques that are not
    faces (all three of their edges are shared by more than two cliques). (T, 3) int32.
    """
    from collections import Counter, defaultdict

    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    neighbours = defaultdict(set)
    for a, b in FACEMESH_TESSELATION:
        neighbours[a].add(b)
        neighbours[b].add(a)
    cliques = {
        tuple(sorted((a, b, c)))
        for a in neighbours
        for b in neighbours[a]
        for c in neighbours[a] & neighbours[b]
    }
    edges = Counter(e for t in cliques for e in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2])))
    faces = [
        t
        for t in cliques
        if min(edges[(t[0], t[1])], edges[(t[1], t[2])], edges[(t[0], t[2])]) <= 2
    ]
    return np.array(sorted(faces), dtype=np.int32)


def _strip(upper: tuple, lower: tuple) -> list[tuple[int, int, int]]:
    """Triangles filling the gap between two contours that share their end points."""
    triangles = []
    for i in range(len(upper) - 1):
        for tri in ((upper[i], upper[i + 1], lower[i + 1]), (upper[i], lower[i + 1], lower[i])):
            if len(set(tri)) == 3:
                triangles.append(tri)
    return triangles


def _inside(
    points: np.ndarray, triangles: np.ndarray, polygon: np.ndarray, want: bool
) -> np.ndarray:
    """The triangles whose centroid is inside (want=True) or outside `polygon`."""
    contour = polygon.astype(np.float32).reshape(-1, 1, 2)
    keep = [
        (cv2.pointPolygonTest(contour, tuple(map(float, points[t].mean(axis=0))), False) > 0)
        == want
        for t in triangles
    ]
    return triangles[np.array(keep, dtype=bool)] if len(triangles) else triangles


def mesh_triangles(
    landmarks: np.ndarray, anchors: np.ndarray, parting: int | None = None
) -> np.ndarray:
    """Triangles over the 478 landmarks followed by the anchors ((M, 2)): (T, 3) int32.

    The face uses mediapipe's tessellation (so no triangle cuts through a lip or a lid); the
    mouth hole is closed by a strip between the inner lips, each eye hole by triangles over
    its lids and iris, and the outside by a Delaunay triangulation of the face outline and
    the anchors. `parting`: the index of the first of the parting line's vertices (its upper
    copy, then its lower copy, one per inner-lip pair without the corners), which splits the
    mouth strip in two.
    """
    xy = np.concatenate([landmarks[:, :2].astype(np.float64), anchors])
    # drawn in this order, so where parts overlap the face's own triangles win
    outline = np.array(FACE_OVAL)
    outside = np.concatenate([outline, np.arange(len(landmarks), len(xy))])
    parts = [_inside(xy, outside[delaunay(xy[outside])], xy[outline], want=False)]
    for eye in EYES:
        ring = np.array(eye.ring)
        local = np.concatenate([ring, np.array(eye.iris)])
        parts.append(_inside(xy, local[delaunay(xy[local])], xy[ring], want=True))
    if parting is None:
        parts.append(np.array(_strip(INNER_LIP_UPPER, INNER_LIP_LOWER), np.int32))
    else:
        pairs = len(INNER_LIP_UPPER) - 2
        corners = INNER_LIP_UPPER[0], INNER_LIP_UPPER[-1]
        upper_copy = (corners[0], *range(parting, parting + pairs), corners[1])
        lower_copy = (corners[0], *range(parting + pairs, parting + 2 * pairs), corners[1])
        parts.append(np.array(_strip(INNER_LIP_UPPER, upper_copy), np.int32))
        parts.append(np.array(_strip(lower_copy, INNER_LIP_LOWER), np.int32))
    parts.append(face_triangles())
    return np.concatenate(parts).astype(np.int32)


# As a mouth opens, the face mesh's chin drops 0.2-0.45 times as far as the lower lip (0.44
# on lp_d18's yawns, 0.23 on lp_d0's speech): the avatar's chin follows the jaw by this share.
# At 1 (the whole lower face dropping with the lip), an opened mouth stretched the avatar's
# chin, and a clip calibrated mid-sentence kept the chin dropped when the mouth closed.
CHIN_FOLLOWS = 0.4


def jaw_weights(landmarks: np.ndarray, chin_follows: float = CHIN_FOLLOWS) -> np.ndarray:
    """How much each landmark follows the jaw when the mouth opens: (478,) float64 in [0, 1].

    The whole lower lip moves (fading to 0.3 at the hinging corners), the upper lip not at
    all; below the lip the weight falls to CHIN_FOLLOWS at the chin, and the lower cheeks
    move partly, fading towards the jaw angles. Neighbours get similar weights so that no
    triangle turns over.
    landmarks: (478, 2+) pixels of a rest face.
    """
    xy = landmarks[:, :2].astype(np.float64)
    right_axis, down_axis, _ = face_axes(xy)
    mouth = xy[[13, 14]].mean(axis=0)
    face_width = np.linalg.norm(xy[LEFT_CHEEK] - xy[RIGHT_CHEEK])
    half_mouth = max(np.linalg.norm(xy[291] - xy[61]) / 2, 1e-6)
    across = (xy - mouth) @ right_axis
    below = (xy - mouth) @ down_axis
    lip_thickness = max(np.linalg.norm(xy[17] - xy[14]), 1e-6)
    ramp = np.clip(below / (0.3 * lip_thickness), 0, 1)
    weights = ramp * np.exp(-((across / (0.33 * face_width)) ** 2))
    # from the lower lip down to the chin, the weight falls to CHIN_FOLLOWS
    lip_bottom = (xy[17] - mouth) @ down_axis
    chin_depth = max(float((xy[CHIN] - mouth) @ down_axis - lip_bottom), 1e-6)
    weights *= 1 - (1 - chin_follows) * np.clip((below - lip_bottom) / chin_depth, 0, 1)
    # the lip bands: everything between the outer and inner contour of each lip
    lower = _depth_inside(xy, OUTER_LIP_LOWER + tuple(reversed(INNER_LIP_LOWER[1:-1])))
    upper = _depth_inside(xy, OUTER_LIP_UPPER + tuple(reversed(INNER_LIP_UPPER[1:-1])))
    in_lower = (lower > -1.0) & (lower >= upper)
    in_upper = (upper > -1.0) & (upper > lower)
    # the contours themselves decide where the two lips touch (a closed mouth)
    in_lower[list(LOWER_LIP)], in_upper[list(LOWER_LIP)] = True, False
    in_lower[list(UPPER_LIP)], in_upper[list(UPPER_LIP)] = False, True
    lip_fade = np.clip(1 - 0.7 * (across / half_mouth) ** 2, 0.3, 1.0)
    weights[in_lower] = np.maximum(weights[in_lower], lip_fade[in_lower])
    weights[in_upper] = 0.0
    weights[[61, 291, 78, 308]] = 0.3  # the corners hinge
    return weights


def chin_weights(landmarks: np.ndarray) -> np.ndarray:
    """How much each landmark moves with the chin alone, the lips staying: (478,) float64 in
    [0, 1], 0 on the lower lip rising to 1 at the chin, fading towards the jaw angles.
    landmarks: (478, 2+) pixels of a rest face."""
    jaw = jaw_weights(landmarks)
    return (jaw_weights(landmarks, chin_follows=1.0) - jaw) / (1.0 - CHIN_FOLLOWS)


def upper_lip_weights(landmarks: np.ndarray) -> np.ndarray:
    """How much each landmark moves with the upper lip alone: (478,) float64 in [0, 1], 1 on
    the upper lip, falling to 0 at the base of the nose above it and at the lower lip below,
    fading towards the cheeks. landmarks: (478, 2+) pixels of a rest face."""
    xy = landmarks[:, :2].astype(np.float64)
    right_axis, down_axis, _ = face_axes(xy)
    nose_base = xy[NOSE_BASE]
    lip_top = max(float((xy[0] - nose_base) @ down_axis), 1e-6)
    mouth = xy[[13, 14]].mean(axis=0)
    face_width = np.linalg.norm(xy[LEFT_CHEEK] - xy[RIGHT_CHEEK])
    lip_thickness = max(np.linalg.norm(xy[17] - xy[14]), 1e-6)
    from_nose = np.clip(((xy - nose_base) @ down_axis) / lip_top, 0, 1)
    above_lower_lip = np.clip(1 - ((xy - mouth) @ down_axis) / lip_thickness, 0, 1)
    across = np.exp(-((((xy - mouth) @ right_axis) / (0.33 * face_width)) ** 2))
    return from_nose * above_lower_lip * across * (1 - jaw_weights(xy))


def mouth_region_weights(landmarks: np.ndarray) -> np.ndarray:
    """How much each landmark's place depends on the mouth's shape: (478,) float64 in [0, 1].

    1 over the lips and within 0.3 face widths of the mouth's centre, fading to 0 at 0.6; the
    jaw's share below; 0 on the STABLE points the head pose is fitted on.
    landmarks: (478, 2+) pixels.
    """
    xy = landmarks[:, :2].astype(np.float64)
    face_width = max(float(np.linalg.norm(xy[LEFT_CHEEK] - xy[RIGHT_CHEEK])), 1e-6)
    mouth = xy[list(MOUTH_HOLE)].mean(axis=0)
    near = np.clip(2.0 - np.linalg.norm(xy - mouth, axis=1) / (0.3 * face_width), 0.0, 1.0)
    weights = np.maximum(near, jaw_weights(xy))
    weights[list(STABLE)] = 0.0
    return weights


def expression_weights(landmarks: np.ndarray) -> np.ndarray:
    """How much of the driver's expression each landmark takes: (478,) float64 in [0, 1].

    Mouth, eyes and brows move with expressions; the outline, nose and upper cheeks only
    with the head. Their landmarks' residual motion is mostly mediapipe sliding its outline
    along a turning head's silhouette, which would fold the avatar's cheeks, so it is faded
    out with the distance from the mouth and the eyes. landmarks: (478, 2+) rest pixels.
    """
    xy = landmarks[:, :2].astype(np.float64)
    face_width = np.linalg.norm(xy[LEFT_CHEEK] - xy[RIGHT_CHEEK])
    mouth = xy[list(MOUTH_HOLE)].mean(axis=0)
    features = [(mouth, 0.32 * face_width, 0.2 * face_width)]
    for eye in EYES:
        centre = xy[[eye.outer, eye.inner]].mean(axis=0)
        # the brow sits above the eye: reach a little further for it
        features.append((centre, 0.22 * face_width, 0.12 * face_width))
    weights = np.zeros(len(xy))
    for centre, reach, fade in features:
        distance = np.linalg.norm(xy - centre, axis=1)
        weights = np.maximum(weights, np.clip((reach + fade - distance) / fade, 0, 1))
    return weights


def _depth_inside(xy: np.ndarray, polygon: tuple) -> np.ndarray:
    """Signed distance of every point to the polygon over `polygon`'s indices (> 0 inside)."""
    contour = xy[list(polygon)].astype(np.float32).reshape(-1, 1, 2)
    return np.array([cv2.pointPolygonTest(contour, (float(x), float(y)), True) for x, y in xy])


def face_axes(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The face's own right and down unit vectors and its height (forehead top to chin).

    xy: (478, 2) pixels. 'right' runs along the eye line from image-left to image-right eye.
    """
    right_axis = xy[LEFT_EYE.outer] - xy[RIGHT_EYE.outer]
    right_axis = right_axis / max(np.linalg.norm(right_axis), 1e-9)
    down_axis = np.array([-right_axis[1], right_axis[0]])
    face_height = float(np.linalg.norm(xy[CHIN] - xy[FOREHEAD_TOP]))
    return right_axis, down_axis, face_height
