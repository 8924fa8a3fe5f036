"""Keeps the start-up chatter of the native libraries (mediapipe's graphs, TensorFlow Lite) off
the terminal, so that the app's own one-line messages are what the user reads.

The libraries log from their worker threads, sometimes just after a call has returned, so
silencing file descriptor 2 around calls cannot catch all of it. Instead the process's
descriptor 2 becomes a pipe read by a filter thread, which drops informational and warning
lines in the native log formats and passes everything else (errors, fatal messages, anything
unrecognised) to the terminal. Python's own `sys.stderr` writes to the terminal directly, so
no message of the app waits on the filter.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading

#: native log lines that are only chatter: glog/absl info and warnings ("I0000 00:00:..."),
#: TensorFlow Lite's delegate notice and absl's note about its own initialisation
CHATTER = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\]"
    rb"|INFO: Created TensorFlow Lite"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called)"
)

_installed = False


def filter_native_stderr() -> None:
    """Route what native code writes to descriptor 2 through the chatter filter (once per
    process; a no-op where descriptor 2 cannot be duplicated)."""
    global _installed
    if _installed:
        return
    try:
        terminal = os.dup(2)
    except OSError:
        return
    read_end, write_end = os.pipe()
    sys.stderr.flush()
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = io.TextIOWrapper(
        io.FileIO(terminal, "w", closefd=False),
        encoding=sys.stderr.encoding or "utf-8",
        errors="backslashreplace",
        line_buffering=True,
        write_through=True,
    )
    threading.Thread(target=_forward, args=(read_end, terminal), daemon=True).start()
    _installed = True


def _forward(read_end: int, terminal: int) -> None:
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        for line in iter(pipe.readline, b""):
            if not CHATTER.match(line):
                os.write(terminal, line)
