"""Build the FOMM networks from a config in FOMM's own YAML schema (`model_params`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from live_avatar.animators.fomm.generator import OcclusionAwareGenerator
from live_avatar.animators.fomm.keypoint_detector import KPDetector
from live_avatar.errors import CheckpointError


def load_config(path: str | Path) -> dict:
    """Read a FOMM YAML config; returns its `model_params` dict. CheckpointError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"config {path} not found: use one of the files in configs/")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"config {path} is not valid YAML: {exc}".splitlines()[0]) from exc
    params = data.get("model_params") if isinstance(data, dict) else None
    needed = ("common_params", "kp_detector_params", "generator_params")
    if not isinstance(params, dict) or any(k not in params for k in needed):
        raise CheckpointError(
            f"config {path} is not a FOMM config: expected model_params with {', '.join(needed)}")
    return params


def build_networks(model_params: dict) -> tuple[OcclusionAwareGenerator, KPDetector]:
    """model_params (FOMM schema) -> (generator, kp_detector), randomly initialised, eval mode."""
    common = model_params["common_params"]
    generator = OcclusionAwareGenerator(**model_params["generator_params"], **common)
    kp_detector = KPDetector(**model_params["kp_detector_params"], **common)
    return generator.eval(), kp_detector.eval()


def frame_size(model_params: dict, default: int = 256) -> int:
    """The square input size the model was trained at (FOMM configs are all 256)."""
    return int(model_params.get("frame_size", default))
