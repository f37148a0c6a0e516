"""Fold eval-mode BatchNorm into the preceding convolution (for export: fewer ops, and PyTorch
and ORT then run the same arithmetic, which keeps their outputs within float32 noise)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def fold_batchnorm(module: nn.Module) -> nn.Module:
    for child in module.children():
        fold_batchnorm(child)
    if isinstance(module, nn.Sequential):
        mods = list(module)
        for i in range(len(mods) - 1):
            conv, bn = mods[i], mods[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                conv.weight.mul_(scale.view(-1, 1, 1, 1))
                bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                conv.bias = nn.Parameter(bn.bias + (bias - bn.running_mean) * scale)
                module[i + 1] = nn.Identity()
    return module
