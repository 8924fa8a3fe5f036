"""The terminal messages: package warnings as one `live-avatar: warning:` line naming the file."""

import logging

from live_avatar.console import about, show_warnings


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
