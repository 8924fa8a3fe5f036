"""Small raster helpers shared by the mouth and eye painters and the drawn-face finders."""

from __future__ import annotations

import cv2
import numpy as np


def padded_box(points: np.ndarray, shape: tuple, pad: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the box around `points` ((N, 2) pixels), padded by `pad`, inside an
    image of `shape`; None where less than 2 pixels of it are left."""
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])
    return (int(x0), int(y0), int(x1), int(y1)) if x1 - x0 >= 2 and y1 - y0 >= 2 else None


def upright_band(
    image: np.ndarray, origin, right, down, scale: float, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """`image` (HxWx3) sampled upright in the axes `right` and `down` (unit vectors) from
    `origin` (pixels), `scale` samples per pixel, `size` (width, height) samples. Returns the
    band and the 2x3 map from band to image coordinates."""
    to_image = np.column_stack([np.asarray(right) / scale, np.asarray(down) / scale, origin])
    band = cv2.warpAffine(
        image,
        to_image,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return band, to_image


def colour_distance(band: np.ndarray) -> np.ndarray:
    """Each pixel's CIELAB distance from the median colour of `band` (HxWx3 uint8 RGB): the
    skin's, where skin is most of it."""
    lab = cv2.cvtColor(band, cv2.COLOR_RGB2LAB).astype(np.float32)
    return np.linalg.norm(lab - np.median(lab.reshape(-1, 3), axis=0), axis=2)
