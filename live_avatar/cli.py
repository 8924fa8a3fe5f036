"""Command-line entry: `live-avatar [live] | animate | bench | doctor | eval-motion`."""

from __future__ import annotations

import argparse
import importlib
import sys

from live_avatar.console import say, show_warnings
from live_avatar.errors import UserError

# subcommand -> (module with add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "live": ("live_avatar.commands.live", "animate an avatar from the webcam (default)"),
    "animate": ("live_avatar.commands.animate", "portrait(s) + driving video -> mp4 or frames"),
    "bench": ("live_avatar.commands.bench", "measure the per-frame path, stage by stage"),
    "doctor": ("live_avatar.commands.doctor", "check the installation, cameras and drivers"),
    "eval-motion": (
        "live_avatar.commands.eval_motion",
        "measure how faithfully an animator follows a driving video",
    ),
}
DEFAULT_COMMAND = "live"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="live-avatar",
        description="Bring a still portrait to life from a webcam or a driving video.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module_name).add_arguments(sub)
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    # `live-avatar --avatar x.png` means `live-avatar live --avatar x.png`
    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help")):
        return argv
    return [DEFAULT_COMMAND, *argv]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for errors the user can fix)."""
    argv = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    show_warnings()
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except UserError as error:
        say(f"error: {error}")
        return error.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return 130


def entry() -> None:
    """The `live-avatar` console command: `main` with the native libraries' chatter kept off
    the terminal."""
    from live_avatar.native_log import filter_native_stderr

    filter_native_stderr()
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
