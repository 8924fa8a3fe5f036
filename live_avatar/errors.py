"""Errors a user can cause: each carries one line saying what happened and what to do."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or machine; printed as one line, exit status 2."""

    exit_code = 2


class InputFileError(UserError):
    """A file is missing, unreadable, or not the kind of file expected."""


class NoFaceError(UserError):
    """No face was found where one is needed (an avatar or a driving video)."""


class CheckpointError(UserError):
    """A checkpoint is missing, is not a checkpoint, or does not match its config."""


class CameraError(UserError):
    """A camera cannot be opened or stopped delivering frames."""


class VirtualCameraError(UserError):
    """No virtual-camera driver or backend could be opened."""
