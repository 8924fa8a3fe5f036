"""The benchmark: the real live per-frame path (decode -> face tracking/crop -> animator ->
compose -> output) on a driving video, timed stage by stage."""

from __future__ import annotations

import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_avatar.paths import AVATARS_DIR, DEFAULT_CHECKPOINT, DEFAULT_CONFIG
from live_avatar.timing import summarize

STAGES = ("decode", "tracking", "animator", "compose", "output")


@dataclass
class BenchSettings:
    """What `live-avatar bench` measures."""

    backend: str = "mesh"  # fomm | mesh
    device: str = "cpu"  # auto | cpu | cuda[:N]
    fp16: bool = False  # half precision on CUDA (FOMM)
    driving: str | None = None  # driving video; None = a synthetic clip made on the spot
    avatar: str = str(AVATARS_DIR / "mona_lisa.jpg")  # the portrait to animate
    checkpoint: str = str(DEFAULT_CHECKPOINT)  # FOMM weights; random weights when absent
    config: str = str(DEFAULT_CONFIG)  # FOMM model config
    frames: int = 120  # frames timed (after warm-up)
    warmup: int = 5  # frames run first and not timed (allocations, compile)
    output_size: tuple[int, int] = (1280, 720)  # composed output frame, width x height
    compare_reference: bool = False  # also time the original FOMM per-frame step
    reference_frames: int = 10  # frames for the reference comparison (it is slow on a CPU)


def machine_info(device) -> dict:
    """CPU model, thread counts, GPU name and library versions of this run."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass  # not Linux: platform.processor() is the best there is
    info = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
    }
    return info


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class _Path:
    """The per-frame path of the live app, built from the live app's own parts."""

    def __init__(self, settings: BenchSettings):
        from live_avatar.app import avatar_for_animator, load_avatar_with_face
        from live_avatar.compose import Compositor
        from live_avatar.console import about
        from live_avatar.sinks.null import NullSink
        from live_avatar.tracking import FaceTracker

        self.settings = settings
        self.animator, self.weights_note = _build_animator(settings)
        avatar = load_avatar_with_face(Path(settings.avatar))
        self.avatar_input, landmarks = avatar_for_animator(self.animator, avatar)
        with about(settings.avatar):
            self.animator.set_avatar(self.avatar_input, landmarks)
        self.tracker = FaceTracker()
        self.compositor = Compositor(settings.output_size)
        self.compositor.set_avatar(self.animator.neutral())
        self.sink = NullSink(settings.output_size, 30.0)
        self.crops: list[np.ndarray] = []  # driving crops, kept for the reference comparison

    def step(self, frame: np.ndarray, timestamp: float, times: dict[str, float]) -> bool:
        """Run one frame through tracking, animator, compose and output; False if no face."""
        from live_avatar.face.crop import crop_square, landmarks_in_crop

        start = time.perf_counter()
        track = self.tracker.update(frame, timestamp)
        if not track.found:
            return False
        side = self.animator.driving_size or 256
        crop = crop_square(frame, track.box, side)
        points = landmarks_in_crop(track.landmarks, track.box, side)
        tracked = time.perf_counter()
        if not self.animator.calibrated:
            self.animator.calibrate(crop, points)
        output = self.animator.animate(crop, points, timestamp)
        _synchronize(self.animator)
        animated = time.perf_counter()
        composed = self.compositor(output)
        done_compose = time.perf_counter()
        self.sink.write(composed)
        finished = time.perf_counter()
        times.update(tracking=tracked - start, animator=animated - tracked,
                     compose=done_compose - animated, output=finished - done_compose)
        if self.settings.compare_reference and len(self.crops) < self.settings.reference_frames:
            self.crops.append(crop)
        return True

    def close(self) -> None:
        self.tracker.close()
        self.sink.close()
        self.animator.close()


def _build_animator(settings: BenchSettings):
    """The animator to time and a note on its weights."""
    from live_avatar.animators import MotionOptions, create_animator

    if settings.backend == "mesh":
        return create_animator("mesh", motion=MotionOptions()), None
    random_weights = not Path(settings.checkpoint).is_file()
    note = (f"no checkpoint at {settings.checkpoint}: FOMM timed with random weights on the "
            f"full-size {Path(settings.config).stem} model (speed does not depend on the weights)"
            if random_weights else None)
    animator = create_animator("fomm", checkpoint=settings.checkpoint, config=settings.config,
                               device=settings.device, fp16=settings.fp16,
                               random_weights=random_weights)
    return animator, note


def _synchronize(animator) -> None:
    # CUDA work is asynchronous: wait for it so the stage time is the real one
    engine = getattr(animator, "engine", None)
    device = getattr(engine, "device", None)
    if device is not None and device.type == "cuda":
        import torch

        torch.cuda.synchronize(device)


def _driving_video(settings: BenchSettings, scratch: Path) -> Path:
    if settings.driving:
        from live_avatar.media import probe_video

        probe_video(settings.driving)  # InputFileError now, not half-way
        return Path(settings.driving)
    from live_avatar.synthetic import write_synthetic_clip

    return write_synthetic_clip(scratch / "synthetic.mp4", count=settings.frames + settings.warmup)


