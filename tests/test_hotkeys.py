"""The key table: unique keys, every action handled, the README's table matches, and each
action exercised on the real loop through `LiveApp.handle_key` (the window's own path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from live_avatar import hotkeys
from live_avatar.app import LiveApp
from live_avatar.config import LiveSettings
from live_avatar.hotkeys import ESC, KEYS, action_for, dispatch, markdown_table

REPO_README = Path(__file__).resolve().parent.parent / "README.md"


def test_keys_are_unique_and_as_documented():
    keys = [key for binding in KEYS for key in binding.keys]
    assert len(keys) == len(set(keys))
    expected = {"c": "calibrate", "x": "calibrate", "a": "previous_avatar",
                "[": "previous_avatar", "d": "next_avatar", "]": "next_avatar",
                "l": "reload_avatars", "o": "toggle_overlay", "m": "toggle_mirror",
                "p": "toggle_passthrough", "r": "toggle_recording", "h": "toggle_help",
                "q": "quit"}
    for key, action in expected.items():
        assert action_for(ord(key)) == (action, None)
    assert action_for(ESC) == ("quit", None)
    assert action_for(ord("7")) == ("choose_avatar", 7)
    assert action_for(ord("Q")) == ("quit", None)  # Caps Lock on
    assert action_for(-1) is None and action_for(ord("z")) is None


def test_dispatch_calls_the_named_handler_once():
    calls = []
    handlers = {action: (lambda *a, name=action: calls.append((name, a)))
                for action in hotkeys.ACTIONS}
    assert dispatch(ord("3"), handlers) == "choose_avatar"
    assert dispatch(ord("]"), handlers) == "next_avatar"
    assert dispatch(ord("z"), handlers) is None
    assert calls == [("choose_avatar", (3,)), ("next_avatar", ())]


def test_readme_key_table_matches_the_table():
    if not REPO_README.is_file():
        pytest.skip("no README.md beside the package")
    assert markdown_table() in REPO_README.read_text(), (
        "the README's key table differs from live_avatar.hotkeys.KEYS; paste the output of "
        "python -c 'from live_avatar.hotkeys import markdown_table; print(markdown_table())'"
    )


def test_help_lists_every_binding():
    rows = hotkeys.help_rows()
    assert len(rows) == len(KEYS) and ("q / Esc", "quit") in rows


@pytest.fixture
def app(portraits_dir, driving_dir, tmp_path):
    folder = tmp_path / "avatars"
    folder.mkdir()
    for name in ("afy_mona_lisa_face.jpg", "skimage_astronaut_eileen_collins.png"):
        shutil.copy(portraits_dir / name, folder / name)
    settings = LiveSettings(avatars_dir=str(folder), preview=False)
    settings.capture.source = str(driving_dir / "lp_s18_uncropped_1280x720.mp4")
    settings.capture.loop = True
    settings.output.outputs, settings.output.size = ["none"], (320, 180)
    settings.output.record_dir = str(tmp_path / "recordings")
    live = LiveApp(settings)
    live.open()
    yield live
    live.close()


def _steps(app, n=3):
    for _ in range(n):
        assert app.step()


def _step_until(app, condition, limit=150) -> int:
    """Step the loop until `condition()`; returns how many frames that took."""
    for steps in range(1, limit + 1):
        assert app.step()
        if condition():
            return steps
    raise AssertionError("the loop never got there")


def test_actions_on_the_running_loop(app, portraits_dir, tmp_path):
    names = [p.name for p in app.avatars.paths]
    assert names == ["afy_mona_lisa_face.jpg", "skimage_astronaut_eileen_collins.png"]
    _steps(app)
    assert app.calibrator.calibrated and app.calibrator.auto  # automatic calibration

    assert app.handle_key(ord("2")) == "choose_avatar"
    # the avatar is prepared in the background: the loop keeps sending frames meanwhile
    assert _step_until(app, lambda: app.avatar_index == 1) > 1
    assert app.avatar.path.name == names[1]
    app.handle_key(ord("d"))  # next wraps around
    _step_until(app, lambda: app.avatar_index == 0)
    app.handle_key(ord("["))  # previous wraps around
    _step_until(app, lambda: app.avatar_index == 1)
    app.handle_key(ord("9"))  # no avatar 9: nothing changes
    _steps(app)
    assert app.avatar_index == 1

    shutil.copy(portraits_dir / "lp_s8_raphael_la_velata.jpg", app.avatars.folder / "z.jpg")
    app.handle_key(ord("l"))
    assert len(app.avatars.paths) == 3 and app.avatar_index == 1

    app.handle_key(ord("c"))
    _steps(app)
    assert not app.calibrator.auto and app.calibrator.state == "manual"

    for key, attribute in (("o", "overlay"), ("h", "show_help")):
        app.handle_key(ord(key))
        assert getattr(app, attribute)
        _steps(app, 1)
        app.handle_key(ord(key))
        assert not getattr(app, attribute)


def test_mirror_and_passthrough(app):
    _steps(app)
    app.handle_key(ord("m"))
    assert app.mirror
    _steps(app, 2)
    image, track = app._view
    assert track.found and track.box.center[0] > 1280 - 900  # the face is found mirrored too
    app.handle_key(ord("p"))
    _steps(app, 1)
    # passthrough: the (mirrored) camera goes out, composed to the output size
    expected = app.compositor(app._view[0]).astype(int)
    assert abs(app.last_output.astype(int) - expected).mean() < 1
    app.handle_key(ord("p"))
    _steps(app, 1)
    assert abs(app.last_output.astype(int) - expected).mean() > 5


def test_record_toggle_writes_a_complete_file(app, tmp_path):
    import av

    app.handle_key(ord("r"))
    assert app.recorder is not None
    _steps(app, 8)
    app.handle_key(ord("r"))
    assert app.recorder is None
    files = list((tmp_path / "recordings").glob("*.mp4"))
    assert len(files) == 1
    with av.open(str(files[0])) as container:
        assert container.streams.video[0].frames == 8


def test_quit_keys(app):
    _steps(app, 1)
    app.handle_key(ESC)
    assert not app.running
    assert not app.step()
