"""A copy of a checkpoint with concatenation in place of the temporal fusion's attention.

    python -m ifa_train.unfuse --ckpt models/ifa-shapes.pt --out concat.pt

The ablation "temporal fusion vs concatenation" on one frame network: the fused feature of
`ConcatFusion` is the merge of [target, reference, coordinates]; the cross-frame attention's
merge (with its local term) takes [target, attended value, reference, coordinates]. The copy keeps
every other weight and starts each concatenation's merge from the fusion's, without the columns
that read the attended value, so that the variant starts from what the fusion learned minus the
attention (reference columns start at zero where the fusion had no local term). Train it with
`train_only` on the temporal parts. No optimiser state is copied.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .ckpt import is_own_input, save_derived
from .config import train_config_from_dict
from .model import IFANet

FUSIONS = ("tcf32", "tcf16")


def concat_merge_weight(w: torch.Tensor, cin: int, dim: int, local: bool) -> torch.Tensor:
    """The fusion merge's 1x1 weight [cout, cin + dim (+ cin) + 2, 1, 1] without the attended
    value's columns: [cout, 2 cin + 2, 1, 1] in `ConcatFusion`'s order (target, reference, coords)."""
    tgt, pos = w[:, :cin], w[:, -2:]
    ref = w[:, cin + dim : 2 * cin + dim] if local else torch.zeros_like(tgt)
    return torch.cat([tgt, ref, pos], 1)


def unfuse(ckpt: str | Path, out: str | Path) -> Path:
    ck = torch.load(ckpt, map_location="cpu", weights_only=False)
    cfg = train_config_from_dict(ck["config"])
    if not cfg.model.temporal_fusion:
        raise ValueError(f"{ckpt}: has no temporal fusion to replace")
    local, dim = cfg.model.tcf_local, cfg.model.attn_dim
    cfg.model.temporal_fusion = False
    net = IFANet(cfg.model)
    src = ck["model"]
    state = {k: v for k, v in src.items() if not k.startswith(FUSIONS)}
    for name in FUSIONS:
        cin = getattr(net, name).merge[0].in_channels // 2 - 1
        for k, v in src.items():
            if not k.startswith(f"{name}.merge."):
                continue
            state[k] = concat_merge_weight(v, cin, dim, local) if k == f"{name}.merge.0.weight" else v
    net.load_state_dict(state, strict=True)
    return save_derived(ck, net, cfg, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Copy an IFA checkpoint with concatenation in place of the temporal fusion")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if is_own_input(a.ckpt, a.out, "unfuse"):
        return 2
    print(f"[unfuse] {unfuse(a.ckpt, a.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
