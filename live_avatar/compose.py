"""Frame composition: letterboxing, side-by-side strips, grids and the output layouts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from live_avatar.frames import check_rgb

#: the layouts `animate` and the notebook API offer
LAYOUTS = ("output", "side-by-side", "full")
BLACK = (0, 0, 0)


def fit_into(
    image: np.ndarray, width: int, height: int, background: tuple[int, int, int] = BLACK
) -> np.ndarray:
    """Scale `image` (HxWx3 uint8 RGB) to fit width x height, keeping its aspect (letterbox).

    Returns height x width x 3 uint8; the unused band is `background`. Never squashes.
    """
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = background
    return fit_onto(image, canvas)


def fit_onto(image: np.ndarray, canvas: np.ndarray) -> np.ndarray:
    """Scale `image` (HxWx3 uint8 RGB) to fit `canvas` (HxWx3 uint8, changed in place),
    keeping its aspect, centred; returns `canvas`."""
    import cv2

    check_rgb(image)
    height, width = canvas.shape[:2]
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if (new_w, new_h) != (w, h):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = image
    return canvas


def side_by_side(panels: Sequence[np.ndarray], height: int) -> np.ndarray:
    """Panels (HxWx3 uint8 RGB, any sizes) scaled to `height` and joined left to right.

    Each panel keeps its aspect ratio; returns height x (sum of widths) x 3 uint8.
    """
    if not panels:
        raise ValueError("side_by_side needs at least one panel")
    scaled = []
    for panel in panels:
        check_rgb(panel, "panel")
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


class Compositor:
    """Puts the animated portrait (any aspect) into the 16:9 output frame, over a blurred
    copy of the avatar (or a solid colour) instead of squashing it."""

    def __init__(self, size: tuple[int, int], background: str = "blur"):
        self.size = size
        self.background = background
        self._backdrop: np.ndarray | None = None

    def set_avatar(self, neutral: np.ndarray) -> None:
        """Prepare the backdrop from the avatar at rest (HxWx3 uint8 RGB)."""
        width, height = self.size
        if self.background.startswith("#") and len(self.background) == 7:
            colour = tuple(int(self.background[i : i + 2], 16) for i in (1, 3, 5))
            self._backdrop = np.full((height, width, 3), colour, dtype=np.uint8)
            return
        import cv2

        # cover the frame at 1/16 size, blur there (cheap), darken so the portrait stands out
        small_w, small_h = max(width // 16, 1), max(height // 16, 1)
        h, w = neutral.shape[:2]
        scale = max(small_w / w, small_h / h)
        cover = cv2.resize(neutral, (max(round(w * scale), small_w), max(round(h * scale), small_h)),
                           interpolation=cv2.INTER_AREA)
        y0, x0 = (cover.shape[0] - small_h) // 2, (cover.shape[1] - small_w) // 2
        small = cv2.GaussianBlur(cover[y0 : y0 + small_h, x0 : x0 + small_w], (0, 0), 2.5)
        self._backdrop = (cv2.resize(small, (width, height)) * 0.6).astype(np.uint8)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """image: HxWx3 uint8 RGB -> the output frame, height x width x 3 uint8 RGB."""
        if self._backdrop is None:
            return fit_into(image, *self.size)
        return fit_onto(image, self._backdrop.copy())
