"""FOMM occlusion-aware generator: encode the source, warp its features, decode the frame."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from live_avatar.animators.fomm.blocks import DownBlock2d, ResBlock2d, SameBlock2d, UpBlock2d, warp
from live_avatar.animators.fomm.dense_motion import DenseMotionNetwork


def _resize_flow(deformation: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """deformation (B, h, w, 2) -> (B, height, width, 2), bilinear, align_corners=False."""
    if deformation.shape[1:3] == (height, width):
        return deformation
    flow = F.interpolate(deformation.permute(0, 3, 1, 2), size=(height, width), mode="bilinear",
                         align_corners=False)
    return flow.permute(0, 2, 3, 1)


class OcclusionAwareGenerator(nn.Module):
    """Source image + keypoints of source and driving -> the source moved as the driving.

    Split in three so the source can be encoded once: `encode` (source only), the dense motion
    network (per frame), `decode` (per frame). `forward` runs all three, as the original does.
    """

    def __init__(self, num_channels: int, num_kp: int, block_expansion: int, max_features: int,
                 num_down_blocks: int, num_bottleneck_blocks: int,
                 estimate_occlusion_map: bool = False, dense_motion_params: dict | None = None,
                 estimate_jacobian: bool = False):
        super().__init__()
        self.dense_motion_network = None
        if dense_motion_params is not None:
            self.dense_motion_network = DenseMotionNetwork(
                num_kp=num_kp, num_channels=num_channels,
                estimate_occlusion_map=estimate_occlusion_map, **dense_motion_params)
        self.first = SameBlock2d(num_channels, block_expansion, kernel_size=7, padding=3)
        width = [min(max_features, block_expansion * (2**i)) for i in range(num_down_blocks + 1)]
        self.down_blocks = nn.ModuleList(
            DownBlock2d(width[i], width[i + 1]) for i in range(num_down_blocks))
        self.up_blocks = nn.ModuleList(
            UpBlock2d(width[num_down_blocks - i], width[num_down_blocks - i - 1])
            for i in range(num_down_blocks))
        self.bottleneck = nn.Sequential()
        for i in range(num_bottleneck_blocks):
            self.bottleneck.add_module(f"r{i}", ResBlock2d(width[num_down_blocks]))
        self.final = nn.Conv2d(block_expansion, num_channels, kernel_size=7, padding=3)

    def encode(self, source: torch.Tensor) -> torch.Tensor:
        """source (B, C, H, W) in [0, 1] -> encoder features (B, F, H/2^n, W/2^n)."""
        out = self.first(source)
        for block in self.down_blocks:
            out = block(out)
        return out

    def decode(self, features: torch.Tensor, motion: dict | None) -> torch.Tensor:
        """Warp encoder features by motion['deformation'], mask by occlusion, decode.

        Returns the prediction (B, C, H, W) in [0, 1].
        """
        out = features
        if motion is not None:
            h, w = out.shape[2:]
            out = warp(out, _resize_flow(motion["deformation"], h, w))
            occlusion = motion.get("occlusion_map")
            if occlusion is not None:
                if occlusion.shape[2:] != out.shape[2:]:
                    occlusion = F.interpolate(occlusion, size=(h, w), mode="bilinear",
                                              align_corners=False)
                out = out * occlusion
        out = self.bottleneck(out)
        for block in self.up_blocks:
            out = block(out)
        return torch.sigmoid(self.final(out))

    def forward(self, source_image: torch.Tensor, kp_driving: dict, kp_source: dict) -> dict:
        """The original one-call generator: everything recomputed from source_image."""
        out: dict = {}
        motion = None
        if self.dense_motion_network is not None:
            motion = self.dense_motion_network(source_image, kp_driving, kp_source)
            out.update({k: motion[k] for k in ("mask", "sparse_deformed", "occlusion_map")
                        if k in motion})
            h, w = source_image.shape[2:]
            out["deformed"] = warp(source_image, _resize_flow(motion["deformation"], h, w))
            out["deformation"] = motion["deformation"]
        out["prediction"] = self.decode(self.encode(source_image), motion)
        return out
