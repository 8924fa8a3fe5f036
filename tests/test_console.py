"""The terminal messages: package warnings as one `live-avatar: warning:` line naming the file."""

import logging

import pytest

from live_avatar.console import about, show_warnings
from live_avatar.errors import NoFaceError


def test_a_warning_is_one_line_naming_the_file(capsys):
    show_warnings()
    show_warnings()  # a second call adds no second handler
    log = logging.getLogger("live_avatar.animators.mesh.animator")
    with about("portraits/anime.png"):
        log.warning("the mouth will barely move")
    log.warning("avatar 4000x3000 reduced to 1280x960")
    log.info("not for the user")
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "live-avatar: warning: portraits/anime.png: the mouth will barely move",
        "live-avatar: warning: avatar 4000x3000 reduced to 1280x960",
    ]


def test_no_face_names_the_file_once():
    with pytest.raises(NoFaceError, match=r"^portraits/blank.png: no face found"):
        with about("portraits/blank.png"):
            raise NoFaceError("no face found in the avatar: crop the picture tighter")
    with pytest.raises(NoFaceError) as raised:
        with about("portraits/blank.png"):
            raise NoFaceError("no face found in avatar portraits/blank.png")
    assert str(raised.value) == "no face found in avatar portraits/blank.png"
