"""`live-avatar eval-motion` (not implemented yet)."""

from __future__ import annotations

import argparse

from live_avatar.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--avatar", action="append", default=[], help="portrait image")


def run(args: argparse.Namespace) -> int:
    raise UserError("'eval-motion' is not implemented yet")
