"""Temporal context fusion (TCF): cross-frame attention from a target feature to one reference.

Both modules map (target [N,C,h,w], reference [N,C,h,w]) -> fused [N,Cout,h,w]; N pairs each
hold one target/reference pair, so L references of one frame run as a batch of L.
Coordinate channels go into keys, values and the merge, so the attended value carries *where*
in the reference the match lies and the merge can turn that into a displacement.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import conv_bn_relu, coord_channels


class CrossFrameAttention(nn.Module):
    """Queries from the target, keys/values from the reference, softmax over reference positions.

    Our choice beyond docs/method.md: queries and keys share one 1x1 projection and the affinity is a
    cosine with a learnable temperature (start 16), i.e. q.k/sqrt(d) on vectors normalised to
    length sqrt(d), times a gain. Identical appearance then already attends strongly at
    initialisation; with separate random projections and plain 1/sqrt(d) scaling the softmax
    stayed nearly uniform over the reference and the flow did not train within our CPU budget.
    """

    def __init__(self, cin: int, cout: int, dim: int, temperature: float = 16.0, local: bool = False):
        super().__init__()
        self.qk = nn.Conv2d(cin + 2, dim, 1)
        self.v = nn.Conv2d(cin + 2, dim, 1)
        self.log_temp = nn.Parameter(torch.tensor(math.log(temperature)))
        self.local = local
        self.merge = conv_bn_relu(cin * (2 if local else 1) + dim + 2, cout, 1)

    def forward(self, tgt: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return self.attend(tgt, ref)[0]

    def attend(self, tgt: torch.Tensor, ref: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(fused [N,Cout,h,w], attention [N, hw target, hw reference]); training supervises the latter."""
        n, _, h, w = tgt.shape
        pos = coord_channels(tgt)
        q = F.normalize(self.qk(torch.cat([tgt, pos], 1)).flatten(2), dim=1).transpose(1, 2)  # [N, hw, d]
        k = F.normalize(self.qk(torch.cat([ref, pos], 1)).flatten(2), dim=1)  # [N, d, hw]
        v = self.v(torch.cat([ref, pos], 1)).flatten(2).transpose(1, 2)  # [N, hw, d]
        attn = torch.softmax(torch.matmul(q, k) * self.log_temp.exp(), dim=-1)  # over reference positions
        out = torch.matmul(attn, v).transpose(1, 2).reshape(n, -1, h, w)
        parts = [tgt, out, ref, pos] if self.local else [tgt, out, pos]
        return self.merge(torch.cat(parts, 1)), attn


class ConcatFusion(nn.Module):
    """Ablation without attention: target and reference features concatenated, 1x1 conv."""

    def __init__(self, cin: int, cout: int, dim: int):
        super().__init__()
        self.merge = conv_bn_relu(2 * cin + 2, cout, 1)

    def forward(self, tgt: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return self.merge(torch.cat([tgt, ref, coord_channels(tgt)], 1))

    def attend(self, tgt: torch.Tensor, ref: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.forward(tgt, ref), None


def build_fusion(temporal: bool, cin: int, cout: int, dim: int, local: bool = False) -> nn.Module:
    return CrossFrameAttention(cin, cout, dim, local=local) if temporal else ConcatFusion(cin, cout, dim)
