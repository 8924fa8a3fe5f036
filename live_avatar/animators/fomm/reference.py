"""The original per-frame step (as first-order-model's demo.py runs it) and a speed comparison.

`reference_step` is deliberately plain: fp32, eager, under no_grad, the whole generator run
from the source image every frame and the convex hulls recomputed every frame, exactly as
`make_animation` does. `compare_with_reference` times it against the animator's fast path on
the same frames and reports the ratio and the largest output difference.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

import numpy as np
import torch

from live_avatar.animators.fomm.generator import OcclusionAwareGenerator
from live_avatar.animators.fomm.keypoint_detector import KPDetector
from live_avatar.animators.fomm.motion import normalize_kp
from live_avatar.timing import summarize


def reference_step(generator: OcclusionAwareGenerator, kp_detector: KPDetector,
                   source: torch.Tensor, kp_source: dict, kp_initial: dict,
                   driving: torch.Tensor, relative: bool = True,
                   adapt_scale: bool = True) -> torch.Tensor:
    """One frame the original way. Images (1, 3, H, W) float32 [0, 1] -> prediction, same."""
    with torch.no_grad():
        kp_driving = kp_detector(driving)
        kp_norm = normalize_kp(kp_source, kp_driving, kp_initial, adapt_scale=adapt_scale,
                               relative=relative)
        return generator(source, kp_driving=kp_norm, kp_source=kp_source)["prediction"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: torch.device) -> tuple[torch.Tensor, float]:
    _sync(device)
    start = time.perf_counter()
    out = fn().float().cpu()
    _sync(device)
    return out, (time.perf_counter() - start) * 1000


def _summary(times: list[float]) -> dict:
    figures = summarize(times)
    median = figures["ms_median"]
    return {**figures, "fps": 1000.0 / median if median else 0.0}


def compare_with_reference(animator_settings: dict, frames: Sequence[np.ndarray],
                           avatar: np.ndarray | None = None, warmup: int = 1) -> dict:
    """Time the fast path and the original step on the same frames, alternating per frame.

    animator_settings: keywords for animator.create (checkpoint, config, device, fp16,
    random_weights, compile, ...); frames: driving face crops, HxWx3 uint8 RGB (the first is
    the calibration frame); avatar: HxWx3 uint8 RGB, default the first frame.
    Returns a dict: frames, device, weights, fast / reference {ms_median, ms_p95, fps},
    speedup (reference median / fast median), max_abs_diff and mean_abs_diff of the
    predictions (float, [0, 1] scale).
    """
    from live_avatar.animators.fomm.animator import create

    if len(frames) == 0:
        raise ValueError("compare_with_reference needs at least one driving frame")
    animator = create(**animator_settings)
    try:
        return _compare(animator, frames, frames[0] if avatar is None else avatar, warmup)
    finally:
        animator.close()


def _compare(animator, frames: Sequence[np.ndarray], avatar: np.ndarray, warmup: int) -> dict:
    engine, motion = animator.engine, animator.motion
    device = engine.device
    animator.set_avatar(avatar)
    animator.calibrate(frames[0])
    source = animator.to_tensor(avatar)
    with torch.no_grad():
        kp_source = engine.kp_detector(source)
        kp_initial = engine.kp_detector(animator.to_tensor(frames[0]))

    def reference(frame: np.ndarray) -> torch.Tensor:
        return reference_step(engine.generator, engine.kp_detector, source, kp_source,
                              kp_initial, animator.to_tensor(frame), motion.relative,
                              motion.adapt_scale)

    for _ in range(warmup):  # first calls: allocations, weight packing, compile, capture
        _timed(partial(animator.predict, frames[0]), device)
        _timed(partial(reference, frames[0]), device)
    fast_ms, ref_ms, max_diff, diffs = [], [], 0.0, []
    for frame in frames:
        fast_out, t_fast = _timed(partial(animator.predict, frame), device)
        ref_out, t_ref = _timed(partial(reference, frame), device)
        fast_ms.append(t_fast)
        ref_ms.append(t_ref)
        diff = (fast_out - ref_out).abs()
        max_diff = max(max_diff, float(diff.max()))
        diffs.append(float(diff.mean()))
    fast, ref = _summary(fast_ms), _summary(ref_ms)
    return {
        "frames": len(frames),
        "device": str(device),
        "description": animator.description,
        "random_weights": bool(getattr(animator, "random_weights", False)),
        "fast": fast,
        "reference": ref,
        "speedup": ref["ms_median"] / fast["ms_median"] if fast["ms_median"] else 0.0,
        "max_abs_diff": max_diff,
        "mean_abs_diff": float(np.mean(diffs)),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
