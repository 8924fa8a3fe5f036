"""`live-avatar animate`: portrait(s) + a driving video -> an mp4 or a folder of PNG frames."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from live_avatar.paths import DEFAULT_CHECKPOINT, DEFAULT_CONFIG

LAYOUT_CHOICES = ("output", "side-by-side", "full")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--avatar",
        action="append",
        default=[],
        required=True,
        metavar="IMAGE",
        help="portrait image; repeat for several avatars in one video",
    )
    parser.add_argument(
        "--driving",
        required=True,
        metavar="VIDEO",
        help="driving video file, or a folder of frames sorted by name",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output .mp4 (H.264 + AAC), or a folder that receives lossless PNG frames",
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "fomm", "mesh"),
        default="auto",
        help="fomm: First Order Motion Model checkpoint; mesh: embedded animator, no weights; "
        "auto: fomm when the checkpoint exists, else mesh (default)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=DEFAULT_CHECKPOINT,
        help="FOMM checkpoint file (default: %(default)s)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="FOMM model config (default: %(default)s)",
    )
    parser.add_argument(
        "--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)"
    )
    parser.add_argument("--fp16", action="store_true", help="half precision on CUDA")
    motion = parser.add_mutually_exclusive_group()
    motion.add_argument(
        "--relative",
        dest="relative",
        action="store_true",
        default=True,
        help="motion relative to the calibration frame (default)",
    )
    motion.add_argument(
        "--absolute",
        dest="relative",
        action="store_false",
        help="copy the driver's absolute keypoints (FOMM; the mesh animator stays relative)",
    )
    parser.add_argument(
        "--adapt-scale",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="scale motion by the ratio of face sizes (default: on)",
    )
    parser.add_argument(
        "--find-best-frame",
        action="store_true",
        help="calibrate on the driving frame whose face pose best matches the avatar's",
    )
    parser.add_argument(
        "--no-crop",
        dest="crop",
        action="store_false",
        help="use avatar and driving frames as they are (no face crop)",
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUT_CHOICES,
        default="output",
        help="output: result only; side-by-side: driving | result; full: source | driving | result",
    )
    parser.add_argument(
        "--sequence",
        action="store_true",
        help="several avatars one after another instead of a grid",
    )
    audio = parser.add_mutually_exclusive_group()
    audio.add_argument(
        "--audio",
        type=Path,
        metavar="MUSIC",
        help="music under the result (trimmed or looped), instead of the driving audio",
    )
    audio.add_argument("--no-audio", action="store_true", help="no sound track")


def run(args: argparse.Namespace) -> int:
    from live_avatar.offline import AnimateOptions, OfflinePipeline, check_inputs

    options = AnimateOptions(
        backend=args.backend,
        checkpoint=args.checkpoint,
        config=args.config,
        device=args.device,
        fp16=args.fp16,
        relative=args.relative,
        adapt_scale=args.adapt_scale,
        find_best_frame=args.find_best_frame,
        crop=args.crop,
        layout=args.layout,
        sequence=args.sequence,
        progress=sys.stderr.isatty(),
    )
    # a missing or broken file fails in a second, before the model loads
    check_inputs(args.avatar, args.driving, args.output, args.audio)
    with OfflinePipeline(options) as pipeline:
        summary = pipeline.animate_to_file(
            args.avatar, args.driving, args.output, audio_file=args.audio, audio=not args.no_audio
        )
    print(summary)
    return 0
