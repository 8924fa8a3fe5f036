"""Temporal smoothing: the One Euro filter (Casiez et al., CHI 2012) for arrays."""

from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Smooths a stream of same-shape arrays: still input gives still output, fast motion
    passes with little lag (the cut-off rises with speed).

    min_cutoff: Hz at rest (lower = steadier); beta: how fast the cut-off rises with speed;
    d_cutoff: Hz for the speed estimate.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self.reset()

    def reset(self) -> None:
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time: float | None = None

    def __call__(self, value: np.ndarray, timestamp: float) -> np.ndarray:
        """Filter `value` observed at `timestamp` (seconds); returns a new float64 array."""
        value = np.asarray(value, dtype=np.float64)
        if self._value is None or self._time is None or timestamp <= self._time:
            self._value, self._speed, self._time = value.copy(), np.zeros_like(value), timestamp
            return value.copy()
        dt = timestamp - self._time
        speed = (value - self._value) / dt
        a_d = _alpha(self.d_cutoff, dt)
        self._speed = a_d * speed + (1 - a_d) * self._speed
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        tau = 1.0 / (2 * np.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        self._value = a * value + (1 - a) * self._value
        self._time = timestamp
        return self._value.copy()
