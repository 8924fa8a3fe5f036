"""`live-avatar eval-motion`: how faithfully an animator follows a driving video (mouth, eyes,
head roll and yaw correlations, identity at calibration, return to neutral)."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np

from live_avatar.motion_eval import SETTLE_FRAMES, Evaluation, evaluate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--avatar",
        action="append",
        default=[],
        required=True,
        help="portrait image (repeat to evaluate several)",
    )
    parser.add_argument(
        "--driving",
        action="append",
        default=[],
        required=True,
        help="driving video or folder of frames (repeat for several)",
    )
    parser.add_argument(
        "--backend",
        default="mesh",
        choices=("mesh", "fomm"),
        help="animator to evaluate (default: mesh)",
    )
    parser.add_argument("--checkpoint", help="FOMM checkpoint (fomm backend)")
    parser.add_argument("--config", help="FOMM config YAML (fomm backend)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (fomm backend)")
    parser.add_argument(
        "--max-frames", type=int, default=0, help="use at most N driving frames (default: all)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--strip",
        metavar="FILE",
        help="save a strip of driving / generated frames (PNG) to look at",
    )


def run(args: argparse.Namespace) -> int:
    from live_avatar.errors import UserError

    if args.max_frames < 0:
        raise UserError(f"--max-frames must be 0 (all) or a positive count, not {args.max_frames}")
    pairs = [(avatar, driving) for avatar in args.avatar for driving in args.driving]
    results, failures = [], []
    for avatar, driving in pairs:
        strip = args.strip if not results else None
        try:
            result = evaluate(
                avatar, driving, args.backend, args.max_frames, _backend_settings(args), strip
            )
        except UserError as error:
            if len(pairs) == 1:
                raise
            # one unusable pair (a cartoon without a face) must not lose the whole table
            failures.append(f"{Path(avatar).name} x {Path(driving).name}: {error}")
            print(f"\n{failures[-1]}")
            continue
        print_evaluation(result)
        results.append(result)
    if len(pairs) > 1:
        print_summary(results, failures)
    if args.json:
        data = [asdict(r) | {"passed": r.passed} for r in results]
        data += [{"error": failure} for failure in failures]
        Path(args.json).write_text(json.dumps(_plain(data), indent=2))
    return 2 if failures else 0


def _plain(value):
    """JSON-ready copy: numpy scalars as Python numbers, inf and NaN as null."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _backend_settings(args: argparse.Namespace) -> dict:
    settings = {}
    for name in ("checkpoint", "config"):
        if getattr(args, name):
            settings[name] = getattr(args, name)
    if args.backend == "fomm":
        settings["device"] = args.device
    return settings


def _psnr_text(value: float) -> str:
    return "identical" if value == float("inf") else f"{value:.1f} dB"


def print_evaluation(result: Evaluation) -> None:
    """One avatar x driving video: the channel table and the identity figures."""
    print(
        f"\n{Path(result.avatar).name}  x  {Path(result.driving).name}  ({result.frames} frames; "
        f"face found in {result.driver_faces} driving, {result.generated_faces} generated)"
    )
    print(f"  {'channel':8} {'r':>7} {'target':>7} {'driver spread':>14}")
    for c in result.channels:
        r = f"{c['r']:.3f}" if c["scored"] else "-"
        if c["scored"]:
            verdict = "ok" if c["r"] >= c["target"] else "BELOW TARGET"
        elif c["frames"] < 5:
            verdict = "not scored: too few frames with both faces found"
        else:
            verdict = "not scored: the driver barely moves"
        print(f"  {c['name']:8} {r:>7} {c['target']:>7.2f} {c['driver_std']:>14.3f}  {verdict}")
    unscored = (
        ""
        if result.neutral_calibration
        else f"; not scored: the calibration frame is mid-sentence, mouth open "
        f"{result.calibration_mouth:.3f}, and the avatar's opens with it"
    )
    print(
        f"  identity at calibration: {_psnr_text(result.identity_psnr)} (target 40 dB{unscored})"
    )
    print(
        f"  return to neutral after the clip: {_psnr_text(result.return_psnr)} "
        f"(calibration pose held {SETTLE_FRAMES} frames{unscored and '; not scored'})"
    )
    print(
        f"  animator step: median {result.step_ms_median:.1f} ms, p95 {result.step_ms_p95:.1f} ms"
    )


def print_summary(results: list[Evaluation], failures: list[str] = ()) -> None:
    """Every pair in one table: r per channel ('-' = not scored), identity and return."""
    print(
        f"\n{'avatar':38} {'driving':30} {'mouth':>6} {'eyes':>6} {'roll':>6} {'yaw':>6} "
        f"{'ident':>6} {'return':>6}"
    )
    for r in results:
        cells = [f"{c['r']:.3f}" if c["scored"] else "-" for c in r.channels]
        ident = "inf" if r.identity_psnr == float("inf") else f"{r.identity_psnr:.1f}"
        back = "inf" if r.return_psnr == float("inf") else f"{r.return_psnr:.1f}"
        print(
            f"{Path(r.avatar).name[:38]:38} {Path(r.driving).name[:30]:30} "
            + " ".join(f"{c:>6}" for c in cells)
            + f" {ident:>6} {back:>6}"
            + ("" if r.passed else "  below target")
        )
    for failure in failures:
        print(f"not evaluated: {failure}")
