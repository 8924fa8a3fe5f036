"""Inference-only rewrites of the FOMM networks: same maths, fewer operations per frame.

- batch norm folded into the convolution before it (eval mode statistics are constants);
- "2x nearest upsample then 3x3 conv" rewritten as four 2x2 convs on the small input, one per
  output phase, interleaved with pixel_shuffle: 16 multiply-adds per output instead of 36.
The networks given are not modified; `optimize` returns a rewritten deep copy.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from live_avatar.animators.fomm.blocks import DownBlock2d, ResBlock2d, SameBlock2d, UpBlock2d


def fold_conv_bn(conv: nn.Conv2d, norm: nn.BatchNorm2d) -> nn.Conv2d:
    """A conv equal to norm(conv(x)) with the batch norm's running statistics."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    fused = copy.deepcopy(conv)
    fused.weight.data = conv.weight.data * scale.view(-1, 1, 1, 1)
    bias = conv.bias.data if conv.bias is not None else torch.zeros_like(norm.running_mean)
    fused.bias = nn.Parameter((bias - norm.running_mean) * scale + norm.bias)
    return fused


def subpixel_weights(weight: torch.Tensor) -> torch.Tensor:
    """3x3 conv weights (O, I, 3, 3) applied after 2x nearest upsampling -> (4*O, I, 2, 2).

    Output phase (a, b) at (2i+a, 2j+b) reads input rows {i-1, i} for a=0 (taps w0 | w1+w2)
    and rows {i, i+1} for a=1 (taps w0+w1 | w2); likewise for columns. The result is ordered
    for pixel_shuffle: channel o*4 + a*2 + b.
    """
    rows = [
        torch.stack([weight[:, :, 0], weight[:, :, 1] + weight[:, :, 2]], dim=2),
        torch.stack([weight[:, :, 0] + weight[:, :, 1], weight[:, :, 2]], dim=2),
    ]  # each (O, I, 2, 3): row taps combined, columns still 3
    phases = []
    for a in range(2):
        w = rows[a]
        cols = [
            torch.stack([w[..., 0], w[..., 1] + w[..., 2]], dim=-1),
            torch.stack([w[..., 0] + w[..., 1], w[..., 2]], dim=-1),
        ]
        phases.extend(cols)  # (a, 0), (a, 1)
    return torch.stack(phases, dim=1).flatten(0, 1)  # (O*4, I, 2, 2), index o*4 + a*2 + b


class SubpixelUpBlock(nn.Module):
    """UpBlock2d (nearest x2 -> conv3x3 -> BN -> relu) computed at the input resolution.

    Only pays off on large inputs: the sub-pixel weights are 16/9 the size of the original,
    and at a few pixels a convolution costs its weight reads. Below `min_pixels` input
    positions the folded plain conv runs instead.
    """

    def __init__(self, block: UpBlock2d, min_pixels: int = 32 * 32):
        super().__init__()
        self.conv = fold_conv_bn(block.conv, block.norm)
        self.out_features = self.conv.out_channels
        self.min_pixels = min_pixels
        self.weight = nn.Parameter(subpixel_weights(self.conv.weight.data), requires_grad=False)
        self.bias = nn.Parameter(self.conv.bias.data.repeat_interleave(4), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2:]
        if h * w < self.min_pixels:
            return F.relu(self.conv(F.interpolate(x, scale_factor=2, mode="nearest")))
        # one 2x2 conv for all phases over the padded input: (h+1, w+1) positions; phase
        # (a, b) is the window starting at (a, b) of its own channels
        full = F.conv2d(F.pad(x, (1, 1, 1, 1)), self.weight, self.bias)
        full = full.view(x.shape[0], self.out_features, 4, h + 1, w + 1)
        phases = [full[:, :, p, a:a + h, b:b + w]
                  for p, (a, b) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1)))]
        out = torch.stack(phases, dim=2).flatten(1, 2)  # channel o*4 + phase
        return F.relu(F.pixel_shuffle(out, 2))


def _fold_block(block: nn.Module) -> None:
    """Fold conv -> norm pairs inside one block in place (norm becomes Identity)."""
    if isinstance(block, (SameBlock2d, DownBlock2d)):
        block.conv = fold_conv_bn(block.conv, block.norm)
        block.norm = nn.Identity()
    elif isinstance(block, ResBlock2d):
        # norm2 follows conv1; norm1 acts on the residual input and must stay
        block.conv1 = fold_conv_bn(block.conv1, block.norm2)
        block.norm2 = nn.Identity()


def optimize(network: nn.Module, subpixel: bool = True) -> nn.Module:
    """A deep copy of `network` (eval mode) with batch norms folded and up blocks rewritten."""
    net = copy.deepcopy(network).eval()
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, UpBlock2d):
                if subpixel:
                    setattr(parent, name, SubpixelUpBlock(child))
                else:
                    child.conv = fold_conv_bn(child.conv, child.norm)
                    child.norm = nn.Identity()
            else:
                _fold_block(child)
    for p in net.parameters():
        p.requires_grad_(False)
    return net
