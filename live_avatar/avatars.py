"""Avatar images: load any portrait as HxWx3 uint8 RGB (RGBA composited, grayscale expanded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from live_avatar.errors import InputFileError

#: file name endings list_avatars() treats as images
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
#: what shows through transparent pixels: a light neutral grey (black would read as a shadow)
NEUTRAL_BACKGROUND = (224, 224, 224)


def load_avatar(
    path: str | Path, background: tuple[int, int, int] = NEUTRAL_BACKGROUND
) -> np.ndarray:
    """Load a portrait file as HxWx3 uint8 RGB.

    JPEG orientation (EXIF) is applied; RGBA is composited over `background` (a naive
    conversion turns transparent pixels black); grayscale is expanded to 3 channels; 16-bit
    images are reduced to 8 bits. Raises InputFileError naming the file when it is missing
    or is not a readable image.
    """
    return read_image(path, "avatar image", background)


def read_image(
    path: str | Path, what: str = "image", background: tuple[int, int, int] = NEUTRAL_BACKGROUND
) -> np.ndarray:
    """Any image file as HxWx3 uint8 RGB (see load_avatar); `what` names it in errors."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{what} not found: {path}")
    data = np.fromfile(path, dtype=np.uint8)  # np.fromfile + imdecode: non-ASCII paths work
    raw = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if raw is None:
        raise InputFileError(
            f"cannot read {path} as an image: expected a PNG, JPEG, WebP or BMP file"
        )
    if raw.ndim == 3 and raw.shape[2] == 4:
        return _composite(raw, background)
    # IMREAD_COLOR applies the EXIF orientation and expands grey and 16-bit to 8-bit BGR
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _composite(bgra: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """HxWx4 BGRA (8 or 16 bit) over an RGB background -> HxWx3 uint8 RGB."""
    peak = 65535.0 if bgra.dtype == np.uint16 else 255.0
    pixels = bgra.astype(np.float32) / peak
    alpha = pixels[:, :, 3:4]
    rgb = pixels[:, :, 2::-1] * 255.0
    back = np.asarray(background, dtype=np.float32).reshape(1, 1, 3)
    out = rgb * alpha + back * (1.0 - alpha)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def is_grayscale(rgb: np.ndarray, tolerance: int = 3) -> bool:
    """True when an HxWx3 uint8 RGB image has (almost) no colour: all channels equal."""
    if rgb.ndim == 2:
        return True
    channels = rgb.astype(np.int16)
    spread = np.abs(channels[:, :, 0] - channels[:, :, 1]) + np.abs(
        channels[:, :, 1] - channels[:, :, 2]
    )
    return bool(np.percentile(spread, 99) <= tolerance)


def list_avatars(folder: str | Path) -> list[Path]:
    """The image files directly in `folder`, sorted by name (empty when there are none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"avatar folder not found: {folder}")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
