"""Building blocks of the FOMM networks: conv blocks, hourglass, anti-aliased downsample, grids.

Module and attribute names (conv, norm, down_blocks, up_blocks, ...) are the state-dict
contract with the official checkpoints: renaming any of them breaks loading.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def make_coordinate_grid(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """A (height, width, 2) grid of (x, y) in [-1, 1], corners on the first/last pixel centres.

    like: any tensor; the grid takes its dtype and device.
    """
    x = torch.arange(width, dtype=like.dtype, device=like.device)
    y = torch.arange(height, dtype=like.dtype, device=like.device)
    x = 2 * (x / (width - 1)) - 1
    y = 2 * (y / (height - 1)) - 1
    xx = x.view(1, -1).expand(height, width)
    yy = y.view(-1, 1).expand(height, width)
    return torch.stack([xx, yy], dim=2)


def kp2gaussian(value: torch.Tensor, height: int, width: int, variance: float) -> torch.Tensor:
    """Gaussian blobs at keypoints. value: (B, K, 2) in [-1, 1] -> (B, K, height, width)."""
    grid = make_coordinate_grid(height, width, value)
    diff = grid.view(1, 1, height, width, 2) - value.view(*value.shape[:2], 1, 1, 2)
    return torch.exp(-0.5 * (diff**2).sum(-1) / variance)


def warp(image: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Bilinear sampling of image (B, C, H, W) at grid (B, h, w, 2), zeros outside.

    align_corners=True on purpose: the official checkpoints were trained with torch 1.0, whose
    grid_sample always behaved so; align_corners=False moves the prediction by ~0.6.
    """
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


class AntiAliasInterpolation2d(nn.Module):
    """Gaussian blur then keep every (1/scale)-th pixel; the kernel is the `weight` buffer."""

    def __init__(self, channels: int, scale: float):
        super().__init__()
        sigma = (1 / scale - 1) / 2
        size = 2 * round(sigma * 4) + 1
        self.pad = size // 2  # odd size: the same zero padding on every side
        coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
        line = torch.exp(-(coords**2) / (2 * sigma**2))
        kernel = line.view(-1, 1) * line.view(1, -1)
        kernel = kernel / kernel.sum()
        self.register_buffer("weight", kernel.view(1, 1, size, size).repeat(channels, 1, 1, 1))
        self.groups = channels
        self.step = int(1 / scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.pad(x, (self.pad, self.pad, self.pad, self.pad))
        out = F.conv2d(out, self.weight, groups=self.groups)
        return out[:, :, :: self.step, :: self.step]


class SameBlock2d(nn.Module):
    """conv -> batch norm -> relu at the same resolution."""

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, padding: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_features, out_features, kernel_size, padding=padding)
        self.norm = nn.BatchNorm2d(out_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


class DownBlock2d(nn.Module):
    """conv -> batch norm -> relu -> 2x2 average pool."""

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, padding: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_features, out_features, kernel_size, padding=padding)
        self.norm = nn.BatchNorm2d(out_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(F.relu(self.norm(self.conv(x))), 2)


class UpBlock2d(nn.Module):
    """2x nearest upsample -> conv -> batch norm -> relu."""

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, padding: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_features, out_features, kernel_size, padding=padding)
        self.norm = nn.BatchNorm2d(out_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.interpolate(x, scale_factor=2, mode="nearest")
        return F.relu(self.norm(self.conv(out)))


class ResBlock2d(nn.Module):
    """Pre-activation residual block: x + conv2(relu(norm2(conv1(relu(norm1(x))))))."""

    def __init__(self, features: int, kernel_size: int = 3, padding: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, kernel_size, padding=padding)
        self.conv2 = nn.Conv2d(features, features, kernel_size, padding=padding)
        self.norm1 = nn.BatchNorm2d(features, affine=True)
        self.norm2 = nn.BatchNorm2d(features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.norm1(x)))
        out = self.conv2(F.relu(self.norm2(out)))
        return out + x


def _width(block_expansion: int, max_features: int, level: int) -> int:
    return min(max_features, block_expansion * (2**level))


class Encoder(nn.Module):
    """Hourglass encoder: returns [x, down1(x), down2(down1(x)), ...]."""

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        blocks = []
        for i in range(num_blocks):
            cin = in_features if i == 0 else _width(block_expansion, max_features, i)
            blocks.append(DownBlock2d(cin, _width(block_expansion, max_features, i + 1)))
        self.down_blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = [x]
        for block in self.down_blocks:
            outs.append(block(outs[-1]))
        return outs


class Decoder(nn.Module):
    """Hourglass decoder: upsample, then concatenate [upsampled, skip] (in that order)."""

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        blocks = []
        for i in reversed(range(num_blocks)):
            factor = 1 if i == num_blocks - 1 else 2
            cin = factor * _width(block_expansion, max_features, i + 1)
            blocks.append(UpBlock2d(cin, _width(block_expansion, max_features, i)))
        self.up_blocks = nn.ModuleList(blocks)
        self.out_filters = block_expansion + in_features

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        skips = list(features)
        out = skips.pop()
        for block in self.up_blocks:
            out = torch.cat([block(out), skips.pop()], dim=1)
        return out


class Hourglass(nn.Module):
    """U-net: Encoder then Decoder; output has `out_filters` channels at the input size."""

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int = 3,
                 max_features: int = 256):
        super().__init__()
        self.encoder = Encoder(block_expansion, in_features, num_blocks, max_features)
        self.decoder = Decoder(block_expansion, in_features, num_blocks, max_features)
        self.out_filters = self.decoder.out_filters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
