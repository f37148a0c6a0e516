"""Test-time flip averaging as a graph that still follows docs/model-contract.md.

`FlipAveraged` runs the frame and its mirror image (left-right) through the network as one batch
of two and averages the two readings of every head map, the mirror's flipped back. The memory
keeps both orientations side by side along the channel axis (C16 and C32 double), so that the
mirrored pass is matched against mirrored references, as training's flipped pairs were; the
runtime reads the channel counts from the graph and needs no change.

Why a mirror and not other transforms: training flips whole pairs left-right half of the time
(the padding included), so the mirrored frame is in the training distribution, and averaging
the two readings removes the network's left-right asymmetries (its stride-32 cells sit nearer
the left edge than the right, docs/results.md).
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import upsample_to
from .model import IFANet


def _unmirror(x: torch.Tensor) -> torch.Tensor:
    return torch.flip(x, dims=[-1])


def _unmirror_offset(x: torch.Tensor) -> torch.Tensor:
    """A (dy, dx) map of the mirror image as a map of the frame: columns reversed, dx negated."""
    x = torch.flip(x, dims=[-1])
    return torch.cat([x[:, :1], -x[:, 1:2]], dim=1)


class FlipAveraged(nn.Module):
    def __init__(self, net: IFANet):
        super().__init__()
        self.net = net
        self.c16, self.c32 = 2 * net.c16, 2 * net.c32

    def forward(self, image: torch.Tensor, ref_feat16: torch.Tensor, ref_feat32: torch.Tensor):
        n = self.net
        both = torch.cat([image, torch.flip(image, dims=[-1])])
        (f4, f8, f16, f32), f2 = n._features(both)
        semantic, center, offset = n._frame_heads([f4, f8, f16, f32], f2)
        n_ref = ref_feat16.shape[0]
        c16, c32 = n.c16, n.c32
        # Batch of 2L: the L references in the frame's orientation, then the same L mirrored.
        r16 = torch.cat([ref_feat16[:, :c16], ref_feat16[:, c16:]])
        r32 = torch.cat([ref_feat32[:, :c32], ref_feat32[:, c32:]])

        def per_ref(x: torch.Tensor) -> torch.Tensor:
            c, h, w = x.shape[1:]
            return x.unsqueeze(1).expand(2, n_ref, c, h, w).reshape(2 * n_ref, c, h, w)

        inter = n._inter(per_ref(f8), per_ref(f16), per_ref(f32), r16, r32, per_ref(offset))
        if f2 is not None:
            center, offset, inter = (upsample_to(x, f2) for x in (center, offset, inter))
        semantic = 0.5 * (semantic[:1] + _unmirror(semantic[1:]))
        center = 0.5 * (center[:1] + _unmirror(center[1:]))
        offset = 0.5 * (offset[:1] + _unmirror_offset(offset[1:]))
        inter = 0.5 * (inter[:n_ref] + _unmirror_offset(inter[n_ref:]))
        feat16 = torch.cat([f16[:1], f16[1:]], dim=1)
        feat32 = torch.cat([f32[:1], f32[1:]], dim=1)
        return semantic, center, offset, inter, feat16, feat32
