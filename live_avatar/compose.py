"""Frame composition: letterboxing, side-by-side strips, grids and the output layouts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: the layouts `animate` and the notebook API offer
LAYOUTS = ("output", "side-by-side", "full")
BLACK = (0, 0, 0)


def _check_rgb(image: np.ndarray, what: str = "image") -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"unexpected {what} {image.shape} {image.dtype}, expected HxWx3 uint8 RGB")


def fit_into(
    image: np.ndarray, width: int, height: int, background: tuple[int, int, int] = BLACK
) -> np.ndarray:
    """Scale `image` (HxWx3 uint8 RGB) to fit width x height, keeping its aspect (letterbox).

    Returns height x width x 3 uint8; the unused band is `background`. Never squashes.
    """
    import cv2

    _check_rgb(image)
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if (new_w, new_h) != (w, h):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[:] = background
    top, left = (height - new_h) // 2, (width - new_w) // 2
    out[top : top + new_h, left : left + new_w] = image
    return out


def side_by_side(panels: Sequence[np.ndarray], height: int) -> np.ndarray:
    """Panels (HxWx3 uint8 RGB, any sizes) scaled to `height` and joined left to right.

    Each panel keeps its aspect ratio; returns height x (sum of widths) x 3 uint8.
    """
    if not panels:
        raise ValueError("side_by_side needs at least one panel")
    scaled = []
    for panel in panels:
        _check_rgb(panel, "panel")
        width = max(1, round(panel.shape[1] * height / panel.shape[0]))
        scaled.append(fit_into(panel, width, height))
    return np.concatenate(scaled, axis=1)


def grid(
    panels: Sequence[np.ndarray],
    columns: int | None = None,
    background: tuple[int, int, int] = BLACK,
) -> np.ndarray:
    """Panels in a grid, row by row; every cell has the size of the first panel.

    `columns` defaults to a near-square grid (ceil(sqrt(n))). Panels of another size are
    letterboxed into the cell; empty cells are `background`. Returns uint8 RGB.
    """
    if not panels:
        raise ValueError("grid needs at least one panel")
    count = len(panels)
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    cell_h, cell_w = panels[0].shape[:2]
    out = np.empty((rows * cell_h, columns * cell_w, 3), dtype=np.uint8)
    out[:] = background
    for index, panel in enumerate(panels):
        row, col = divmod(index, columns)
        if panel.shape[:2] != (cell_h, cell_w):
            panel = fit_into(panel, cell_w, cell_h, background)
        out[row * cell_h : (row + 1) * cell_h, col * cell_w : (col + 1) * cell_w] = panel
    return out


def compose_layout(
    layout: str,
    generated: np.ndarray,
    driving: np.ndarray | None = None,
    source: np.ndarray | None = None,
) -> np.ndarray:
    """One output frame in `layout`: 'output' (generated), 'side-by-side' (driving |
    generated) or 'full' (source | driving | generated). All HxWx3 uint8 RGB; panels are
    scaled to the generated frame's height."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout '{layout}': choose one of {', '.join(LAYOUTS)}")
    if layout == "output":
        return generated
    if driving is None or (layout == "full" and source is None):
        raise ValueError(f"layout '{layout}' needs the driving frame (and source for 'full')")
    panels = [driving, generated] if layout == "side-by-side" else [source, driving, generated]
    return side_by_side(panels, generated.shape[0])
