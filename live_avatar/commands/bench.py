"""`live-avatar bench`: time the real per-frame path stage by stage, optionally against the
original FOMM per-frame step."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from live_avatar.paths import DEFAULT_CHECKPOINT, DEFAULT_CONFIG


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("fomm", "mesh"), default="mesh",
                        help="animator to time (default: mesh)")
    parser.add_argument("--device", default="cpu", help="auto | cpu | cuda[:N] (default: cpu)")
    parser.add_argument("--fp16", action="store_true", help="half precision on CUDA (FOMM)")
    parser.add_argument("--driving", help="driving video (default: a synthetic clip made from "
                        "a bundled portrait, so the bench runs on a fresh install)")
    parser.add_argument("--avatar", help="portrait to animate (default: avatars/mona_lisa.jpg)")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT),
                        help="FOMM checkpoint; when absent FOMM runs with random weights")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="FOMM model config")
    parser.add_argument("--frames", type=int, default=120, help="frames to time (default: 120)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed frames first")
    parser.add_argument("--output-size", default="1280x720", help="composed output WxH")
    parser.add_argument("--compare-reference", action="store_true",
                        help="FOMM: also time the original per-frame step and report the "
                        "speed-up and the max-abs output difference")
    parser.add_argument("--reference-frames", type=int, default=10,
                        help="frames for --compare-reference (default: 10)")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")


def run(args: argparse.Namespace) -> int:
    from live_avatar.bench import BenchSettings, format_report, run_bench
    from live_avatar.config import parse_size

    settings = BenchSettings(
        backend=args.backend, device=args.device, fp16=args.fp16, driving=args.driving,
        checkpoint=args.checkpoint, config=args.config, frames=max(args.frames, 1),
        warmup=max(args.warmup, 0), output_size=parse_size(args.output_size),
        compare_reference=args.compare_reference,
        reference_frames=max(args.reference_frames, 1),
    )
    if args.avatar:
        settings.avatar = args.avatar
    report = run_bench(settings)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"report written to {args.json}")
    return 0
