"""Dense piecewise-affine warp of an image driven by mesh-vertex displacements, fast per frame."""

from __future__ import annotations

import cv2
import numpy as np

# Newton steps that turn the forward displacement into the inverse map remap needs: with 3,
# a region squeezed hard (the neck under a dropping, turning chin) is left ragged at its edge;
# 4, keeping each point's best position, miss as little there as 5 without keeping it
INVERSE_ITERATIONS = 4
# A point within a thirtieth of a pixel of its target (CONVERGED, pixels squared) has
# converged: remap reads the field at 1/32 of a grid cell, and misses much finer than this
# are mostly its rounding. Once fewer than COMPACT_BELOW of the points are still stepping,
# the steps go on with those alone instead of sampling the whole grid again. Measured on a
# talking head (lp_d18, a tenth of the points left after two steps) the inverse took 0.58 of
# the time, and on the bench's swaying clip 0.76; the 99th percentile of the miss stayed
# 0.03 and 0.42 pixels.
CONVERGED = 1e-3
COMPACT_BELOW = 0.5
_REMAP_MAX = 32767  # cv2.remap's largest map side
# smoothing passes at most, to take the folds out of a displacement (see untangle)
UNTANGLE_ITERATIONS = 8
# a triangle squeezed below this share of its rest area counts as folding
MIN_AREA_RATIO = 0.08


