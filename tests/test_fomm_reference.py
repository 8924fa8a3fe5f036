"""The original-style reference step and the fast-vs-reference comparison used by `bench`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from live_avatar.animators.fomm.reference import compare_with_reference, reference_step

REPO = Path(__file__).resolve().parent.parent


def _rgb(name: str) -> np.ndarray:
    image = cv2.cvtColor(cv2.imread(str(REPO / "avatars" / name)), cv2.COLOR_BGR2RGB)
    return cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA)


def test_compare_reports_speed_and_difference():
    frames = [_rgb("mona_lisa.jpg"), _rgb("raphael_la_velata.jpg"), _rgb("astronaut.png")]
    result = compare_with_reference(
        {"config": REPO / "tests" / "data" / "tiny-fomm.yaml", "random_weights": True,
         "device": "cpu"}, frames, avatar=_rgb("mona_lisa_half_length.jpg"))
    assert result["frames"] == 3 and result["device"] == "cpu" and result["random_weights"]
    for path in ("fast", "reference"):
        assert result[path]["ms_median"] > 0 and result[path]["fps"] > 0
        assert result[path]["ms_p95"] >= result[path]["ms_median"]
    assert result["speedup"] > 0
    assert result["max_abs_diff"] < 1e-3  # same frames within the fixture tolerance


def test_reference_step_is_the_original_generator_call(fixture_a):
    from live_avatar.animators.fomm.checkpoint import load_into
    from live_avatar.animators.fomm.model import build_networks, load_config

    config = fixture_a / "config.yaml"
    generator, kp_detector = build_networks(load_config(config))
    load_into(fixture_a / "checkpoint.pth.tar", config, generator, kp_detector)
    inputs, expected = np.load(fixture_a / "inputs.npz"), np.load(fixture_a / "expected.npz")
    source = torch.from_numpy(inputs["source"])
    driving = torch.from_numpy(inputs["driving"])
    with torch.no_grad():
        kp_source, kp_initial = kp_detector(source), kp_detector(driving[:1])
    out = reference_step(generator, kp_detector, source, kp_source, kp_initial, driving[3:4])
    assert np.abs(out.numpy()[0] - expected["prediction"][3]).max() < 1e-3
