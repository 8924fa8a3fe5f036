"""Inference-only rewrites of the FOMM networks: same maths, fewer operations per frame.

- batch norm folded into the convolution before it (eval-mode statistics are constants);
- relu and the residual add fused into the convolution (one pass over memory, not three);
- "2x nearest upsample then 3x3 conv" computed at the small resolution as one 2x2 conv per
  output phase (16 multiply-adds per output instead of 36), on large inputs;
- on CPU, weights re-laid once for oneDNN (prepacked per input shape) instead of per call,
  which matters most for the big-weight, few-pixel convs of the hourglasses.
`optimize` returns a rewritten deep copy; the networks given are not modified.
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


def _onednn_available() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn,
                                                           "_convolution_pointwise")


class FusedConv(nn.Module):
    """conv(x) [+ residual] [-> relu], with oneDNN prepacked weights on CPU when available."""

    def __init__(self, conv: nn.Conv2d, relu: bool = False, weight: torch.Tensor | None = None,
                 bias: torch.Tensor | None = None, padding: tuple[int, int] | None = None):
        super().__init__()
        weight = conv.weight.data if weight is None else weight
        bias = conv.bias.data if bias is None else bias
        self.weight = nn.Parameter(weight.clone(), requires_grad=False)
        self.bias = nn.Parameter(bias.clone(), requires_grad=False)
        self.padding = list(padding or conv.padding)
        self.stride, self.dilation = list(conv.stride), list(conv.dilation)
        self.groups = conv.groups
        self.relu = relu
        self.pack = _onednn_available()  # set False for good after a failed pack
        self._packed: dict[tuple, torch.Tensor] = {}  # input shape -> prepacked weight

    def _packed_weight(self, x: torch.Tensor) -> torch.Tensor | None:
        if not (self.pack and x.device.type == "cpu" and x.dtype == torch.float32
                and x.requires_grad is False and not torch.is_grad_enabled()):
            return None
        key = tuple(x.shape)
        if key not in self._packed:
            try:
                weight = self.weight.contiguous(memory_format=torch.channels_last)
                self._packed[key] = torch.ops.mkldnn._reorder_convolution_weight(
                    weight, self.padding, self.stride, self.dilation, self.groups, list(key))
            except (RuntimeError, AttributeError):  # no oneDNN kernel for this case
                self.pack = False
                return None
        return self._packed[key]

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        packed = self._packed_weight(x)
        unary = "relu" if self.relu else "none"
        args = (self.padding, self.stride, self.dilation, self.groups)
        if packed is not None and residual is None:
            return torch.ops.mkldnn._convolution_pointwise(x, packed, self.bias, *args, unary,
                                                           [None], "")
        if packed is not None and residual.shape[1:] == (self.weight.shape[0], *x.shape[2:]):
            return torch.ops.mkldnn._convolution_pointwise(
                x, residual.contiguous(memory_format=_layout(x)), packed, self.bias, *args,
                "add", 1.0, "relu" if self.relu else None, [None], "")
        out = F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                       self.groups)
        if residual is not None:
            out = out + residual
        return F.relu(out) if self.relu else out


def _layout(x: torch.Tensor) -> torch.memory_format:
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format


class FastConvBlock(nn.Module):
    """SameBlock2d / DownBlock2d: conv+BN+relu fused, then the 2x2 average pool if down."""

    def __init__(self, block: SameBlock2d | DownBlock2d):
        super().__init__()
        self.conv = FusedConv(fold_conv_bn(block.conv, block.norm), relu=True)
        self.pool = isinstance(block, DownBlock2d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return F.avg_pool2d(out, 2) if self.pool else out


class FastResBlock(nn.Module):
    """ResBlock2d: norm1 stays (it acts on the residual input); norm2 folded into conv1."""

    def __init__(self, block: ResBlock2d):
        super().__init__()
        self.norm1 = block.norm1
        self.conv1 = FusedConv(fold_conv_bn(block.conv1, block.norm2), relu=True)
        self.conv2 = FusedConv(block.conv2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(F.relu(self.norm1(x))), residual=x)


def subpixel_weights(weight: torch.Tensor) -> torch.Tensor:
    """3x3 conv weights (O, I, 3, 3) applied after 2x nearest upsampling -> (4*O, I, 2, 2).

    Output phase (a, b) at (2i+a, 2j+b) reads input rows {i-1, i} for a=0 (taps w0 | w1+w2)
    and rows {i, i+1} for a=1 (taps w0+w1 | w2); likewise for columns. Phases are stacked
    phase-major: channel p*O + o with p = 2a + b.
    """
    taps = [
        (weight[:, :, 0], weight[:, :, 1] + weight[:, :, 2]),  # a = 0: rows i-1, i
        (weight[:, :, 0] + weight[:, :, 1], weight[:, :, 2]),  # a = 1: rows i, i+1
    ]
    phases = []
    for a in range(2):
        rows = torch.stack(taps[a], dim=2)  # (O, I, 2, 3)
        phases.append(torch.stack([rows[..., 0], rows[..., 1] + rows[..., 2]], dim=-1))
        phases.append(torch.stack([rows[..., 0] + rows[..., 1], rows[..., 2]], dim=-1))
    return torch.cat(phases, dim=0)  # (4*O, I, 2, 2)


class SubpixelUpBlock(nn.Module):
    """UpBlock2d (nearest x2 -> conv3x3 -> BN -> relu) computed at the input resolution.

    Only pays off on large inputs: the sub-pixel weights are 16/9 the size of the original,
    and at a few pixels a convolution costs its weight reads. Below `min_pixels` input
    positions the folded plain conv runs on the upsampled input instead.
    """

    def __init__(self, block: UpBlock2d, min_pixels: int = 32 * 32):
        super().__init__()
        conv = fold_conv_bn(block.conv, block.norm)
        self.out_features = conv.out_channels
        self.min_pixels = min_pixels
        self.conv = FusedConv(conv, relu=True)
        # all four phases in one 2x2 conv with zero padding 1: (h+1, w+1) positions
        self.phases = FusedConv(conv, relu=True, weight=subpixel_weights(conv.weight.data),
                                bias=conv.bias.data.repeat(4), padding=(1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        if h * w < self.min_pixels:
            return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))
        full = self.phases(x)
        out = torch.empty((b, self.out_features, 2 * h, 2 * w), dtype=full.dtype,
                          device=full.device, memory_format=_layout(x))
        o = self.out_features
        # phase (a, c) is the window starting at (a, c) of its block of channels
        for p, (a, c) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            out[:, :, a::2, c::2] = full[:, p * o:(p + 1) * o, a:a + h, c:c + w]
        return out


def _rewrite(module: nn.Module) -> nn.Module | None:
    """The fast replacement of one module, or None to keep it (and look inside it)."""
    if isinstance(module, (SameBlock2d, DownBlock2d)):
        return FastConvBlock(module)
    if isinstance(module, ResBlock2d):
        return FastResBlock(module)
    if isinstance(module, UpBlock2d):
        return SubpixelUpBlock(module)
    if isinstance(module, nn.Conv2d):  # heads: keypoints, jacobians, mask, occlusion, final
        return FusedConv(module)
    return None


def optimize(network: nn.Module, pack: bool = True) -> nn.Module:
    """A deep copy of `network` in eval mode with every block replaced by its fast form.

    pack=False keeps plain F.conv2d calls (no oneDNN prepacking), e.g. for torch.compile.
    """
    net = copy.deepcopy(network).eval()

    def visit(parent: nn.Module) -> None:
        for name, child in list(parent.named_children()):
            fast = _rewrite(child)
            if fast is None:
                visit(child)
            else:
                setattr(parent, name, fast)

    visit(net)
    for module in net.modules():
        if isinstance(module, FusedConv):
            module.pack = module.pack and pack
    for p in net.parameters():
        p.requires_grad_(False)
    return net
