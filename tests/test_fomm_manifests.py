"""The FOMM networks have the original state-dict keys, order, shapes and dtypes (8 configs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from live_avatar.animators.fomm.model import build_networks, load_config

MANIFESTS = sorted((Path(__file__).parent / "data" / "manifests").glob("manifest-*-256.json"))
CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_all_eight_manifests_are_here():
    names = {p.name.removeprefix("manifest-").removesuffix(".json") for p in MANIFESTS}
    assert names == {"vox-256", "vox-adv-256", "taichi-256", "taichi-adv-256", "mgif-256",
                     "fashion-256", "bair-256", "nemo-256"}


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.stem.removeprefix("manifest-"))
def test_state_dicts_match_manifest(manifest: Path):
    expected = json.loads(manifest.read_text())
    with torch.device("meta"):  # shapes only: no 60M-parameter initialisation
        generator, kp_detector = build_networks(expected["config"])
    for part, network in (("generator", generator), ("kp_detector", kp_detector)):
        state = network.state_dict()
        assert list(state) == list(expected[part]), f"{part} keys or their order differ"
        for key, shape in expected[part].items():
            assert list(state[key].shape) == shape, f"{part} {key}"
            assert str(state[key].dtype).removeprefix("torch.") == expected["dtypes"][part][key]
        params = sum(p.numel() for p in network.parameters())
        assert params == expected["counts"][part]["parameters"]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.stem.removeprefix("manifest-"))
def test_shipped_config_equals_manifest_config(manifest: Path):
    name = manifest.stem.removeprefix("manifest-")
    expected = json.loads(manifest.read_text())["config"]
    assert load_config(CONFIGS / f"{name}.yaml") == expected
