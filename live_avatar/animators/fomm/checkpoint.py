"""Load official FOMM checkpoint files (legacy torch 1.0 and zip format) into the networks."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from live_avatar.errors import CheckpointError
from live_avatar.paths import PROJECT_ROOT

# the two top-level entries we use; discriminator, optimizers and epoch are ignored
PARTS = ("generator", "kp_detector")

GET_CHECKPOINT = ("download vox-cpk.pth.tar (see checkpoints/README.md) into checkpoints/, "
                  "or use --backend mesh, which needs no weights")


def _shown(path: str | Path) -> str:
    """A path as the user would type it: relative to the project when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu",
                    config: str | Path | None = None) -> dict:
    """The `generator` and `kp_detector` state dicts of a checkpoint file.

    Safe to call on files from the internet: torch.load(weights_only=True) refuses code.
    Raises CheckpointError (one line) when the file is missing, unreadable or not a FOMM file;
    `config`, when given, is named in the message.
    """
    path = Path(path)
    label = f"{_shown(path)} (for {_shown(config)})" if config else _shown(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {label} not found: {GET_CHECKPOINT}")
    with path.open("rb") as f:
        head = f.read(4)
    # zip (torch >= 1.6) files start with PK; legacy (torch 1.0) files with a pickle opcode
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        raise CheckpointError(
            f"{label} is not a PyTorch checkpoint file: {GET_CHECKPOINT}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError,
            zipfile.BadZipFile, AttributeError, ImportError, TypeError) as exc:
        raise CheckpointError(f"{label}: {_load_failure(exc)}") from exc
    if not isinstance(data, dict) or any(not isinstance(data.get(p), dict) for p in PARTS):
        found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(
            f"{label} is not a FOMM checkpoint: expected top-level 'generator' and "
            f"'kp_detector', found {found or 'nothing'}")
    return {part: _strip_prefix(data[part]) for part in PARTS}


def _load_failure(exc: Exception) -> str:
    """One line for why torch.load failed."""
    text = str(exc)
    if "Weights only load failed" in text:
        return ("holds objects other than tensors, which a safe load refuses to run; "
                "use an official FOMM checkpoint")
    reason = (text.strip().splitlines() or [type(exc).__name__])[0][:120]
    return f"cannot be read (truncated or damaged download?): {reason}"


def _strip_prefix(state: dict) -> dict:
    """Drop a DataParallel 'module.' prefix when every key has one."""
    if state and all(str(k).startswith("module.") for k in state):
        return {k[len("module."):]: v for k, v in state.items()}
    return state


def _shape(t: torch.Tensor) -> str:
    return "(" + ",".join(str(d) for d in t.shape) + ")"


def first_mismatch(part: str, network: nn.Module, state: dict) -> str | None:
    """Describe the first key where `state` does not fit `network`, or None when it fits."""
    own = network.state_dict()
    for key, tensor in own.items():
        if key not in state:
            return f"{part} key '{key}' is missing from the checkpoint"
        value = state[key]
        if not isinstance(value, torch.Tensor):
            return f"{part} key '{key}' is not a tensor"
        if value.shape != tensor.shape:
            return (f"{part} key '{key}' has shape {_shape(value)}, "
                    f"config expects {_shape(tensor)}")
    extra = [k for k in state if k not in own]
    if extra:
        return f"{part} key '{extra[0]}' is in the checkpoint but not in the config"
    return None


def load_into(path: str | Path, config: str | Path, generator: nn.Module,
              kp_detector: nn.Module, map_location: str | torch.device = "cpu") -> None:
    """Load checkpoint `path` into the networks built from `config` (named in errors)."""
    states = read_checkpoint(path, map_location, config)
    for part, network in zip(PARTS, (generator, kp_detector), strict=True):
        problem = first_mismatch(part, network, states[part])
        if problem:
            raise CheckpointError(
                f"{_shown(path)} does not match {_shown(config)}: {problem}")
        network.load_state_dict(states[part], strict=True)
