"""An exponential moving average of the network's weights over a run (`TrainConfig.ema_decay`).

With batches of 8 pairs on two cores the last iterate carries the noise of its last few hundred
steps; the average over them is the usual remedy, and it costs one copy of the weights.
"""

from __future__ import annotations

import torch
from torch import nn


class WeightAverage:
    """Shadow copies of every tensor of `net.state_dict()`: parameters and BatchNorm statistics
    averaged, integer counters copied."""

    def __init__(self, net: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema decay {decay}: must lie strictly between 0 and 1")
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in net.state_dict().items()}

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        for k, v in net.state_dict().items():
            s = self.shadow[k]
            if v.dtype.is_floating_point:
                s.mul_(self.decay).add_(v.detach(), alpha=1.0 - self.decay)
            else:
                s.copy_(v)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing = set(self.shadow) ^ set(state)
        if missing:
            raise ValueError(f"ema state does not fit the network: {sorted(missing)[:4]}")
        for k, v in state.items():
            self.shadow[k].copy_(v)
