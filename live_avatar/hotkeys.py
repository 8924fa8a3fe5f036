"""The key table (key -> named action) and its one dispatch; the README's table is checked
against `KEYS` by a test."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

ESC = 27


@dataclass(frozen=True)
class Binding:
    """One row of the key table."""

    keys: tuple[str, ...]  # key names as typed ('c', '[', 'Esc')
    action: str  # the handler's name
    description: str  # what the user reads in the help overlay and the README


# the whole key table; `1`-`9` pass the avatar number to the handler
KEYS: tuple[Binding, ...] = (
    Binding(("c", "x"), "calibrate", "recalibrate: take the current face as the neutral pose"),
    Binding(tuple("123456789"), "choose_avatar", "choose avatar 1-9"),
    Binding(("a", "["), "previous_avatar", "previous avatar"),
    Binding(("d", "]"), "next_avatar", "next avatar"),
    Binding(("l",), "reload_avatars", "reload the avatars folder"),
    Binding(("o",), "toggle_overlay", "overlay the avatar on the camera image (to align)"),
    Binding(("m",), "toggle_mirror", "mirror the camera image"),
    Binding(("p",), "toggle_passthrough", "passthrough: send the real camera image"),
    Binding(("r",), "toggle_recording", "start/stop recording (with microphone audio)"),
    Binding(("h",), "toggle_help", "show/hide this help"),
    Binding(("q", "Esc"), "quit", "quit"),
)

ACTIONS: tuple[str, ...] = tuple(binding.action for binding in KEYS)


def _code(key: str) -> int:
    return ESC if key == "Esc" else ord(key)


# key code (as cv2.waitKey returns it) -> (action, argument)
_BY_CODE: dict[int, tuple[str, int | None]] = {
    _code(key): (binding.action, int(key) if key.isdigit() else None)
    for binding in KEYS
    for key in binding.keys
}


def action_for(code: int) -> tuple[str, int | None] | None:
    """The (action, argument) bound to key `code` (cv2.waitKey's value), or None."""
    if code is None or code < 0:
        return None
    code &= 0xFF  # some platforms put modifier bits above the key
    if ord("A") <= code <= ord("Z"):
        code += 32  # Caps Lock should not disable the keys
    return _BY_CODE.get(code)


def dispatch(code: int, handlers: Mapping[str, Callable[..., object]]) -> str | None:
    """Run the handler bound to key `code`; returns the action's name, None for other keys.

    `handlers` maps every action name in `ACTIONS` to a callable; `choose_avatar` gets the
    number pressed (1-9), the others no argument.
    """
    found = action_for(code)
    if found is None:
        return None
    action, argument = found
    handler = handlers[action]
    if argument is None:
        handler()
    else:
        handler(argument)
    return action


def _key_label(binding: Binding) -> str:
    if binding.action == "choose_avatar":
        return "`1`-`9`"
    return " / ".join(f"`{key}`" for key in binding.keys)


def help_rows() -> list[tuple[str, str]]:
    """The key table as (keys, description) rows for the on-screen help."""
    return [(_key_label(b).replace("`", ""), b.description) for b in KEYS]


def markdown_table() -> str:
    """The key table as the README shows it."""
    rows = ["| Key | Action |", "|---|---|"]
    rows += [f"| {_key_label(b)} | {b.description} |" for b in KEYS]
    return "\n".join(rows)
