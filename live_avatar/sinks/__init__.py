"""Output sinks by name: `vcam`, `window`, a video file (`*.mp4`), `none`; imported only when
chosen, so pyvirtualcam, the GUI and sounddevice stay optional."""

from __future__ import annotations

import importlib
from pathlib import Path

from live_avatar.errors import UserError
from live_avatar.sinks.base import Sink

__all__ = ["Sink", "SINKS", "sink_kind", "open_sink"]

# kind -> "module:class"; each class takes (size, fps, **options)
SINKS: dict[str, str] = {
    "vcam": "live_avatar.sinks.vcam:VirtualCameraSink",
    "window": "live_avatar.sinks.window:WindowSink",
    "file": "live_avatar.sinks.file:VideoFileSink",
    "none": "live_avatar.sinks.null:NullSink",
}
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov")


def sink_kind(spec: str) -> str:
    """'vcam' | 'window' | 'none' | a video file name -> the registry kind."""
    if spec in SINKS and spec != "file":
        return spec
    if Path(spec).suffix.lower() in VIDEO_SUFFIXES:
        return "file"
    raise UserError(
        f"unknown output '{spec}': use vcam, window, none or a video file "
        f"({', '.join(VIDEO_SUFFIXES)})"
    )


def open_sink(spec: str, size: tuple[int, int], fps: float, **options) -> Sink:
    """Open the sink `spec` names for size = (width, height) frames at `fps`.

    options: vcam_device, vcam_backend (vcam); title (window); audio (file: record the
    microphone too). Options a sink does not use are ignored.
    """
    kind = sink_kind(spec)
    module_name, class_name = SINKS[kind].split(":")
    sink_class = getattr(importlib.import_module(module_name), class_name)
    if kind == "file":
        options["path"] = spec
    return sink_class(size, fps, **options)
