"""The FOMM per-frame engine: the avatar encoded once, then driving keypoints -> frame.

Per frame only the driving keypoints, the dense motion and the decoder run; everything that
depends on the source alone (its keypoints, encoder features, downsampled copy) is cached in
a SourceState. Speed options (all keep the maths; see fast.py) live in EngineOptions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from live_avatar.animators.fomm import fast
from live_avatar.animators.fomm.generator import OcclusionAwareGenerator
from live_avatar.animators.fomm.keypoint_detector import KPDetector
from live_avatar.animators.fomm.motion import normalize_kp
from live_avatar.console import say

CUDA_CPU_THREADS = 1  # torch's CPU threads when the networks run on a GPU


@dataclass
class EngineOptions:
    """How the per-frame step runs; none of these change the maths beyond float rounding."""

    fast: bool = True  # fold batch norms, run upsample+conv as sub-pixel convs
    channels_last: bool = True  # NHWC memory layout for the per-frame networks
    compile: bool = False  # torch.compile the per-frame step; eager fall-back if it fails
    fp16: bool = False  # CUDA only: float16 autocast; keypoints and jacobians stay float32
    cuda_graphs: bool = True  # CUDA only: replay the per-frame step as one captured graph
    threads: int | None = None  # CPU threads for torch; None: the default (CUDA_CPU_THREADS on a GPU)


@dataclass
class SourceState:
    """Everything that depends on the avatar alone, computed once by FommEngine.encode."""

    image: torch.Tensor  # (1, C, H, W) float32 in [0, 1], on the engine's device
    kp: dict  # 'value' (1, K, 2), 'jacobian' (1, K, 2, 2), float32
    features: torch.Tensor  # generator encoder output (1, F, H/4, W/4)
    small: torch.Tensor  # the source at the dense-motion resolution (1, C, H/4, W/4)


class FommEngine:
    """Runs the FOMM networks for one avatar at a time; tensors in, tensors out."""

    def __init__(self, generator: OcclusionAwareGenerator, kp_detector: KPDetector,
                 device: torch.device, options: EngineOptions | None = None):
        self.options = options or EngineOptions()
        self.device = device
        if self.options.threads:
            torch.set_num_threads(self.options.threads)
        elif device.type == "cuda":
            # the CPU only stages frames and launches kernels: with torch's default of one
            # thread per core its copies woke 16 threads that fought the face tracker's, and
            # the live path's animator stage took 8.7 ms instead of 2.7 ms (H100, 16 cores)
            torch.set_num_threads(CUDA_CPU_THREADS)
        # cudnn.benchmark stays off: on an H100 it made no step faster (fp16 2.27 vs 2.04 ms)
        # and its algorithm search took 17 GiB of GPU memory for a moment at start-up

        # the networks as loaded (used by the reference step and to check the fast copies)
        self.generator = generator.to(device).eval()
        self.kp_detector = kp_detector.to(device).eval()
        self.frame_generator, self.frame_kp_detector = self._per_frame_networks()
        self._compiled = None
        self._graph: _CapturedStep | None = None

    @property
    def use_fp16(self) -> bool:
        return self.options.fp16 and self.device.type == "cuda"

    def _per_frame_networks(self) -> tuple[nn.Module, nn.Module]:
        gen, kp = self.generator, self.kp_detector
        if self.options.fast:
            # torch.compile does its own weight packing and cannot trace the prepacked ops
            pack = not self.options.compile
            gen, kp = fast.optimize(gen, pack=pack), fast.optimize(kp, pack=pack)
        if self.options.channels_last:
            gen = gen.to(memory_format=torch.channels_last)
            kp = kp.to(memory_format=torch.channels_last)
        return gen, kp

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.options.channels_last else x

    def keypoints(self, image: torch.Tensor) -> dict:
        """image (B, C, H, W) float32 [0, 1] on the device -> keypoints in float32."""
        with self._no_grad(), _no_autocast(self.device):
            kp = self.frame_kp_detector(self._layout(image))
        return {k: v.float() for k, v in kp.items()}

    def encode(self, image: torch.Tensor) -> SourceState:
        """Encode the avatar once. image: (1, C, H, W) float32 in [0, 1] on the device."""
        self._graph = None  # a captured step holds the previous avatar's tensors
        with self._no_grad():
            kp = self.keypoints(image)
            features = self.frame_generator.encode(self._layout(image))
            small = self.frame_generator.dense_motion_network.downsample(image)
        return SourceState(image=image, kp=kp, features=features, small=small)

    def render(self, state: SourceState, kp_driving: dict) -> dict:
        """Frame for already-normalised driving keypoints: dense motion + decoder only.

        Returns {'prediction': (1, C, H, W) float32 [0, 1], 'mask', 'occlusion_map',
        'deformation'}.
        """
        gen = self.frame_generator
        with self._no_grad(), self._autocast():
            motion = gen.dense_motion_network.forward_small(state.small, kp_driving, state.kp)
            prediction = gen.decode(state.features, motion)
        out = {k: v.float() for k, v in motion.items() if k != "sparse_deformed"}
        out["prediction"] = prediction.float()
        return out

    def step(self, state: SourceState, driving: torch.Tensor, kp_initial: dict,
             relative: bool, scale: torch.Tensor) -> torch.Tensor:
        """One driving frame (1, C, H, W) float32 [0, 1] -> prediction (1, C, H, W) float32.

        kp_initial: keypoints of the calibration frame; scale: 0-d tensor, the adapt scale.
        """
        if self.device.type == "cuda" and self.options.cuda_graphs:
            if self._graph is None or not self._graph.matches(state, kp_initial, relative, scale):
                self._graph = _CapturedStep.capture(self, state, kp_initial, relative, scale)
            if self._graph.ok:
                return self._graph.run(driving)
        fn = self._eager_step
        if self.options.compile:
            fn = self._compiled_step()
        return fn(state, driving, kp_initial, relative, scale)

    def _eager_step(self, state: SourceState, driving: torch.Tensor, kp_initial: dict,
                    relative: bool, scale: torch.Tensor) -> torch.Tensor:
        kp = self.keypoints(driving)
        with self._no_grad():
            kp_norm = normalize_kp(state.kp, kp, kp_initial, relative=relative, scale=scale)
        return self.render(state, kp_norm)["prediction"]

    def _compiled_step(self):
        """torch.compile of the eager step, or the eager step when compiling fails."""
        if self._compiled is None:
            try:
                self._compiled = torch.compile(self._eager_step, dynamic=False)
            except (RuntimeError, ImportError) as exc:  # no compiler, unsupported platform
                say(f"torch.compile unavailable ({exc}); running eager")
                self._compiled = self._eager_step
        return _Fallback(self, self._compiled)

    def _no_grad(self):
        # inference tensors cannot enter torch.compile graphs: plain no_grad when compiling
        return torch.no_grad() if self.options.compile else torch.inference_mode()

    def _autocast(self):
        if self.use_fp16:
            # no weight-cast cache: CUDA graph capture requires it off, and nothing reuses it
            return torch.autocast("cuda", dtype=torch.float16, cache_enabled=False)
        return contextlib.nullcontext()


class _Fallback:
    """Calls the compiled step; on its first failure switches the engine to eager for good."""

    def __init__(self, engine: FommEngine, fn):
        self.engine, self.fn = engine, fn

    def __call__(self, *args):
        try:
            return self.fn(*args)
        except Exception as exc:  # noqa: BLE001 - any compiler failure means: run eager
            say(f"torch.compile failed ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:120] if str(exc) else ''}); running eager")
            self.engine.options.compile = False
            self.engine._compiled = None
            return self.engine._eager_step(*args)


def _no_autocast(device: torch.device):
    return torch.autocast(device.type, enabled=False)


class _CapturedStep:
    """CUDA only: the whole per-frame step captured once as a CUDA graph and replayed.

    Inputs go through one static device buffer; the state, calibration keypoints and scale
    are captured by reference, so a new avatar or calibration captures again.
    """

    def __init__(self):
        self.ok = False
        self.key: tuple = ()
        self.graph = None
        self.static_in: torch.Tensor | None = None
        self.static_out: torch.Tensor | None = None
        self.refs: tuple = ()

    def matches(self, state, kp_initial, relative, scale) -> bool:
        return self.key == (id(state), id(kp_initial), relative, id(scale))

    @classmethod
    def capture(cls, engine: FommEngine, state, kp_initial, relative, scale) -> _CapturedStep:
        step = cls()
        step.key = (id(state), id(kp_initial), relative, id(scale))
        step.refs = (state, kp_initial, scale)  # keeps the ids above from being reused
        size = state.image.shape
        step.static_in = torch.zeros(size, device=engine.device)
        try:
            side = torch.cuda.Stream(engine.device)
            side.wait_stream(torch.cuda.current_stream(engine.device))
            with torch.cuda.stream(side):
                for _ in range(3):  # warm-up: cuDNN picks its algorithms outside the capture
                    engine._eager_step(state, step.static_in, kp_initial, relative, scale)
            torch.cuda.current_stream(engine.device).wait_stream(side)
            step.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(step.graph):
                step.static_out = engine._eager_step(state, step.static_in, kp_initial,
                                                     relative, scale)
            step.ok = True
        except RuntimeError as exc:  # an op that cannot be captured: stay eager
            say(f"CUDA graph capture failed ({str(exc).splitlines()[0][:120]}); running eager")
            engine.options.cuda_graphs = False
        return step

    def run(self, driving: torch.Tensor) -> torch.Tensor:
        self.static_in.copy_(driving, non_blocking=True)
        self.graph.replay()
        return self.static_out.clone()
