"""A copy of a checkpoint with its head at another stride.

    python -m ifa_train.restride --ckpt RUN/final.pt --stride 4 --out stride4.pt

2 → 4 drops the stride-2 refinement of the semantic logits (what is left is the stride-4 head
the refinement adds to); 4 → 2 adds the refinement, starting at zero (the same outputs,
upsampled). The optimiser state is not copied: the result is a starting point (`--init`) or an
export input, not a run to resume.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .ckpt import is_own_input, save_derived
from .config import train_config_from_dict
from .model import IFANet

REFINEMENT = ("sem_up2.", "sem_head2.")


def restride(ckpt: str | Path, stride: int, out: str | Path) -> Path:
    ck = torch.load(ckpt, map_location="cpu", weights_only=False)
    cfg = train_config_from_dict(ck["config"])
    cfg.model.mask_stride = stride
    net = IFANet(cfg.model)  # checks that the backbone allows the stride
    state = {k: v for k, v in ck["model"].items() if not k.startswith(REFINEMENT)}
    missing = net.load_state_dict(state, strict=False).missing_keys
    if any(not k.startswith(REFINEMENT) for k in missing):
        raise ValueError(f"{ckpt}: weights missing for {[k for k in missing if not k.startswith(REFINEMENT)][:5]}")
    return save_derived(ck, net, cfg, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Copy an IFA checkpoint with its head at another stride (4 or 2)")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--stride", type=int, required=True, choices=[2, 4])
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if is_own_input(a.ckpt, a.out, "restride"):
        return 2
    print(f"[restride] {restride(a.ckpt, a.stride, a.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
