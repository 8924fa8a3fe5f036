"""FOMM dense motion network: keypoints of source and driving -> dense flow and occlusion."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from live_avatar.animators.fomm.blocks import (
    AntiAliasInterpolation2d,
    Hourglass,
    kp2gaussian,
    make_coordinate_grid,
    warp,
)
from live_avatar.animators.fomm.motion import inverse_2x2


def sparse_motions(kp_driving: dict, kp_source: dict, height: int, width: int) -> torch.Tensor:
    """Per-keypoint backward flows, (B, K+1, H, W, 2); slot 0 is the identity (background).

    Slot k maps driving coordinates z to J_src @ inv(J_drv) @ (z - kp_drv) + kp_src.
    """
    value = kp_driving["value"]
    b, k = value.shape[:2]
    identity = make_coordinate_grid(height, width, value).view(1, 1, height, width, 2)
    grid = identity - value.view(b, k, 1, 1, 2)
    if "jacobian" in kp_driving:
        jacobian = torch.matmul(kp_source["jacobian"], inverse_2x2(kp_driving["jacobian"]))
        grid = torch.einsum("bkij,bkhwj->bkhwi", jacobian, grid)
    driving_to_source = grid + kp_source["value"].view(b, k, 1, 1, 2)
    return torch.cat([identity.expand(b, 1, height, width, 2), driving_to_source], dim=1)


class DenseMotionNetwork(nn.Module):
    """Hourglass over [heatmap, warped source] per slot -> mask, flow, occlusion map."""

    def __init__(self, block_expansion: int, num_blocks: int, max_features: int, num_kp: int,
                 num_channels: int, estimate_occlusion_map: bool = False,
                 scale_factor: float = 1, kp_variance: float = 0.01):
        super().__init__()
        in_features = (num_kp + 1) * (num_channels + 1)
        self.hourglass = Hourglass(block_expansion, in_features, num_blocks, max_features)
        self.mask = nn.Conv2d(self.hourglass.out_filters, num_kp + 1, kernel_size=7, padding=3)
        self.occlusion = None
        if estimate_occlusion_map:
            self.occlusion = nn.Conv2d(self.hourglass.out_filters, 1, kernel_size=7, padding=3)
        self.num_kp = num_kp
        self.scale_factor = scale_factor
        self.kp_variance = kp_variance
        if scale_factor != 1:
            self.down = AntiAliasInterpolation2d(num_channels, scale_factor)

    def downsample(self, source: torch.Tensor) -> torch.Tensor:
        """The source at the motion resolution; (B, C, H, W) -> (B, C, H*s, W*s)."""
        return self.down(source) if self.scale_factor != 1 else source

    def heatmaps(self, kp_driving: dict, kp_source: dict, height: int, width: int) -> torch.Tensor:
        """Driving minus source gaussians with a zero background slot first: (B, K+1, 1, H, W)."""
        drv = kp2gaussian(kp_driving["value"], height, width, self.kp_variance)
        src = kp2gaussian(kp_source["value"], height, width, self.kp_variance)
        heat = drv - src
        zeros = torch.zeros_like(heat[:, :1])
        return torch.cat([zeros, heat], dim=1).unsqueeze(2)

    def forward(self, source_image: torch.Tensor, kp_driving: dict, kp_source: dict) -> dict:
        """source_image: (B, C, H, W) full size; returns mask, deformation, occlusion_map, ..."""
        return self.forward_small(self.downsample(source_image), kp_driving, kp_source)

    def forward_small(self, source: torch.Tensor, kp_driving: dict, kp_source: dict) -> dict:
        """As forward, with the source already at the motion resolution (cached per avatar)."""
        b, c, h, w = source.shape
        # keypoint geometry in float32 even under fp16 autocast (jacobian inverses are touchy)
        with torch.autocast(source.device.type, enabled=False):
            kp_driving = {k: v.float() for k, v in kp_driving.items()}
            kp_source = {k: v.float() for k, v in kp_source.items()}
            heat = self.heatmaps(kp_driving, kp_source, h, w)
            motions = sparse_motions(kp_driving, kp_source, h, w)
        slots = motions.shape[1]
        repeated = source.unsqueeze(1).expand(b, slots, c, h, w).reshape(b * slots, c, h, w)
        deformed = warp(repeated, motions.reshape(b * slots, h, w, 2)).view(b, slots, c, h, w)
        features = self.hourglass(torch.cat([heat, deformed], dim=2).view(b, -1, h, w))
        mask = F.softmax(self.mask(features), dim=1)
        deformation = (motions * mask.unsqueeze(-1)).sum(dim=1)
        out = {"sparse_deformed": deformed, "mask": mask, "deformation": deformation}
        if self.occlusion is not None:
            out["occlusion_map"] = torch.sigmoid(self.occlusion(features))
        return out
