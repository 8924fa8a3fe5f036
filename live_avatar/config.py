"""Settings of the live app as dataclasses; configs/live.yaml and the command line fill them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path

from live_avatar.errors import InputFileError, UserError
from live_avatar.paths import AVATARS_DIR, CONFIGS_DIR, DEFAULT_CHECKPOINT, DEFAULT_CONFIG

DEFAULT_LIVE_SETTINGS = CONFIGS_DIR / "live.yaml"
_SIZE = re.compile(r"^(\d+)x(\d+)$")


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); UserError when it is not WIDTHxHEIGHT with even numbers > 0."""
    match = _SIZE.match(str(text).strip().lower())
    if not match:
        raise UserError(f"size '{text}' is not WIDTHxHEIGHT (for example 1280x720)")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise UserError(f"size '{text}': width and height must be even and at least 16")
    return width, height


@dataclass
class CaptureSettings:
    """Where the driving frames come from."""

    source: str = "0"  # camera index, device path (/dev/video0), video file or URL
    size: tuple[int, int] | None = None  # camera resolution to ask for; None = its default
    fps: float | None = None  # camera frame rate to ask for; None = its default
    loop: bool = False  # restart a video file when it ends
    live: bool | None = None  # retry when frames stop (a camera); None = cameras and streams


@dataclass
class AnimatorSettings:
    """Which animator moves the avatar."""

    backend: str = "auto"  # auto | fomm | mesh ('auto': fomm with a checkpoint and a GPU)
    checkpoint: str = str(DEFAULT_CHECKPOINT)  # FOMM checkpoint file
    config: str = str(DEFAULT_CONFIG)  # FOMM model config (YAML)
    device: str = "auto"  # auto | cpu | cuda[:N]
    fp16: bool = False  # half precision on the GPU (FOMM)
    relative: bool = True  # motion relative to the calibration frame
    adapt_scale: bool = True  # scale motion by the ratio of face sizes


@dataclass
class TrackingSettings:
    """How the driver's face is followed and cropped."""

    crop_scale: float = 1.8  # crop side over the landmarks' extent
    min_cutoff: float = 0.8  # One Euro filter cut-off at rest, Hz (lower = steadier box)
    beta: float = 0.02  # how fast the box catches up with fast moves
    redetect_interval: float = 0.25  # seconds between full-frame detections while no face
    hold_seconds: float = 0.5  # keep the last output this long after the face is lost
    ease_seconds: float = 0.6  # then fade to the neutral avatar over this long


@dataclass
class CalibrationSettings:
    """When the neutral pose is taken."""

    auto: bool = True  # calibrate by itself on the best-matching frame until `c` is pressed
    min_gain: float = 0.15  # a new frame must be this much (fraction) closer to recalibrate
    min_interval: float = 1.0  # seconds between automatic recalibrations


@dataclass
class OutputSettings:
    """Where the animated frames go."""

    outputs: list[str] = field(default_factory=lambda: ["vcam"])  # vcam|window|FILE.mp4|none
    size: tuple[int, int] = (1280, 720)  # output frame size (16:9 for video calls)
    fps: float = 30.0  # output frame rate cap
    background: str = "blur"  # around the portrait: 'blur' (of itself) or a colour '#rrggbb'
    vcam_device: str | None = None  # virtual camera device, e.g. /dev/video10
    vcam_backend: str | None = None  # pyvirtualcam backend (v4l2loopback, obs, unitycapture)
    record: str | None = None  # record the output with microphone audio to this mp4
    record_dir: str = "recordings"  # where `r` puts recordings when --record is not given
    audio_device: str | None = None  # microphone for recordings (name); None = system default


@dataclass
class LiveSettings:
    """Everything `live-avatar live` needs."""

    avatars: list[str] = field(default_factory=list)  # portrait files (--avatar, repeatable)
    avatars_dir: str = str(AVATARS_DIR)  # folder of portraits (keys 1-9, a/d, l)
    preview: bool = True  # show the preview window
    max_frames: int | None = None  # stop after this many output frames (tests, benchmarks)
    mirror: bool = False  # flip the camera image left-right
    capture: CaptureSettings = field(default_factory=CaptureSettings)
    animator: AnimatorSettings = field(default_factory=AnimatorSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    output: OutputSettings = field(default_factory=OutputSettings)


def _apply(target, values: dict, where: str) -> None:
    # YAML mapping -> dataclass fields, recursing into nested settings; unknown keys are errors
    known = {f.name: f for f in fields(target)}
    for key, value in values.items():
        if key not in known:
            raise UserError(f"{where}: unknown setting '{key}' (known: {', '.join(known)})")
        current = getattr(target, key)
        if is_dataclass(current):
            if not isinstance(value, dict):
                raise UserError(f"{where}: '{key}' must be a mapping")
            _apply(current, value, f"{where}:{key}")
        elif key == "size" and value is not None:
            setattr(target, key, parse_size(value))
        else:
            setattr(target, key, value)


def load_settings(path: str | Path | None = None) -> LiveSettings:
    """Defaults, then the YAML file `path` (configs/live.yaml when None and present)."""
    import yaml

    settings = LiveSettings()
    if path is None:
        if not DEFAULT_LIVE_SETTINGS.is_file():
            return settings
        path = DEFAULT_LIVE_SETTINGS
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"settings file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise InputFileError(f"{path} is not valid YAML: {error}".splitlines()[0]) from error
    if not isinstance(values, dict):
        raise InputFileError(f"{path}: expected a mapping of settings at the top")
    _apply(settings, values, str(path))
    return settings
