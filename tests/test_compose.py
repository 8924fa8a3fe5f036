"""Letterboxing, strips, grids and the three output layouts."""

from __future__ import annotations

import numpy as np
import pytest

from live_avatar.compose import compose_layout, fit_into, grid, side_by_side


def _solid(h, w, value):
    return np.full((h, w, 3), value, dtype=np.uint8)


def test_fit_into_letterboxes_without_squashing():
    out = fit_into(_solid(100, 200, 255), 300, 300)
    assert out.shape == (300, 300, 3)
    # 200x100 -> 300x150 centred: black bands above and below
    assert out[0, 150].max() == 0 and out[-1, 150].max() == 0
    assert out[150, 0].min() == 255 and out[75, 150].min() == 255


def test_side_by_side_keeps_aspect_and_height():
    out = side_by_side([_solid(100, 100, 10), _solid(50, 100, 20)], 64)
    assert out.shape == (64, 64 + 128, 3)


def test_grid_places_panels_row_by_row():
    panels = [_solid(10, 10, v) for v in (50, 100, 150)]
    out = grid(panels)
    assert out.shape == (20, 20, 3)
    assert out[0, 0, 0] == 50 and out[0, 10, 0] == 100 and out[10, 0, 0] == 150
    assert out[10, 10].max() == 0


def test_layouts():
    generated, driving, source = _solid(64, 64, 1), _solid(128, 128, 2), _solid(100, 50, 3)
    assert compose_layout("output", generated) is generated
    assert compose_layout("side-by-side", generated, driving).shape == (64, 128, 3)
    assert compose_layout("full", generated, driving, source).shape == (64, 32 + 128, 3)
    with pytest.raises(ValueError, match="unknown layout"):
        compose_layout("mosaic", generated)
