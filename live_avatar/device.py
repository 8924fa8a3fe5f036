"""The one place that turns `--device auto|cpu|cuda[:N]` into a torch device."""

from __future__ import annotations

import re

import torch

from live_avatar.errors import UserError

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(spec: str = "auto") -> torch.device:
    """Return the torch device for `spec` ('auto', 'cpu', 'cuda' or 'cuda:N').

    'auto' picks the first CUDA GPU when this torch build can use one, else the CPU.
    """
    spec = (spec or "auto").strip().lower()
    if not _DEVICE_PATTERN.match(spec):
        raise UserError(f"unknown device '{spec}': use auto, cpu, cuda or cuda:N")
    if spec == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(
                f"device '{spec}' asked for, but this torch build sees no CUDA GPU: "
                "install a CUDA build of torch (https://pytorch.org) or use --device cpu"
            )
        index = int(spec.split(":")[1]) if ":" in spec else 0
        if index >= torch.cuda.device_count():
            raise UserError(
                f"device '{spec}' does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA GPU(s)"
            )
        return torch.device(f"cuda:{index}")
    return torch.device("cpu")


def gpu_available() -> bool:
    """True when this torch build can run on a CUDA GPU."""
    return torch.cuda.is_available()
