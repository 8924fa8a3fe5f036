"""Checkpoint loading: both file formats, and one clear line for every kind of bad file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from live_avatar.animators.fomm.checkpoint import load_into, read_checkpoint
from live_avatar.animators.fomm.model import build_networks, load_config
from live_avatar.errors import CheckpointError

REPO = Path(__file__).resolve().parent.parent

# the vox structure at tiny widths, so files can be written in a test
TINY = {
    "common_params": {"num_kp": 10, "num_channels": 3, "estimate_jacobian": True},
    "kp_detector_params": {"temperature": 0.1, "block_expansion": 8, "max_features": 64,
                           "scale_factor": 0.25, "num_blocks": 5},
    "generator_params": {"block_expansion": 8, "max_features": 32, "num_down_blocks": 2,
                         "num_bottleneck_blocks": 6, "estimate_occlusion_map": True,
                         "dense_motion_params": {"block_expansion": 8, "max_features": 64,
                                                 "num_blocks": 5, "scale_factor": 0.25}},
}


@pytest.fixture
def tiny(tmp_path):
    """(config path, zip checkpoint, legacy checkpoint, state) for a random tiny model."""
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({"model_params": TINY}))
    generator, kp_detector = build_networks(TINY)
    state = {"generator": generator.state_dict(), "kp_detector": kp_detector.state_dict(),
             "discriminator": {"w": torch.zeros(2)}, "optimizer_generator": {"lr": 1.0},
             "epoch": 3}
    zip_file, legacy = tmp_path / "tiny.pth.tar", tmp_path / "tiny-legacy.pth.tar"
    torch.save(state, zip_file)
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    return config, zip_file, legacy, state


def _fresh():
    return build_networks(TINY)


@pytest.mark.parametrize("which", [1, 2], ids=["zip", "legacy"])
def test_loads_both_formats_and_ignores_training_entries(tiny, which):
    config, path, state = tiny[0], tiny[which], tiny[3]
    generator, kp_detector = _fresh()
    load_into(path, config, generator, kp_detector)
    for key, value in state["generator"].items():
        assert torch.equal(generator.state_dict()[key], value)
    assert set(read_checkpoint(path)) == {"generator", "kp_detector"}


def test_official_fixture_files_load(fixture_a):
    config = fixture_a / "config.yaml"
    for name in ("checkpoint.pth.tar", "checkpoint-legacy.pth.tar"):
        generator, kp_detector = build_networks(load_config(config))
        load_into(fixture_a / name, config, generator, kp_detector)


def test_wrong_config_names_file_config_and_first_key(tiny):
    path = tiny[1]
    generator, kp_detector = build_networks(load_config(REPO / "configs" / "vox-256.yaml"))
    with pytest.raises(CheckpointError) as err:
        load_into(path, REPO / "configs" / "vox-256.yaml", generator, kp_detector)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg and "configs/vox-256.yaml" in msg
    assert ("generator key 'dense_motion_network.hourglass.encoder.down_blocks.0.conv.weight' "
            "has shape (16,44,3,3), config expects (128,44,3,3)") in msg


def test_missing_file_says_where_to_get_one(tmp_path, tiny):
    with pytest.raises(CheckpointError) as err:
        load_into(tmp_path / "vox-cpk.pth.tar", tiny[0], *_fresh())
    msg = str(err.value)
    assert "not found" in msg and "checkpoints/README.md" in msg and "--backend mesh" in msg


@pytest.mark.parametrize("which", [1, 2], ids=["zip", "legacy"])
def test_truncated_file(tmp_path, tiny, which):
    cut = tmp_path / "cut.pth.tar"
    data = tiny[which].read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_into(cut, tiny[0], *_fresh())


def test_an_image_is_not_a_checkpoint(tiny):
    with pytest.raises(CheckpointError, match="is not a PyTorch checkpoint file"):
        load_into(REPO / "avatars" / "astronaut.png", tiny[0], *_fresh())


def test_a_checkpoint_without_networks(tmp_path, tiny):
    path = tmp_path / "other.pth"
    torch.save({"model": {"w": torch.zeros(1)}}, path)
    with pytest.raises(CheckpointError, match="expected top-level 'generator' and 'kp_detector'"):
        load_into(path, tiny[0], *_fresh())


def test_code_in_a_checkpoint_is_refused(tmp_path, tiny):
    """weights_only=True: a pickle that would call a function is not run."""
    path = tmp_path / "evil.pth"

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"generator": {}, "kp_detector": {}, "x": Evil()}, path)
    with pytest.raises(CheckpointError, match="safe load refuses"):
        load_into(path, tiny[0], *_fresh())


def test_missing_and_extra_keys(tmp_path, tiny):
    state = {k: dict(v) if isinstance(v, dict) else v for k, v in tiny[3].items()}
    del state["kp_detector"]["kp.bias"]
    path = tmp_path / "missing.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="kp_detector key 'kp.bias' is missing"):
        load_into(path, tiny[0], *_fresh())
    state["kp_detector"] = dict(tiny[3]["kp_detector"], extra=torch.zeros(1))
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="'extra' is in the checkpoint but not in the config"):
        load_into(path, tiny[0], *_fresh())


def test_bad_config_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("dataset_params: {}\n")
    with pytest.raises(CheckpointError, match="is not a FOMM config"):
        load_config(path)
    with pytest.raises(CheckpointError, match="not found"):
        load_config(tmp_path / "nope.yaml")