def run_bench(settings: BenchSettings) -> dict:
    """Time the per-frame path; returns the report as a JSON-ready dict."""
    from live_avatar.media import read_frames

    with tempfile.TemporaryDirectory(prefix="live-avatar-bench-") as scratch:
        video = _driving_video(settings, Path(scratch))
        path = _Path(settings)
        try:
            stage_ms, latency_ms, missed, wall = _time_frames(path, read_frames(video), settings)
            report = _report(settings, path, video, stage_ms, latency_ms, missed, wall)
            if settings.compare_reference and settings.backend == "fomm" and path.crops:
                report["reference"] = _compare_reference(settings, path)
        finally:
            path.close()
    return report


def _time_frames(path: _Path, frames, settings: BenchSettings):
    stage_ms: dict[str, list[float]] = {name: [] for name in STAGES}
    latency_ms: list[float] = []
    missed = timed = seen = 0
    wall_start = None
    iterator = iter(frames)
    while timed < settings.frames:
        start = time.perf_counter()
        frame = next(iterator, None)
        if frame is None:
            break  # the clip is shorter than --frames: report what was measured
        decoded = time.perf_counter()
        times: dict[str, float] = {}
        ok = path.step(frame, decoded, times)
        seen += 1
        if seen <= settings.warmup:
            wall_start = time.perf_counter()
            continue
        if not ok:
            missed += 1
            continue
        stage_ms["decode"].append((decoded - start) * 1000)
        for name, seconds in times.items():
            stage_ms[name].append(seconds * 1000)
        latency_ms.append((time.perf_counter() - start) * 1000)
        timed += 1
    wall = time.perf_counter() - (wall_start or time.perf_counter())
    return stage_ms, latency_ms, missed, wall


def _report(settings, path, video, stage_ms, latency_ms, missed, wall) -> dict:
    import torch

    engine = getattr(path.animator, "engine", None)
    device = getattr(engine, "device", None) or torch.device("cpu")
    frames = len(latency_ms)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "backend": settings.backend,
        "fp16": settings.fp16,
        "driving": str(settings.driving or "synthetic clip (bundled portrait, 640x480)"),
        "avatar": settings.avatar,
        "output_size": list(settings.output_size),
        "weights": path.weights_note or ("checkpoint " + settings.checkpoint
                                         if settings.backend == "fomm" else "none needed"),
        "frames": frames,
        "frames_without_face": missed,
        "stages": {name: summarize(values) for name, values in stage_ms.items()},
        "throughput_fps": frames / wall if wall > 0 else 0.0,
        "latency": summarize(latency_ms),
        "peak_rss_mb": peak_rss_mb(),
        "peak_gpu_mb": (torch.cuda.max_memory_allocated(device) / 2**20
                        if device.type == "cuda" else None),
        "machine": machine_info(device),
    }
    return report


def _compare_reference(settings: BenchSettings, path: _Path) -> dict:
    """Original per-frame step vs the fast path on the same driving crops."""
    from live_avatar.animators.fomm.reference import compare_with_reference

    random_weights = path.weights_note is not None
    animator_settings = {"checkpoint": settings.checkpoint, "config": settings.config,
                         "device": settings.device, "fp16": settings.fp16,
                         "random_weights": random_weights}
    return compare_with_reference(animator_settings, path.crops, avatar=path.avatar_input)


def format_report(report: dict) -> str:
    """The report as a table for the terminal."""
    machine = report["machine"]
    lines = [
        f"live-avatar bench — backend {report['backend']}"
        f"{' fp16' if report['fp16'] else ''} on {machine['device']}"
        f" ({machine['gpu'] or machine['cpu']}, {machine['torch_threads']} torch threads,"
        f" torch {machine['torch']})",
        f"driving: {report['driving']}; avatar: {report['avatar']}; weights: {report['weights']}",
        f"{'stage':<10}{'median ms':>11}{'p95 ms':>9}",
    ]
    for name, figures in report["stages"].items():
        lines.append(f"{name:<10}{figures['ms_median']:>11.2f}{figures['ms_p95']:>9.2f}")
    latency = report["latency"]
    lines.append(f"{'end-to-end':<10}{latency['ms_median']:>11.2f}{latency['ms_p95']:>9.2f}")
    lines.append(f"throughput: {report['throughput_fps']:.1f} frames/s over {report['frames']} "
                 f"frames ({report['frames_without_face']} without a face); peak RSS "
                 f"{report['peak_rss_mb']:.0f} MiB"
                 + (f", peak GPU {report['peak_gpu_mb']:.0f} MiB" if report["peak_gpu_mb"] else ""))
    if "reference" in report:
        ref = report["reference"]
        lines.append(
            f"reference (original per-frame step) {ref['reference']['ms_median']:.1f} ms vs fast "
            f"path {ref['fast']['ms_median']:.1f} ms (median of {ref['frames']} frames): "
            f"speed-up x{ref['speedup']:.2f}, max-abs output difference {ref['max_abs_diff']:.2e}"
        )
    return "\n".join(lines)