class MeshWarp:
    """Warps the region of an image covered by moving mesh vertices.

    Built once per avatar: every point of a coarse grid over that region gets the triangle it
    lies in and its barycentric weights, so that per frame the dense displacement is a gather
    and a weighted sum, upsampled with cv2.resize and applied with one cv2.remap.
    """

    def __init__(
        self,
        vertices: np.ndarray,
        triangles: np.ndarray,
        moving: np.ndarray,
        size: tuple[int, int],
        step: int,
        collapsible: np.ndarray | None = None,
        max_points: int | None = None,
    ):
        """vertices: (V, 2) rest positions in pixels; triangles: (T, 3) int; moving: (V,) bool,
        False for vertices that never move (the region outside their triangles stays put);
        size: (height, width) of the image; step: grid spacing in pixels; collapsible: (V,)
        bool, vertices whose triangles may legitimately close up (lids, inner lips);
        max_points: the spacing grows beyond `step` while the grid has more points (the
        per-frame time grows with them)."""
        self.height, self.width = size
        self.step = int(max(1, step))
        while True:
            self.roi = self._region(vertices, triangles, moving)
            x0, y0, w, h = self.roi
            self.grid_shape = (-(-h // self.step), -(-w // self.step))
            ny, nx = self.grid_shape
            if max_points is None or ny * nx <= max_points:
                break
            self.step += 1
        # grid point j sits where cv2.resize's linear upsampling puts sample j
        gx = x0 + (np.arange(nx) + 0.5) * self.step - 0.5
        gy = y0 + (np.arange(ny) + 0.5) * self.step - 0.5
        self.grid = np.stack(np.meshgrid(gx, gy), axis=-1).astype(np.float32)  # (ny, nx, 2)
        self.index, self.weights = self._barycentric(vertices, triangles)
        if collapsible is None:
            collapsible = np.zeros(len(vertices), bool)
        self._prepare_untangle(vertices, triangles, moving, collapsible)
        px, py = np.meshgrid(
            np.arange(x0, x0 + w, dtype=np.float32), np.arange(y0, y0 + h, dtype=np.float32)
        )
        self.pixels = np.stack([px, py], axis=-1)  # (h, w, 2) output pixel coordinates

    def _region(self, vertices, triangles, moving) -> tuple[int, int, int, int]:
        """(x, y, w, h): the box around every triangle with a moving vertex, inside the image."""
        touched = triangles[moving[triangles].any(axis=1)]
        pts = vertices[np.unique(touched)] if len(touched) else vertices[moving]
        x0, y0 = np.floor(pts.min(axis=0)).astype(int) - self.step
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + self.step + 1
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.width), min(y1, self.height)
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)

    def _barycentric(self, vertices, triangles) -> tuple[np.ndarray, np.ndarray]:
        """Per grid point: (G, 3) vertex indices and (G, 3) float32 barycentric weights."""
        ny, nx = self.grid_shape
        x0, y0 = self.roi[:2]
        # rasterise triangle ids in grid coordinates (sub-pixel precise with shift=4)
        to_grid = (vertices - (x0, y0) + 0.5) / self.step - 0.5
        ids = np.full((ny, nx), -1, dtype=np.int32)
        fixed = np.round(to_grid * 16).astype(np.int32)
        a, b, c = (vertices[triangles[:, k]] for k in range(3))
        area = np.abs(
            (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        )
        for t, tri in enumerate(triangles):
            if area[t] > 0.1:  # a collapsed triangle (a closed mouth's gap) has no inside
                cv2.fillConvexPoly(ids, fixed[tri], int(t), lineType=cv2.LINE_8, shift=4)
        ids = ids.reshape(-1)
        found = ids >= 0
        tri = triangles[np.where(found, ids, 0)]
        a, b, c = vertices[tri[:, 0]], vertices[tri[:, 1]], vertices[tri[:, 2]]
        p = self.grid.reshape(-1, 2).astype(np.float64)
        v0, v1, v2 = b - a, c - a, p - a
        det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
        det = np.where(np.abs(det) < 1e-12, 1e-12, det)
        wb = (v2[:, 0] * v1[:, 1] - v2[:, 1] * v1[:, 0]) / det
        wc = (v0[:, 0] * v2[:, 1] - v0[:, 1] * v2[:, 0]) / det
        weights = np.stack([1 - wb - wc, wb, wc], axis=1)
        # cells on a triangle's rim may lie just outside it: no extrapolating beyond the rim
        weights = np.clip(weights, 0.0, 1.0)
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        weights[~found] = 0.0  # not covered: no motion
        return tri.astype(np.int32), weights.astype(np.float32)

    def _prepare_untangle(self, vertices, triangles, moving, collapsible) -> None:
        self.vertices = vertices.astype(np.float64)
        area = _signed_areas(self.vertices, triangles)
        # a closed mouth's gap may open and an eye may close: those are not folds
        # slivers (a profile's far side) turn over at the slightest motion and cover nothing
        sliver = np.abs(area) < max(0.5, 0.15 * float(np.median(np.abs(area))))
        keep = ~sliver & ~collapsible[triangles].all(axis=1)
        self.triangles, self.rest_area = triangles[keep], area[keep]
        edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
        # sorted by their first vertex: each vertex's neighbours are one run of the second
        self.edges = np.unique(np.concatenate([edges, edges[:, ::-1]]), axis=0)
        self.degree = np.bincount(self.edges[:, 0], minlength=len(vertices))
        self.first_edge = np.concatenate([[0], np.cumsum(self.degree)])
        self.moving = moving

    def untangle(self, displacement: np.ndarray) -> np.ndarray:
        """The displacement ((V, 2)) with its folds smoothed out.

        A 2-D warp cannot hide the far side of a turning head or a lip pressed over another:
        where a triangle would turn over (or nearly vanish) its corners take the mean motion
        of their neighbours, a few times, so the picture is squeezed instead of torn.
        """
        displacement = displacement.astype(np.float64).copy()
        for _ in range(UNTANGLE_ITERATIONS):
            area = _signed_areas(self.vertices + displacement, self.triangles)
            bad = area / self.rest_area < MIN_AREA_RATIO
            if not bad.any():
                break
            corners = np.unique(self.triangles[bad])
            corners = corners[self.moving[corners]]
            if len(corners):
                displacement[corners] = self._neighbour_mean(displacement, corners)
        return displacement

    def _neighbour_mean(self, displacement: np.ndarray, corners: np.ndarray) -> np.ndarray:
        """The mean displacement of each corner's neighbours ((len(corners), 2)); corners:
        indices of vertices of the triangles (each has neighbours)."""
        counts = self.degree[corners]
        starts = np.cumsum(counts) - counts  # where each corner's run starts in the gathered list
        runs = np.repeat(self.first_edge[corners] - starts, counts) + np.arange(counts.sum())
        total = np.add.reduceat(displacement[self.edges[runs, 1]], starts, axis=0)
        return total / counts[:, None]

    def inverse_map(self, displacement: np.ndarray) -> np.ndarray:
        """Where each output pixel of the region takes its colour from.

        displacement: (V, 2) float forward motion of each vertex (rest -> moved), pixels.
        Returns (h, w, 2) float32 source coordinates for cv2.remap.
        """
        ny, nx = self.grid_shape
        d = displacement.astype(np.float32)[self.index]  # (G, 3, 2)
        forward = np.einsum("gk,gkc->gc", self.weights, d).reshape(ny, nx, 2)
        source = self._invert(forward)
        h, w = self.roi[3], self.roi[2]
        dense = cv2.resize(self.grid - source, (w, h), interpolation=cv2.INTER_LINEAR)
        return self.pixels - dense

    def _invert(self, forward: np.ndarray) -> np.ndarray:
        """Grid positions s with s + forward(s) = grid point p: (ny, nx, 2) float32.

        Newton steps on the interpolated field: a closing eye squeezes a region several
        times over, where plain fixed-point steps s <- p - forward(s) barely converge. Where
        the field folds (no usable Jacobian) a fixed-point step is taken instead. Each point
        keeps the best position it has been at: next to a line where a region closes up
        completely (a shut eye) the steps can run away, and a pixel there took its colour
        from the brow. A point that has converged (see CONVERGED) stops stepping.
        """
        gradient_x = np.gradient(forward, axis=1) / self.step  # d forward / dx, (ny, nx, 2)
        gradient_y = np.gradient(forward, axis=0) / self.step
        # two 3-channel fields: OpenCV remaps them faster than one of 6 channels, identically
        fields = (
            np.concatenate([forward, gradient_x[..., :1]], axis=2),  # fx, fy, dfx/dx
            np.concatenate([gradient_x[..., 1:], gradient_y], axis=2),  # dfy/dx, dfx/dy, dfy/dy
        )
        x0, y0 = self.roi[:2]
        # one contiguous array per coordinate: the loop's arithmetic runs on whole planes
        grid_x, grid_y = (np.ascontiguousarray(self.grid[..., k]) for k in (0, 1))
        source_x = grid_x - forward[..., 0]
        source_y = grid_y - forward[..., 1]
        best_x, best_y = source_x.copy(), source_y.copy()
        best_miss = np.full(source_x.shape, np.inf, np.float32)
        limit = 4.0 * self.step  # no step longer than this: keeps a bad guess local
        scale = np.float32(1.0 / self.step)
        offset_x, offset_y = (np.float32((0.5 - o) / self.step - 0.5) for o in (x0, y0))
        left = None  # flat indices of the points still stepping, once they are few
        for iteration in range(INVERSE_ITERATIONS + 1):
            fx, fy, dfx_dx, dfy_dx, dfx_dy, dfy_dy = _sample(
                fields, source_x * scale + offset_x, source_y * scale + offset_y
            )
            rx = source_x + fx - grid_x
            ry = source_y + fy - grid_y
            miss = rx * rx + ry * ry
            if left is None:
                better = miss < best_miss
                np.copyto(best_miss, miss, where=better)
                np.copyto(best_x, source_x, where=better)
                np.copyto(best_y, source_y, where=better)
            else:
                better = miss < best_miss.flat[left]
                chosen = left[better]
                best_miss.flat[chosen] = miss[better]
                best_x.flat[chosen] = source_x[better]
                best_y.flat[chosen] = source_y[better]
            # Jacobian [[a, b], [c, e]] of s + forward(s)
            a, c, b, e = dfx_dx + 1.0, dfy_dx, dfx_dy, dfy_dy + 1.0
            det = a * e - b * c
            folded = det <= 0.05
            # a point on a fold steps on: another position may miss by less
            going = (miss > CONVERGED) | folded
            count = int(np.count_nonzero(going))
            if iteration == INVERSE_ITERATIONS or count == 0:
                break
            det = np.where(folded, np.float32(1.0), det)
            step_x = np.where(folded, rx, (e * rx - b * ry) / det)
            step_y = np.where(folded, ry, (a * ry - c * rx) / det)
            source_x -= np.clip(step_x, -limit, limit, out=step_x)
            source_y -= np.clip(step_y, -limit, limit, out=step_y)
            if count < min(COMPACT_BELOW * going.size, _REMAP_MAX):
                # the rest have converged: step on with the few that have not
                index = np.flatnonzero(going)
                left = index if left is None else left[index]
                source_x, source_y, grid_x, grid_y = (
                    v.reshape(-1)[index] for v in (source_x, source_y, grid_x, grid_y)
                )
        return np.stack([best_x, best_y], axis=-1)

    def apply(
        self, image: np.ndarray, displacement: np.ndarray, out: np.ndarray, adjust=None
    ) -> None:
        """Write `image` (HxWx3 uint8) warped by `displacement` ((V, 2)) into `out`'s region.
        `adjust(source, (x0, y0))`, when given, may change the dense source map (h, w, 2) of
        the region whose top-left output pixel is (x0, y0) before it is applied."""
        x0, y0, w, h = self.roi
        source = self.inverse_map(self.untangle(displacement))
        if adjust is not None:
            adjust(source, (x0, y0))
        out[y0 : y0 + h, x0 : x0 + w] = cv2.remap(
            image, source, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )


def _sample(fields, map_x: np.ndarray, map_y: np.ndarray) -> list[np.ndarray]:
    """The channels of `fields` (3-channel float32 grids) read at (map_x, map_y), grid
    coordinates of any one shape (a flat list is read as one row): six arrays of that shape."""
    shape = map_x.shape
    if map_x.ndim == 1:
        map_x, map_y = map_x[None], map_y[None]
    planes = []
    for field in fields:
        sampled = cv2.remap(field, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        planes.extend(plane.reshape(shape) for plane in cv2.split(sampled))
    return planes


def _signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
