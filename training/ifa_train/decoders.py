"""DeepLabV3+-style decoders (semantic, instance) and the inter-frame decoder."""

from __future__ import annotations

import torch
from torch import nn

from .layers import DepthwiseSeparable, conv_bn_relu, coord_channels, upsample_to


class LightASPP(nn.Module):
    """1x1 branch, two dilated depthwise-separable branches and image pooling, projected to cout."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        mid = cout // 2
        self.b0 = conv_bn_relu(cin, mid, 1)
        self.b1 = nn.Sequential(conv_bn_relu(cin, mid, 1), DepthwiseSeparable(mid, mid, 3, dilation=2))
        self.b2 = nn.Sequential(conv_bn_relu(cin, mid, 1), DepthwiseSeparable(mid, mid, 3, dilation=3))
        self.pool = nn.Sequential(nn.Conv2d(cin, mid, 1), nn.ReLU(inplace=True))
        self.proj = conv_bn_relu(4 * mid, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.pool(x.mean(dim=(2, 3), keepdim=True)).expand(-1, -1, x.shape[2], x.shape[3])
        return self.proj(torch.cat([self.b0(x), self.b1(x), self.b2(x), g], 1))


class FuseUp(nn.Module):
    """Upsample x to the skip's size, concat a 1x1 projection of the skip, dw-separable 5x5."""

    def __init__(self, cin: int, cskip: int, cproj: int, cout: int):
        super().__init__()
        self.proj = conv_bn_relu(cskip, cproj, 1)
        self.conv = DepthwiseSeparable(cin + cproj, cout, 5)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([upsample_to(x, skip), self.proj(skip)], 1))


class Decoder(nn.Module):
    """ASPP on stride 32, then fuse the stride-16, 8 and 4 skips; output at stride 4."""

    def __init__(self, chans: list[int], aspp_ch: int, dec_ch: tuple[int, int, int]):
        super().__init__()
        c4, c8, c16, c32 = chans
        self.aspp = LightASPP(c32, aspp_ch)
        self.up16 = FuseUp(aspp_ch, c16, 32, dec_ch[0])
        self.up8 = FuseUp(dec_ch[0], c8, 32, dec_ch[1])
        self.up4 = FuseUp(dec_ch[1], c4, 16, dec_ch[2])

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        f4, f8, f16, f32 = feats
        x = self.aspp(f32)
        x = self.up16(x, f16)
        x = self.up8(x, f8)
        return self.up4(x, f4)


class Head(nn.Sequential):
    def __init__(self, cin: int, mid: int, cout: int):
        super().__init__(DepthwiseSeparable(cin, mid, 5), nn.Conv2d(mid, cout, 1))


class InterDecoder(nn.Module):
    """Fused s32 + fused s16 + the target's s8 skip -> 2-channel map at stride 4.

    At stride 4 it also sees `hint` (the frame's own offset prediction, gradient stopped) and the
    cell coordinates: the attended reference position minus (own position + own offset) is the
    instance's displacement, a linear function of these inputs.
    """

    def __init__(self, c32: int, c16: int, c8: int, dec_ch: tuple[int, int, int], head_ch: int):
        super().__init__()
        self.up16 = FuseUp(c32, c16, c16, dec_ch[0])
        self.up8 = FuseUp(dec_ch[0], c8, 32, dec_ch[1])
        self.conv4 = DepthwiseSeparable(dec_ch[1] + 4, dec_ch[2], 5)
        self.head = Head(dec_ch[2], head_ch, 2)

    def forward(self, fused32: torch.Tensor, fused16: torch.Tensor, f8: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        x = self.up16(fused32, fused16)
        x = self.up8(x, f8)
        x = upsample_to(x, hint)
        return self.head(self.conv4(torch.cat([x, hint, coord_channels(hint)], 1)))
