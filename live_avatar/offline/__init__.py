"""The offline pipeline shared by `live-avatar animate` and the notebook API."""

from live_avatar.offline.driving import DrivingClip, prepare_driving
from live_avatar.offline.options import DEFAULT_FPS, AnimateOptions, Summary, to_rgb_uint8
from live_avatar.offline.pipeline import (
    OfflinePipeline,
    PreparedAvatar,
    build_animator,
    check_inputs,
    resolve_backend,
)

__all__ = [
    "DEFAULT_FPS",
    "AnimateOptions",
    "DrivingClip",
    "OfflinePipeline",
    "PreparedAvatar",
    "Summary",
    "build_animator",
    "check_inputs",
    "prepare_driving",
    "resolve_backend",
    "to_rgb_uint8",
]
