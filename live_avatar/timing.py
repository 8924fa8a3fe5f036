"""Summaries of measured times: median and 95th percentile, the same way everywhere."""

from __future__ import annotations

import statistics

import numpy as np


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    return float(np.percentile(values, q)) if len(values) else 0.0


def summarize(milliseconds: list[float]) -> dict:
    """Median and 95th percentile of a list of milliseconds, and how many there were."""
    return {
        "ms_median": statistics.median(milliseconds) if len(milliseconds) else 0.0,
        "ms_p95": percentile(milliseconds, 95),
        "samples": len(milliseconds),
    }
