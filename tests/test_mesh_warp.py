"""The dense mesh warp on a synthetic mesh: known motion, and the grid-point budget."""

from __future__ import annotations

import cv2
import numpy as np

from live_avatar.animators.mesh.warp import MeshWarp


def _square_mesh(size: int = 200, cells: int = 4):
    """A regular triangulated square of (cells + 1)^2 vertices over a size x size image; the
    border vertices stay put, the inner ones move."""
    ticks = np.linspace(0, size - 1, cells + 1)
    xs, ys = np.meshgrid(ticks, ticks)
    vertices = np.stack([xs.ravel(), ys.ravel()], axis=1)
    triangles = []
    for row in range(cells):
        for col in range(cells):
            a = row * (cells + 1) + col
            b, c, d = a + 1, a + cells + 1, a + cells + 2
            triangles += [(a, b, d), (a, d, c)]
    border = (xs.ravel() == 0) | (ys.ravel() == 0) | (xs.ravel() == size - 1)
    border |= ys.ravel() == size - 1
    return vertices, np.array(triangles), ~border


def test_a_shift_of_the_inner_vertices_moves_the_picture_there():
    vertices, triangles, moving = _square_mesh()
    image = np.zeros((200, 200, 3), np.uint8)
    image[90:110, 90:110] = 255  # a white square on the centre vertex
    warp = MeshWarp(vertices, triangles, moving, (200, 200), step=2)
    displacement = np.zeros_like(vertices)
    displacement[moving] = (6.0, 0.0)
    out = image.copy()
    warp.apply(image, displacement, out)
    columns = np.nonzero(out[100, :, 0] > 128)[0]
    assert abs(columns.mean() - (image[100, :, 0] > 128).nonzero()[0].mean() - 6) < 1.0
    assert (out[0] == image[0]).all()  # the fixed border stays


def test_the_grid_grows_coarser_to_stay_within_its_point_budget():
    vertices, triangles, moving = _square_mesh()
    fine = MeshWarp(vertices, triangles, moving, (200, 200), step=2)
    budgeted = MeshWarp(vertices, triangles, moving, (200, 200), step=2, max_points=1000)
    assert np.prod(fine.grid_shape) > 1000 >= np.prod(budgeted.grid_shape)
    assert budgeted.step > fine.step == 2


def test_a_region_squeezed_hard_is_inverted_accurately():
    """A row of vertices pushed most of the way onto the next (a dropping chin over the neck):
    each output pixel must take its colour from where the forward motion puts it, or the
    squeezed region's edge comes out ragged."""
    vertices, triangles, moving = _square_mesh(cells=8)
    step = 199 / 8
    warp = MeshWarp(vertices, triangles, moving, (200, 200), step=4)
    displacement = np.zeros_like(vertices)
    pushed = moving & np.isclose(vertices[:, 1], 5 * step)  # the row above the last inner one
    displacement[pushed] = (0.0, 0.9 * step)  # squeezes the band below to a tenth
    ny, nx = warp.grid_shape
    forward = np.einsum("gk,gkc->gc", warp.weights, displacement[warp.index]).reshape(ny, nx, 2)
    source = warp._invert(forward.astype(np.float32))
    # where the found source moves to, by the same (bilinear) forward field
    x0, y0 = warp.roi[:2]
    at = ((source - (x0, y0) + 0.5) / warp.step - 0.5).astype(np.float32)
    moved = source + cv2.remap(
        forward.astype(np.float32), at[..., 0], at[..., 1], cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    miss = np.linalg.norm(moved - warp.grid, axis=-1)
    assert np.percentile(miss, 99) < 0.15 and miss.max() < 0.5  # pixels


def test_a_region_closed_up_completely_takes_no_colour_from_far_away():
    """A band closed to a line (a shut eye): next to that line the Newton steps can run
    away; every output pixel must still come from a source that the motion puts near it
    (before, some missed by 17 px and a shut eye showed a blot of the brow)."""
    vertices, triangles, moving = _square_mesh(cells=8)
    step = 199 / 8
    warp = MeshWarp(vertices, triangles, moving, (200, 200), step=4)
    displacement = np.zeros_like(vertices)
    closing = moving & np.isclose(vertices[:, 1], 4 * step)
    displacement[closing] = (0.0, step)  # onto the next row: the band between is shut
    ny, nx = warp.grid_shape
    forward = np.einsum("gk,gkc->gc", warp.weights, displacement[warp.index]).reshape(ny, nx, 2)
    forward = forward.astype(np.float32)
    source = warp._invert(forward)
    x0, y0 = warp.roi[:2]
    at = ((source - (x0, y0) + 0.5) / warp.step - 0.5).astype(np.float32)
    moved = source + cv2.remap(
        forward, at[..., 0], at[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    miss = np.linalg.norm(moved - warp.grid, axis=-1)
    assert miss.max() < warp.step  # within a grid cell of the line, not a region away


def test_points_that_have_converged_stop_and_the_rest_step_on_unchanged(monkeypatch):
    """Once most points have converged, the Newton steps go on with the others alone: the
    inverse must stay as accurate as stepping the whole grid every time."""
    from live_avatar.animators.mesh import warp as warp_module

    vertices, triangles, moving = _square_mesh(cells=8)
    step = 199 / 8
    warp = MeshWarp(vertices, triangles, moving, (200, 200), step=4)
    displacement = np.zeros_like(vertices)
    pushed = moving & np.isclose(vertices[:, 1], 5 * step)
    displacement[pushed] = (3.0, 0.8 * step)  # a squeezed band, the rest barely moving
    ny, nx = warp.grid_shape
    forward = np.einsum("gk,gkc->gc", warp.weights, displacement[warp.index]).reshape(ny, nx, 2)
    forward = forward.astype(np.float32)

    sampled = []
    sample = warp_module._sample
    monkeypatch.setattr(
        warp_module, "_sample", lambda f, x, y: sampled.append(x.size) or sample(f, x, y)
    )
    compacted = warp._invert(forward)
    assert min(sampled) < nx * ny / 2  # the later steps read only the points left
    monkeypatch.setattr(warp_module, "COMPACT_BELOW", 0.0)
    whole = warp._invert(forward)

    def miss(source):
        x0, y0 = warp.roi[:2]
        at = ((source - (x0, y0) + 0.5) / warp.step - 0.5).astype(np.float32)
        moved = source + cv2.remap(
            forward, at[..., 0], at[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return np.linalg.norm(moved - warp.grid, axis=-1)

    assert np.abs(compacted - whole).max() < 0.5  # pixels
    assert np.percentile(miss(compacted), 99) <= np.percentile(miss(whole), 99) + 0.01
    assert miss(compacted).max() <= miss(whole).max() + 0.01
