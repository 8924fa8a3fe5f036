"""Relative motion maths of FOMM (`normalize_kp`): pure tensor code, no networks, no weights."""

from __future__ import annotations

import numpy as np
import torch


def inverse_2x2(m: torch.Tensor) -> torch.Tensor:
    """Inverse of (..., 2, 2) matrices in closed form.

    Same values as torch.inverse to float rounding, but elementwise only: no LAPACK call and
    no error-check sync, so it runs inside CUDA graphs and under autocast-free fp32 maths.
    """
    a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
    det = a * d - b * c
    rows = torch.stack([torch.stack([d, -b], -1), torch.stack([-c, a], -1)], -2)
    return rows / det[..., None, None]


def hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of points (N, 2), float64; 0.0 for degenerate sets.

    Monotone-chain hull then the shoelace formula (scipy's ConvexHull(...).volume in 2-D).
    """
    pts = np.unique(np.asarray(points, dtype=np.float64).reshape(-1, 2), axis=0)
    if len(pts) < 3:
        return 0.0

    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def half(seq: np.ndarray) -> list[np.ndarray]:
        chain: list[np.ndarray] = []
        for p in seq:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain

    hull = np.array(half(pts)[:-1] + half(pts[::-1])[:-1])
    x, y = hull[:, 0], hull[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def adapt_movement_scale(kp_source: dict, kp_driving_initial: dict) -> float:
    """sqrt(hull area of source keypoints) / sqrt(hull area of calibration keypoints), item 0."""
    source_area = hull_area(kp_source["value"][0].detach().float().cpu().numpy())
    driving_area = hull_area(kp_driving_initial["value"][0].detach().float().cpu().numpy())
    if driving_area <= 0:
        return 1.0  # degenerate calibration keypoints: keep the movement as it is
    return float(np.sqrt(source_area) / np.sqrt(driving_area))


def normalize_kp(kp_source: dict, kp_driving: dict, kp_driving_initial: dict,
                 adapt_scale: bool = True, relative: bool = True,
                 relative_jacobian: bool | None = None,
                 scale: float | torch.Tensor | None = None) -> dict:
    """Driving keypoints moved onto the source, as the original `normalize_kp`.

    Each kp dict: 'value' (B, K, 2) and optionally 'jacobian' (B, K, 2, 2). Relative:
    value = kp_src + (kp_drv - kp_drv_initial) * s, jacobian = J_drv @ inv(J_initial) @ J_src,
    s = `scale` if given, else adapt_movement_scale(...) with adapt_scale, else 1.
    Absolute (relative=False): the driving keypoints unchanged. relative_jacobian defaults to
    `relative`. Returns a new dict; the inputs are not modified.
    """
    if relative_jacobian is None:
        relative_jacobian = relative
    kp_new = dict(kp_driving)
    if not relative:
        return kp_new
    if scale is None:
        scale = adapt_movement_scale(kp_source, kp_driving_initial) if adapt_scale else 1.0
    diff = (kp_driving["value"] - kp_driving_initial["value"]) * scale
    kp_new["value"] = diff + kp_source["value"]
    if relative_jacobian and "jacobian" in kp_driving:
        change = torch.matmul(kp_driving["jacobian"], inverse_2x2(kp_driving_initial["jacobian"]))
        kp_new["jacobian"] = torch.matmul(change, kp_source["jacobian"])
    return kp_new
