"""Allows `python -m live_avatar`."""

from live_avatar.cli import entry

entry()
