"""The FOMM animator: `create(...)` builds it from a config and a checkpoint (or random weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from live_avatar.animators.base import Animator, MotionOptions
from live_avatar.animators.fomm.checkpoint import load_into
from live_avatar.animators.fomm.engine import EngineOptions, FommEngine, SourceState
from live_avatar.animators.fomm.model import build_networks, frame_size, load_config
from live_avatar.animators.fomm.motion import adapt_movement_scale
from live_avatar.console import say
from live_avatar.device import resolve_device
from live_avatar.paths import DEFAULT_CHECKPOINT, DEFAULT_CONFIG


def check_frame(image: np.ndarray, what: str) -> None:
    """Raise ValueError unless image is HxWx3 uint8 (the animator contract)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3:
        got = (f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray)
               else type(image).__name__)
        raise ValueError(f"{what}: expected an HxWx3 uint8 RGB image, got {got}")


class FommAnimator(Animator):
    """First Order Motion Model: the avatar is encoded once, each frame runs the fast step."""

    name = "fomm"
    crops_avatar = True

    def __init__(self, engine: FommEngine, size: int, motion: MotionOptions | None = None,
                 description: str = "fomm", random_weights: bool = False):
        super().__init__(motion)
        self.engine = engine
        self.driving_size = size
        self.description = description  # one line: config, weights and device
        self.random_weights = random_weights  # True: untrained networks, for speed tests only
        self._state: SourceState | None = None
        self._kp_initial: dict | None = None
        self._scale: torch.Tensor | None = None
        self._neutral: np.ndarray | None = None
        self._pinned: torch.Tensor | None = None  # CUDA: page-locked staging for uploads
        self._uploaded = None  # CUDA: event recorded after the last upload from _pinned

    # -- conversions -------------------------------------------------------------------
    def to_tensor(self, image: np.ndarray, what: str = "frame") -> torch.Tensor:
        """HxWx3 uint8 RGB (any size) -> (1, 3, S, S) float32 in [0, 1] on the device."""
        check_frame(image, what)
        size = self.driving_size
        if image.shape[:2] != (size, size):
            import cv2

            shrink = image.shape[0] > size or image.shape[1] > size
            image = cv2.resize(image, (size, size),
                               interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        host = torch.from_numpy(np.ascontiguousarray(image))
        if self.engine.device.type == "cuda":
            # pinned staging buffer: the upload is asynchronous and the GPU never waits on it
            if self._pinned is None or self._pinned.shape != host.shape:
                self._pinned = torch.empty(host.shape, dtype=torch.uint8, pin_memory=True)
                self._uploaded = torch.cuda.Event()
            self._uploaded.synchronize()  # the previous upload has left the buffer
            self._pinned.copy_(host)
            host = self._pinned
        pixels = host.to(self.engine.device, non_blocking=True)
        if self._uploaded is not None:
            self._uploaded.record()
        return (pixels.permute(2, 0, 1).unsqueeze(0).float() / 255.0).contiguous()

    @staticmethod
    def to_image(prediction: torch.Tensor) -> np.ndarray:
        """(1, 3, S, S) float in [0, 1] -> SxSx3 uint8 RGB."""
        pixels = (prediction[0].clamp(0, 1) * 255).round().to(torch.uint8)
        return pixels.permute(1, 2, 0).cpu().numpy()

    # -- the Animator contract ------------------------------------------------------------
    def set_avatar(self, image: np.ndarray, landmarks: np.ndarray | None = None) -> None:
        """Encode the avatar once. image: HxWx3 uint8 RGB face crop (resized to 256 here);
        FOMM finds its own keypoints, so `landmarks` is not used."""
        self._state = self.engine.encode(self.to_tensor(image, "avatar"))
        self._neutral = None
        if self._kp_initial is not None:
            self._scale = self._adapt_scale()

    def calibrate(self, driving: np.ndarray, landmarks: np.ndarray | None = None) -> None:
        """Take `driving` (HxWx3 uint8 RGB) as the neutral pose for relative motion."""
        self._kp_initial = self.engine.keypoints(self.to_tensor(driving, "calibration frame"))
        self._scale = self._adapt_scale() if self._state is not None else None

    def _adapt_scale(self) -> torch.Tensor:
        scale = 1.0
        if self.motion.adapt_scale:
            scale = adapt_movement_scale(self._state.kp, self._kp_initial)
        return torch.tensor(scale, dtype=torch.float32, device=self.engine.device)

    def predict(self, driving: np.ndarray) -> torch.Tensor:
        """The frame as a tensor: (1, 3, S, S) float32 in [0, 1] on the device.

        The first frame seen without a calibration becomes the calibration, as in the original.
        """
        if self._state is None:
            raise RuntimeError("FommAnimator.set_avatar must be called before animate")
        tensor = self.to_tensor(driving, "driving frame")
        if self._kp_initial is None:
            self._kp_initial = self.engine.keypoints(tensor)
            self._scale = self._adapt_scale()
        return self.engine.step(self._state, tensor, self._kp_initial, self.motion.relative,
                                self._scale)

    def animate(
        self,
        driving: np.ndarray,
        landmarks: np.ndarray | None = None,
        timestamp: float | None = None,
    ) -> np.ndarray:
        """The avatar moved as the face in `driving`; SxSx3 uint8 RGB (S = driving_size).
        FOMM moves each frame on its own: `landmarks` and `timestamp` are not used."""
        return self.to_image(self.predict(driving))

    def neutral(self) -> np.ndarray:
        """The avatar rendered with its own keypoints (no motion); SxSx3 uint8 RGB."""
        if self._state is None:
            raise RuntimeError("FommAnimator.set_avatar must be called before neutral")
        if self._neutral is None:
            out = self.engine.render(self._state, self._state.kp)
            self._neutral = self.to_image(out["prediction"])
        return self._neutral

    @property
    def calibrated(self) -> bool:
        return self._kp_initial is not None

    def close(self) -> None:
        """Drop the cached avatar and the engine's networks; idempotent."""
        self._state = self._kp_initial = self._scale = self._pinned = None
        self.engine = None


def create(checkpoint: str | Path = DEFAULT_CHECKPOINT, config: str | Path = DEFAULT_CONFIG,
           device: str = "auto", fp16: bool = False, motion: MotionOptions | None = None,
           random_weights: bool = False, compile: bool = False,
           threads: int | None = None, fast: bool = True) -> FommAnimator:
    """Build a FommAnimator from a FOMM YAML config and a checkpoint file.

    random_weights=True skips the checkpoint (speed measurements only: the output is noise);
    it says so on stderr and in `description`. Raises CheckpointError for a missing or
    mismatched checkpoint or config. fp16 applies on CUDA only.
    """
    params = load_config(config)
    torch_device = resolve_device(device)
    generator, kp_detector = build_networks(params)
    if random_weights:
        weights = "random weights (benchmark only, output is noise)"
        say(f"FOMM with {weights}")
    else:
        load_into(checkpoint, config, generator, kp_detector)
        weights = str(checkpoint)
    options = EngineOptions(fast=fast, channels_last=fast, compile=compile,
                            fp16=fp16, threads=threads)
    engine = FommEngine(generator, kp_detector, torch_device, options)
    precision = "fp16" if engine.use_fp16 else "fp32"
    description = f"fomm {Path(config).stem}, {weights}, {torch_device} {precision}"
    return FommAnimator(engine, frame_size(params), motion, description, random_weights)
