"""`live-avatar [live]`: animate an avatar from the webcam into a virtual camera."""

from __future__ import annotations

import argparse

BACKENDS = ("auto", "fomm", "mesh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    camera = parser.add_argument_group("camera")
    camera.add_argument("--camera", help="camera index (0), device path (/dev/video0), video "
                        "file or URL (default 0)")
    camera.add_argument("--camera-size", metavar="WxH", help="camera resolution, e.g. 1280x720")
    camera.add_argument("--camera-fps", type=float, help="camera frame rate to ask for")
    camera.add_argument("--loop", action="store_true", default=None,
                        help="restart a video file when it ends")
    camera.add_argument("--mirror", action="store_true", default=None,
                        help="mirror the camera image (key m)")
    camera.add_argument("--list-cameras", action="store_true",
                        help="list the cameras that open, then exit")
    avatar = parser.add_argument_group("avatar and animator")
    avatar.add_argument("--avatar", action="append", help="portrait image (repeatable)")
    avatar.add_argument("--avatars-dir", help="folder of portraits for keys 1-9, a/d, l "
                        "(default avatars/)")
    avatar.add_argument("--backend", choices=BACKENDS, help="animator (default auto: FOMM with a "
                        "checkpoint and a GPU, else the embedded face-mesh animator)")
    avatar.add_argument("--checkpoint", help="FOMM checkpoint (default checkpoints/vox-cpk.pth.tar)")
    avatar.add_argument("--config", help="FOMM model config (default configs/vox-256.yaml)")
    avatar.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    avatar.add_argument("--fp16", action="store_true", default=None, help="half precision (GPU)")
    avatar.add_argument("--no-auto-calibrate", action="store_true",
                        help="calibrate only on the first face and on key c")
    output = parser.add_argument_group("output")
    output.add_argument("--output", action="append", metavar="vcam|window|FILE.mp4|none",
                        help="where frames go (repeatable; default vcam)")
    output.add_argument("--output-size", metavar="WxH", help="output frame size (default 1280x720)")
    output.add_argument("--fps", type=float, help="output frame rate cap (default 30)")
    output.add_argument("--background", help="around the portrait: blur or #rrggbb")
    output.add_argument("--vcam-device", help="virtual camera device, e.g. /dev/video10")
    output.add_argument("--vcam-backend", help="pyvirtualcam backend: v4l2loopback, obs, "
                        "unitycapture")
    output.add_argument("--record", metavar="FILE.mp4", help="record the output with the "
                        "microphone's audio (also key r)")
    output.add_argument("--no-preview", action="store_true", help="no preview window (headless)")
    output.add_argument("--max-frames", type=int, help="stop after N output frames")
    parser.add_argument("--settings", metavar="YAML", help="live settings file "
                        "(default configs/live.yaml)")


def _settings(args: argparse.Namespace):
    """configs/live.yaml (or --settings), then the flags given on the command line."""
    from live_avatar.config import load_settings, parse_size

    settings = load_settings(args.settings)
    capture, animator, output = settings.capture, settings.animator, settings.output
    overrides = [
        (capture, "source", args.camera), (capture, "fps", args.camera_fps),
        (capture, "loop", args.loop), (settings, "mirror", args.mirror),
        (settings, "avatars", args.avatar), (settings, "avatars_dir", args.avatars_dir),
        (animator, "backend", args.backend), (animator, "checkpoint", args.checkpoint),
        (animator, "config", args.config), (animator, "device", args.device),
        (animator, "fp16", args.fp16), (output, "outputs", args.output),
        (output, "fps", args.fps), (output, "background", args.background),
        (output, "vcam_device", args.vcam_device), (output, "vcam_backend", args.vcam_backend),
        (output, "record", args.record), (settings, "max_frames", args.max_frames),
    ]
    for target, name, value in overrides:
        if value is not None:
            setattr(target, name, value)
    if args.camera_size:
        capture.size = parse_size(args.camera_size)
    if args.output_size:
        output.size = parse_size(args.output_size)
    if args.no_preview:
        settings.preview = False
    if args.no_auto_calibrate:
        settings.calibration.auto = False
    return settings


def run(args: argparse.Namespace) -> int:
    if args.list_cameras:
        from live_avatar.capture import list_cameras

        cameras = list_cameras()
        print("\n".join(cameras) if cameras else "no camera found")
        return 0
    from live_avatar.app import LiveApp

    return LiveApp(_settings(args)).run()
