"""The one check on the frames passed between the pipeline's stages."""

from __future__ import annotations

import numpy as np


def check_rgb(image: np.ndarray, what: str = "frame") -> None:
    """Raise ValueError unless `image` is an HxWx3 uint8 (RGB) array, saying what it is."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"unexpected {what} {image.shape} {image.dtype}, expected HxWx3 uint8 RGB")
