"""Relative motion maths (normalize_kp, hull areas) against the original's numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from live_avatar.animators.fomm.motion import (
    adapt_movement_scale,
    hull_area,
    inverse_2x2,
    normalize_kp,
)


def test_hull_area_of_simple_shapes():
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2], [1, 1], [0.5, 1.5]])
    assert hull_area(square) == pytest.approx(4.0)
    assert hull_area(np.array([[0, 0], [1, 0], [0, 1]])) == pytest.approx(0.5)
    assert hull_area(np.array([[0, 0], [1, 1], [2, 2]])) == 0.0  # collinear: no area


def test_inverse_2x2_matches_torch():
    m = torch.randn(5, 10, 2, 2, dtype=torch.float64) + 3 * torch.eye(2, dtype=torch.float64)
    assert torch.allclose(inverse_2x2(m), torch.inverse(m), atol=1e-12)


def test_absolute_mode_returns_driving_unchanged():
    kp = {"value": torch.rand(1, 10, 2), "jacobian": torch.rand(1, 10, 2, 2)}
    other = {"value": torch.rand(1, 10, 2), "jacobian": torch.rand(1, 10, 2, 2)}
    out = normalize_kp(other, kp, other, relative=False)
    assert out["value"] is kp["value"] and out["jacobian"] is kp["jacobian"]


def test_calibration_frame_maps_onto_the_source():
    src = {"value": torch.rand(1, 10, 2) - 0.5, "jacobian": torch.rand(1, 10, 2, 2) + torch.eye(2)}
    drv = {"value": torch.rand(1, 10, 2) - 0.5, "jacobian": torch.rand(1, 10, 2, 2) + torch.eye(2)}
    out = normalize_kp(src, drv, drv)
    assert torch.allclose(out["value"], src["value"])
    assert torch.allclose(out["jacobian"], src["jacobian"], atol=1e-5)


@pytest.fixture
def expected(fixture_a):
    return np.load(fixture_a / "expected.npz")


def _kp(expected, name, n=None):
    kp = {"value": torch.from_numpy(expected[f"{name}_value"]),
          "jacobian": torch.from_numpy(expected[f"{name}_jacobian"])}
    if n is not None:
        kp = {k: v.expand(n, *v.shape[1:]) for k, v in kp.items()}
    return kp


def test_hull_areas_and_scale_match_original(expected):
    src, init = _kp(expected, "kp_source"), _kp(expected, "kp_driving_initial")
    assert hull_area(src["value"][0].numpy()) == pytest.approx(expected["source_hull_area"][0],
                                                               rel=1e-6)
    assert hull_area(init["value"][0].numpy()) == pytest.approx(
        expected["driving_initial_hull_area"][0], rel=1e-6)
    assert adapt_movement_scale(src, init) == pytest.approx(expected["adapt_movement_scale"][0],
                                                            rel=1e-6)


@pytest.mark.parametrize("suffix, options", [
    ("", {}),
    ("_noadapt", {"adapt_scale": False}),
    ("_abs", {"relative": False}),
])
def test_normalize_kp_matches_original(expected, suffix, options):
    n = expected["kp_driving_value"].shape[0]
    out = normalize_kp(_kp(expected, "kp_source", n), _kp(expected, "kp_driving"),
                       _kp(expected, "kp_driving_initial", n), **options)
    for part in ("value", "jacobian"):
        want = expected[f"kp_norm{suffix}_{part}"]
        assert np.abs(out[part].numpy() - want).max() < 5e-5, part
