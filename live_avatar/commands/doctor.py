"""`live-avatar doctor`: check the installation, GPU, checkpoints, face models, cameras, the
virtual camera and audio inputs; each problem comes with its fix."""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# distribution name -> what it is for
PACKAGES = {
    "torch": "FOMM",
    "mediapipe": "face tracking",
    "numpy": "arrays",
    "opencv-contrib-python": "images, camera, preview",
    "av": "video files",
    "pyvirtualcam": "virtual camera",
    "sounddevice": "microphone",
    "PyYAML": "configs",
}
CHECKPOINT_SUFFIXES = (".pth.tar", ".pth", ".pt", ".tar")


@dataclass
class Check:
    """One line of the report."""

    status: str  # 'ok', 'warn' or 'FAIL'
    name: str  # what was checked
    detail: str  # what was found
    fix: str = ""  # what to do about it (warn / FAIL)

    def line(self) -> str:
        text = f"[{self.status:^4}] {self.name}: {self.detail}"
        return f"{text}\n       fix: {self.fix}" if self.fix else text


def check_python() -> list[Check]:
    version = platform.python_version()
    if (3, 10) <= sys.version_info[:2] < (3, 13):
        return [Check("ok", "python", f"{version} ({sys.executable})")]
    return [Check("FAIL", "python", version, "use Python 3.10, 3.11 or 3.12")]


def check_packages() -> list[Check]:
    checks = []
    for name, purpose in PACKAGES.items():
        try:
            checks.append(Check("ok", name, f"{metadata.version(name)} ({purpose})"))
        except metadata.PackageNotFoundError:
            checks.append(Check("FAIL", name, f"not installed ({purpose})", "pip install -e ."))
    return checks


def check_torch() -> list[Check]:
    import shutil

    import torch

    build = f"torch {torch.__version__}, CUDA build {torch.version.cuda or 'none (CPU only)'}"
    has_nvidia = shutil.which("nvidia-smi") is not None
    if not torch.cuda.is_available():
        fix = ("install a CUDA build of torch: see https://pytorch.org/get-started/locally"
               if has_nvidia else "")
        detail = "no usable CUDA GPU: the embedded animator runs; FOMM would be slow on the CPU"
        return [Check("warn" if has_nvidia else "ok", "torch / GPU", f"{build}; {detail}", fix)]
    name = torch.cuda.get_device_name(0)
    major, minor = torch.cuda.get_device_capability(0)
    arch = f"sm_{major}{minor}"
    if arch not in torch.cuda.get_arch_list():
        return [Check("FAIL", "torch / GPU", f"{build}; {name} ({arch}) is not supported by this "
                      f"build ({' '.join(torch.cuda.get_arch_list())})",
                      "install a torch build for this GPU from https://pytorch.org")]
    return [Check("ok", "torch / GPU", f"{build}; {name} ({arch})")]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_checkpoints(folder: Path) -> list[Check]:
    found = []
    if folder.is_dir():
        found = sorted(p for p in folder.iterdir() if p.name.endswith(CHECKPOINT_SUFFIXES))
    if not found:
        return [Check("warn", "checkpoints", f"none in {folder}: the embedded animator is used",
                      f"for FOMM put vox-cpk.pth.tar in {folder} (see the README)")]
    return [Check("ok", "checkpoint", f"{p.name}, {p.stat().st_size / 1e6:.1f} MB, "
                  f"sha256 {_sha256(p)[:16]}") for p in found]


def check_face_models() -> list[Check]:
    import numpy as np

    from live_avatar.face.landmarks import FaceLandmarker, detect_face_boxes

    blank = np.full((256, 256, 3), 128, dtype=np.uint8)
    try:
        with FaceLandmarker() as landmarker:
            landmarker(blank)
        detect_face_boxes(blank)
    except (RuntimeError, OSError, ValueError) as error:
        return [Check("FAIL", "face models", f"mediapipe failed: {error}",
                      "pip install --force-reinstall mediapipe==0.10.21")]
    return [Check("ok", "face models", "mediapipe face mesh and face detection load")]


def check_cameras() -> list[Check]:
    from live_avatar.capture import list_cameras

    cameras = list_cameras()
    if cameras:
        return [Check("ok", "cameras", ", ".join(cameras))]
    fix = ("plug a camera in; on Linux add yourself to the 'video' group "
           "(sudo usermod -aG video $USER) and close programs using it")
    return [Check("warn", "cameras", "none opens", fix)]


def check_virtual_camera() -> list[Check]:
    from live_avatar.errors import VirtualCameraError
    from live_avatar.sinks.vcam import open_virtual_camera, platform_fix

    try:
        camera = open_virtual_camera(1280, 720, 30)
    except VirtualCameraError as error:
        return [Check("warn", "virtual camera", str(error).split(";")[0], platform_fix())]
    detail = f"{camera.device} via {camera.backend}"
    camera.close()
    return [Check("ok", "virtual camera", detail)]


def check_audio() -> list[Check]:
    from live_avatar.sinks.microphone import input_devices

    devices = input_devices()
    if devices:
        return [Check("ok", "audio inputs", ", ".join(devices))]
    return [Check("warn", "audio inputs", "none: recordings will have no sound",
                  "plug a microphone in (Linux: install pulseaudio or pipewire-pulse, and "
                  "libportaudio2)")]


def check_display() -> list[Check]:
    from live_avatar.sinks.window import has_display

    if has_display():
        return [Check("ok", "display", "windows can open (preview)")]
    return [Check("warn", "display", "none: no preview window", "run with --no-preview, or "
                  "from a desktop session")]


def run_checks(checkpoints_dir: Path) -> list[Check]:
    """Every check, in order; a check whose import fails is reported as FAIL, not raised."""
    steps: list[Callable[[], list[Check]]] = [
        check_python, check_packages, check_torch, lambda: check_checkpoints(checkpoints_dir),
        check_face_models, check_cameras, check_virtual_camera, check_audio, check_display,
    ]
    checks = []
    for step in steps:
        try:
            checks += step()
        except ImportError as error:
            checks.append(Check("FAIL", getattr(step, "__name__", "check"), str(error),
                                "pip install -e ."))
    return checks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoints-dir", help="where to look for checkpoints "
                        "(default checkpoints/)")


def run(args: argparse.Namespace) -> int:
    from live_avatar.paths import CHECKPOINTS_DIR

    failed = False
    for check in run_checks(Path(args.checkpoints_dir or CHECKPOINTS_DIR)):
        print(check.line(), flush=True)
        failed |= check.status == "FAIL"
    return 1 if failed else 0
