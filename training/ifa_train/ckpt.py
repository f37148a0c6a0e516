"""Checkpoints made from another one (`restride`, `unfuse`): starting points, not runs to resume."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch import nn

from .config import TrainConfig, to_json


def save_derived(source: dict, net: nn.Module, cfg: TrainConfig, out: str | Path) -> Path:
    """Writes `source`'s entries with `net`'s weights and `cfg`, without the optimiser state (the
    result is an `--init` or export input), through a temporary file renamed into place."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    kept = {k: v for k, v in source.items() if k != "optim"}
    torch.save({**kept, "model": net.state_dict(), "config": json.loads(to_json(cfg))}, tmp)
    tmp.replace(out)
    return out


def is_own_input(ckpt: str | Path, out: str | Path, tool: str) -> bool:
    """True (with a message) when `out` names the input checkpoint, which a tool must not replace."""
    if Path(out).resolve() == Path(ckpt).resolve():
        print(f"[{tool}] --out must not be the input checkpoint", file=sys.stderr)
        return True
    return False
