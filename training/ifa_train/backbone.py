"""Backbones that return features at strides 4, 8, 16, 32.

`mobilenet`: MobileNetV2-style inverted residuals (CPU default, about 0.4M parameters).
`resnet50`: a plain ResNet-50 (bottleneck 3-4-6-3) defined here, for GPU-scale training.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import conv_bn_relu


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            conv_bn_relu(cin, hidden, 1),
            conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
            conv_bn_relu(hidden, cout, 1, relu=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.use_res else y


def _ch(c: int, width: float) -> int:
    return max(8, int(round(c * width / 8.0)) * 8)


class _StagedBackbone(nn.Module):
    """A stem, then stages whose outputs are the features at strides 4, 8, 16, 32."""

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for st in self.stages:
            x = st(x)
            feats.append(x)
        return feats


class MobileNetBackbone(_StagedBackbone):
    # (channels, blocks, stride) per stage after the stride-2 stem; the stage outputs are
    # the features at strides 4, 8, 16, 32.
    STAGES = [(24, 2, 2), (40, 3, 2), (80, 3, 2), (160, 2, 2)]

    def __init__(self, width: float = 1.0, expand: int = 4):
        super().__init__()
        stem = _ch(16, width)
        self.stem = nn.Sequential(conv_bn_relu(3, stem, 3, 2), InvertedResidual(stem, stem, 1, 1))
        stages = []
        cin = stem
        self.channels: list[int] = []
        for c, n, s in self.STAGES:
            cout = _ch(c, width)
            blocks = [InvertedResidual(cin, cout, s, expand)]
            blocks += [InvertedResidual(cout, cout, 1, expand) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            self.channels.append(cout)
            cin = cout
        self.stages = nn.ModuleList(stages)



class Bottleneck(nn.Module):
    def __init__(self, cin: int, mid: int, stride: int):
        super().__init__()
        cout = mid * 4
        self.body = nn.Sequential(
            conv_bn_relu(cin, mid, 1),
            conv_bn_relu(mid, mid, 3, stride),
            conv_bn_relu(mid, cout, 1, relu=False),
        )
        self.short = None if (stride == 1 and cin == cout) else conv_bn_relu(cin, cout, 1, stride, relu=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x if self.short is None else self.short(x)
        return self.relu(self.body(x) + s)


class ResNet50Backbone(_StagedBackbone):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(conv_bn_relu(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1))
        cfg = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]
        cin = 64
        stages = []
        self.channels = []
        for mid, n, s in cfg:
            blocks = [Bottleneck(cin, mid, s)] + [Bottleneck(mid * 4, mid, 1) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = mid * 4
            self.channels.append(cin)
        self.stages = nn.ModuleList(stages)



def build_backbone(name: str, width: float) -> nn.Module:
    if name == "mobilenet":
        return MobileNetBackbone(width)
    if name == "resnet50":
        return ResNet50Backbone()
    raise ValueError(f"unknown backbone {name!r} (expected 'mobilenet' or 'resnet50')")
