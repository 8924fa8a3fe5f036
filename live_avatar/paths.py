"""Where the repo's data folders are: configs, checkpoints, avatars."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIGS_DIR = PROJECT_ROOT / "configs"
CHECKPOINTS_DIR = PROJECT_ROOT / "checkpoints"
AVATARS_DIR = PROJECT_ROOT / "avatars"

DEFAULT_CONFIG = CONFIGS_DIR / "vox-256.yaml"
DEFAULT_CHECKPOINT = CHECKPOINTS_DIR / "vox-cpk.pth.tar"
