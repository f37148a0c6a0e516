"""Small building blocks shared by backbone and decoders (all ONNX-friendly)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn_relu(cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1, dilation: int = 1, relu: bool = True) -> nn.Sequential:
    pad = dilation * (k - 1) // 2
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class DepthwiseSeparable(nn.Sequential):
    """Depthwise kxk + pointwise 1x1, both with BN and ReLU (Panoptic-DeepLab's light decoder conv)."""

    def __init__(self, cin: int, cout: int, k: int = 5, dilation: int = 1):
        super().__init__(conv_bn_relu(cin, cin, k, groups=cin, dilation=dilation), conv_bn_relu(cin, cout, 1))


def upsample_to(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    # align_corners=False keeps the "cell i stands for 4i+1.5" convention when scaling by 2 or 4.
    return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)


def coord_channels(x: torch.Tensor) -> torch.Tensor:
    """Two channels (y, x) in [-1, 1] at cell centres, broadcast over the batch of x."""
    n, _, h, w = x.shape
    ys = (torch.arange(h, dtype=x.dtype, device=x.device) + 0.5) * (2.0 / h) - 1.0
    xs = (torch.arange(w, dtype=x.dtype, device=x.device) + 0.5) * (2.0 / w) - 1.0
    yy = ys.view(1, 1, h, 1).expand(n, 1, h, w)
    xx = xs.view(1, 1, 1, w).expand(n, 1, h, w)
    return torch.cat([yy, xx], dim=1)
