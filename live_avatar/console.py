"""What the user reads on the terminal: one `live-avatar:` line per message, on stderr (stdout
stays clean for piping). Warnings the package logs (an avatar the face mesh fits poorly, a
portrait reduced in size) come out the same way, naming the file they are about, and so does
a face not found in it."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from live_avatar.errors import NoFaceError

PROGRAM = "live-avatar"
#: the file the current warnings are about (set by `about`)
_subject: ContextVar[str | None] = ContextVar("subject", default=None)


def say(message: str) -> None:
    """One line for the user on stderr."""
    print(f"{PROGRAM}: {message}", file=sys.stderr, flush=True)


class _WarningLines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            subject = _subject.get()
            about_file = f"{subject}: " if subject else ""
            say(f"warning: {about_file}{record.getMessage()}")
        except Exception:  # a message must never stop the app
            self.handleError(record)


def show_warnings() -> None:
    """Print the package's warnings as `live-avatar: warning: ...` lines (idempotent)."""
    logger = logging.getLogger("live_avatar")
    if not any(isinstance(h, _WarningLines) for h in logger.handlers):
        handler = _WarningLines(logging.WARNING)
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


@contextmanager
def about(path: str | Path):
    """Warnings logged inside the block name `path`, and so does a NoFaceError raised in it."""
    token = _subject.set(str(path))
    try:
        yield
    except NoFaceError as error:
        if str(path) in str(error):
            raise
        raise NoFaceError(f"{path}: {error}") from error
    finally:
        _subject.reset(token)
