"""Small raster helpers shared by the mouth and eye painters."""

from __future__ import annotations

import numpy as np


def padded_box(points: np.ndarray, shape: tuple, pad: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the box around `points` ((N, 2) pixels), padded by `pad`, inside an
    image of `shape`; None where less than 2 pixels of it are left."""
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])
    return (int(x0), int(y0), int(x1), int(y1)) if x1 - x0 >= 2 and y1 - y0 >= 2 else None
