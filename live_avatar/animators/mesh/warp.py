"""Dense piecewise-affine warp of an image driven by mesh-vertex displacements, fast per frame."""

from __future__ import annotations

import cv2
import numpy as np

# fixed-point steps that turn the forward displacement into the inverse map remap needs
INVERSE_ITERATIONS = 2


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
    ):
        """vertices: (V, 2) rest positions in pixels; triangles: (T, 3) int; moving: (V,) bool,
        False for vertices that never move (the region outside their triangles stays put);
        size: (height, width) of the image; step: grid spacing in pixels."""
        self.height, self.width = size
        self.step = int(max(1, step))
        self.roi = self._region(vertices, triangles, moving)
        x0, y0, w, h = self.roi
        self.grid_shape = (-(-h // self.step), -(-w // self.step))
        ny, nx = self.grid_shape
        # grid point j sits where cv2.resize's linear upsampling puts sample j
        gx = x0 + (np.arange(nx) + 0.5) * self.step - 0.5
        gy = y0 + (np.arange(ny) + 0.5) * self.step - 0.5
        self.grid = np.stack(np.meshgrid(gx, gy), axis=-1).astype(np.float32)  # (ny, nx, 2)
        self.index, self.weights = self._barycentric(vertices, triangles)
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
        for t, tri in enumerate(triangles):
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
        weights[~found] = 0.0  # not covered: no motion
        return tri.astype(np.int32), weights.astype(np.float32)

    def inverse_map(self, displacement: np.ndarray) -> np.ndarray:
        """Where each output pixel of the region takes its colour from.

        displacement: (V, 2) float forward motion of each vertex (rest -> moved), pixels.
        Returns (h, w, 2) float32 source coordinates for cv2.remap.
        """
        ny, nx = self.grid_shape
        d = displacement.astype(np.float32)[self.index]  # (G, 3, 2)
        forward = np.einsum("gk,gkc->gc", self.weights, d).reshape(ny, nx, 2)
        # source s of output p solves s + forward(s) = p; iterate s <- p - forward(s)
        back = forward
        x0, y0 = self.roi[:2]
        for _ in range(INVERSE_ITERATIONS):
            source = self.grid - back
            gx = (source[..., 0] - x0 + 0.5) / self.step - 0.5
            gy = (source[..., 1] - y0 + 0.5) / self.step - 0.5
            back = cv2.remap(forward, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        h, w = self.roi[3], self.roi[2]
        dense = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR)
        return self.pixels - dense

    def apply(self, image: np.ndarray, displacement: np.ndarray, out: np.ndarray) -> None:
        """Write `image` (HxWx3 uint8) warped by `displacement` ((V, 2)) into `out`'s region."""
        x0, y0, w, h = self.roi
        source = self.inverse_map(displacement)
        out[y0 : y0 + h, x0 : x0 + w] = cv2.remap(
            image, source, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
