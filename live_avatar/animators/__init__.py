"""Animator registry: `create_animator('fomm'|'mesh'|'auto', ...)`, imported only when chosen."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from live_avatar.animators.base import Animator, MotionOptions
from live_avatar.errors import UserError

__all__ = ["Animator", "MotionOptions", "create_animator", "choose_backend", "BACKENDS"]

# name -> "module:factory"; the factory takes keyword settings and returns an Animator
BACKENDS: dict[str, str] = {
    "fomm": "live_avatar.animators.fomm.animator:create",
    "mesh": "live_avatar.animators.mesh.animator:create",
}


def _factory(name: str) -> Callable[..., Animator]:
    if name not in BACKENDS:
        raise UserError(f"unknown backend '{name}': choose one of auto, {', '.join(BACKENDS)}")
    module_name, attr = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module_name), attr)


def choose_backend(name: str, checkpoint: str | Path | None, device: str = "auto") -> str:
    """Resolve 'auto': FOMM when a checkpoint exists and a GPU is available, else 'mesh'."""
    if name != "auto":
        return name
    from live_avatar.device import gpu_available

    has_checkpoint = checkpoint is not None and Path(checkpoint).is_file()
    if has_checkpoint and device != "cpu" and gpu_available():
        return "fomm"
    return "mesh"


def create_animator(name: str, **settings) -> Animator:
    """Build the animator registered as `name` with backend-specific keyword settings."""
    return _factory(name)(**settings)
