"""Settings and results of an offline animation, and array input checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_avatar.compose import LAYOUTS
from live_avatar.errors import UserError
from live_avatar.paths import DEFAULT_CHECKPOINT, DEFAULT_CONFIG

#: frame rate given to driving frames that come without one (a folder, a list of arrays)
DEFAULT_FPS = 25.0


@dataclass
class AnimateOptions:
    """Every setting of an offline animation (the CLI flags and the API arguments)."""

    backend: str = "auto"  # fomm, mesh, or auto (fomm when the checkpoint file exists)
    checkpoint: Path = DEFAULT_CHECKPOINT  # FOMM weights (.pth.tar)
    config: Path = DEFAULT_CONFIG  # FOMM model config in FOMM's YAML schema
    device: str = "auto"  # auto, cpu, cuda or cuda:N
    fp16: bool = False  # half-precision autocast on CUDA
    relative: bool = True  # motion relative to the calibration frame (False: absolute)
    adapt_scale: bool = True  # scale motion by the ratio of face sizes
    find_best_frame: bool = False  # calibrate on the driving frame closest to the avatar's pose
    crop: bool = True  # crop avatar and driving frames around the face
    layout: str = "output"  # output, side-by-side (driving | result) or full (source | ...)
    sequence: bool = False  # several avatars one after another instead of a grid
    progress: bool = True  # show a progress bar (frames/s, ETA) on stderr
    fps: float = DEFAULT_FPS  # frame rate of driving frames that have none of their own

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise UserError(f"unknown layout '{self.layout}': choose one of {', '.join(LAYOUTS)}")
        self.checkpoint, self.config = Path(self.checkpoint), Path(self.config)


@dataclass
class Summary:
    """What an animation produced."""

    frames: int  # output frames
    seconds: float  # wall time of the animation
    output: Path | None = None  # file or folder written, if any

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        target = f"wrote {self.output}: " if self.output else ""
        return f"{target}{self.frames} frames in {self.seconds:.1f} s ({self.fps:.1f} frames/s)"


def to_rgb_uint8(image: np.ndarray, what: str = "image") -> np.ndarray:
    """An HxWx3 uint8 RGB array, or float in [0, 1], as HxWx3 uint8 RGB."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"unexpected {what} shape {image.shape}, expected HxWx3 RGB")
    if image.dtype == np.uint8:
        return image
    if np.issubdtype(image.dtype, np.floating):
        return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    raise ValueError(f"unexpected {what} dtype {image.dtype}, expected uint8 or float in [0, 1]")


def progress_bar(total: int | None, description: str, enabled: bool):
    """A tqdm bar on stderr counting frames (rate and ETA); silent when not `enabled`."""
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="frame", disable=not enabled, leave=False)
