"""A weighted average of checkpoints of one network ("model soup", or WiSE-FT when one of them is
the starting point of the others' fine-tuning).

    python -m ifa_train.soup --ckpt models/ifa-shapes.pt --ckpt RUN/final.pt --out soup.pt

Why: a run that fine-tunes a model on our renderer's videos can gain there and lose on other
renderings; averaging its weights with the starting point's often keeps most of the gain and
little of the loss, at no cost at inference. Every floating-point tensor is averaged, the
BatchNorm statistics included (they are folded into the convolutions at export); integer tensors
(BatchNorm's batch counters) are taken from the last checkpoint. The checkpoints must describe
the same network (the same `model` config); the result keeps the last one's config and none of
the runs' state (optimiser, counters, weight average): a starting point (`--init`) or an export
input, not a run to resume.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .ckpt import is_own_input, save_derived
from .config import train_config_from_dict
from .model import IFANet


def soup(ckpts: list[str | Path], weights: list[float] | None, out: str | Path) -> Path:
    if len(ckpts) < 2:
        raise ValueError("a soup needs at least two checkpoints")
    weights = weights or [1.0] * len(ckpts)
    if len(weights) != len(ckpts) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("--weights: one non-negative weight per checkpoint, not all zero")
    total = sum(weights)
    weights = [w / total for w in weights]
    loaded = [torch.load(c, map_location="cpu", weights_only=False) for c in ckpts]
    # Compared as read (defaults filled in): a checkpoint written before a config key existed
    # holds that key's default.
    first_model = train_config_from_dict(loaded[0]["config"]).model
    for c, ck in zip(ckpts[1:], loaded[1:]):
        if train_config_from_dict(ck["config"]).model != first_model:
            raise ValueError(f"{c}: another network than {ckpts[0]} (its `model` config differs)")
        if ck["model"].keys() != loaded[0]["model"].keys():
            raise ValueError(f"{c}: other tensors than {ckpts[0]}")
    last = loaded[-1]
    state = {}
    for k, v in last["model"].items():
        if v.is_floating_point():
            acc = torch.zeros_like(v, dtype=torch.float64)
            for w, ck in zip(weights, loaded):
                acc += w * ck["model"][k].to(torch.float64)
            state[k] = acc.to(v.dtype)
        else:
            state[k] = v
    cfg = train_config_from_dict(last["config"])
    net = IFANet(cfg.model)
    net.load_state_dict(state)
    extra = dict(last.get("extra") or {})
    extra["soup"] = [{"checkpoint": Path(c).name, "weight": round(w, 6)} for c, w in zip(ckpts, weights)]
    # Only what describes the average: the last run's counters, sampler state and weight
    # average (`ema`) belong to one ingredient, not to the soup.
    return save_derived({"extra": extra}, net, cfg, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Average the weights of checkpoints of one IFA network")
    ap.add_argument("--ckpt", action="append", required=True, help="a checkpoint; give two or more")
    ap.add_argument("--weights", type=float, nargs="+", help="one per --ckpt, normalised to sum 1 (default: equal)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if any(is_own_input(c, a.out, "soup") for c in a.ckpt):
        return 2
    try:
        path = soup(a.ckpt, a.weights, a.out)
    except ValueError as e:
        print(f"[soup] {e}", file=sys.stderr)
        return 2
    print(f"[soup] {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
