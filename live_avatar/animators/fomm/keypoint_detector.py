"""FOMM keypoint detector: image -> K keypoints in [-1, 1] and their 2x2 local jacobians."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from live_avatar.animators.fomm.blocks import (
    AntiAliasInterpolation2d,
    Hourglass,
    make_coordinate_grid,
)


class KPDetector(nn.Module):
    """Hourglass -> 7x7 heads (no padding) -> softmax heatmaps -> keypoints and jacobians."""

    def __init__(self, block_expansion: int, num_kp: int, num_channels: int, max_features: int,
                 num_blocks: int, temperature: float, estimate_jacobian: bool = False,
                 scale_factor: float = 1, single_jacobian_map: bool = False, pad: int = 0):
        super().__init__()
        self.predictor = Hourglass(block_expansion, num_channels, num_blocks, max_features)
        self.kp = nn.Conv2d(self.predictor.out_filters, num_kp, kernel_size=7, padding=pad)
        self.num_jacobian_maps = 0
        if estimate_jacobian:
            self.num_jacobian_maps = 1 if single_jacobian_map else num_kp
            self.jacobian = nn.Conv2d(self.predictor.out_filters, 4 * self.num_jacobian_maps,
                                      kernel_size=7, padding=pad)
            # start from identity jacobians, as the original does before training
            self.jacobian.weight.data.zero_()
            self.jacobian.bias.data.copy_(torch.tensor([1.0, 0, 0, 1] * self.num_jacobian_maps))
        else:
            self.jacobian = None
        self.temperature = temperature
        self.scale_factor = scale_factor
        if scale_factor != 1:
            self.down = AntiAliasInterpolation2d(num_channels, scale_factor)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """image: (B, C, H, W) float in [0, 1] -> {'value': (B, K, 2), 'jacobian': (B, K, 2, 2)}."""
        if self.scale_factor != 1:
            image = self.down(image)
        features = self.predictor(image)
        logits = self.kp(features)
        b, k, h, w = logits.shape
        heatmap = F.softmax(logits.view(b, k, -1) / self.temperature, dim=2).view(b, k, h, w)
        grid = make_coordinate_grid(h, w, heatmap)
        out = {"value": (heatmap.unsqueeze(-1) * grid).sum(dim=(2, 3))}
        if self.jacobian is not None:
            maps = self.jacobian(features).reshape(b, self.num_jacobian_maps, 4, h, w)
            jacobian = (heatmap.unsqueeze(2) * maps).view(b, k, 4, -1).sum(dim=-1)
            out["jacobian"] = jacobian.view(b, k, 2, 2)
        return out
