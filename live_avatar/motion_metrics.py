"""Motion-fidelity measures on face-mesh landmarks: mouth and eye opening, head roll and yaw,
and the per-channel Pearson correlation between a driving and a generated clip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from live_avatar.animators.mesh.topology import (
    CHIN,
    EYES,
    FOREHEAD_TOP,
    LEFT_EYE,
    MOUTH_PAIRS,
    RIGHT_EYE,
    STABLE,
)

#: channels measured per frame, in report order
CHANNELS = ("mouth", "eyes", "roll", "yaw")
#: below this standard deviation of the driver's series a channel is "barely moving": the
#: correlation would measure landmark noise, so it is not scored
STILL_BELOW = {"mouth": 0.01, "eyes": 0.03, "roll": 1.0, "yaw": 2.0}
#: the targets of issue 3 (Pearson r, generated vs driving)
TARGETS = {"mouth": 0.95, "eyes": 0.8, "roll": 0.95, "yaw": 0.9}


def _dist(points: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(points[a, :2] - points[b, :2]))


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over face height (forehead top to chin); points: (478, 2+) pixels."""
    gap = np.mean([_dist(points, a, b) for a, b in MOUTH_PAIRS])
    return float(gap / max(_dist(points, FOREHEAD_TOP, CHIN), 1e-6))


def eye_opening(points: np.ndarray, eye=None) -> float:
    """Lid gap over eye width, of one eye (topology.RIGHT_EYE / LEFT_EYE) or both averaged."""
    eyes = EYES if eye is None else (eye,)
    ratios = [_dist(points, *e.lid_pair) / max(_dist(points, e.outer, e.inner), 1e-6) for e in eyes]
    return float(np.mean(ratios))


def head_roll(points: np.ndarray) -> float:
    """In-plane head rotation in degrees: the slope of the line between the outer eye corners."""
    dx, dy = points[LEFT_EYE.outer, :2] - points[RIGHT_EYE.outer, :2]
    return float(np.degrees(np.arctan2(dy, dx)))


def head_yaw(points: np.ndarray, reference: np.ndarray) -> float:
    """Left-right head turn in degrees relative to `reference` ((478, 3) landmarks of the same
    face, e.g. a clip's first frame): the turn about the vertical axis of the 3-D rotation
    fitted on the points that move only with the head (so a dropping jaw does not count)."""
    from live_avatar.animators.mesh.geometry import fit_similarity

    stable = list(STABLE)
    rotation = fit_similarity(reference[stable], points[stable]).rotation
    return float(np.degrees(np.arctan2(rotation[0, 2], rotation[2, 2])))


def measure(points: np.ndarray | None, reference: np.ndarray | None = None) -> dict[str, float]:
    """All channels of one frame's landmarks ((478, 3) pixels); NaN for every channel if None.

    `reference`: the clip's first landmarks, which the yaw is measured against (the yaw is
    NaN without one).
    """
    if points is None:
        return {name: float("nan") for name in CHANNELS}
    return {
        "mouth": mouth_opening(points),
        "eyes": eye_opening(points),
        "roll": head_roll(points),
        "yaw": float("nan") if reference is None else head_yaw(points, reference),
    }


@dataclass
class ChannelScore:
    """How well one channel of the generated clip follows the driver."""

    name: str
    r: float  # Pearson correlation over frames where both faces were found (NaN if unscored)
    driver_std: float  # spread of the driver's series
    frames: int  # frames used
    scored: bool  # False when the driver barely moves in this channel
    target: float

    @property
    def passed(self) -> bool:
        return (not self.scored) or self.r >= self.target


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equal-length series; NaN when either is constant."""
    a = a - a.mean()
    b = b - b.mean()
    denominator = np.sqrt((a**2).sum() * (b**2).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")


def score(driving: list[dict[str, float]], generated: list[dict[str, float]]) -> list[ChannelScore]:
    """Per-channel correlation of two per-frame measure series (lists from `measure`)."""
    scores = []
    for name in CHANNELS:
        d = np.array([m[name] for m in driving], dtype=np.float64)
        g = np.array([m[name] for m in generated], dtype=np.float64)
        both = np.isfinite(d) & np.isfinite(g)
        d, g = d[both], g[both]
        spread = float(d.std()) if len(d) else 0.0
        scored = len(d) >= 5 and spread >= STILL_BELOW[name]
        r = pearson(d, g) if scored else float("nan")
        scores.append(ChannelScore(name, r, spread, int(both.sum()), scored, TARGETS[name]))
    return scores


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two same-shape uint8 images (inf when identical)."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))
