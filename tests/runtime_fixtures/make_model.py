"""Writes a small random-weight model that follows docs/model-contract.md, for the runtime's
tests and benchmark when no trained model is at hand.

    .venv/bin/python tests/runtime_fixtures/make_model.py OUT.onnx [--size H W] [--seed N] [--nan]

It is the training package's IFANet (narrow MobileNet backbone) with random weights and the
training package's exporter; the center head's bias is raised so that a random network
still produces peaks above the default threshold (otherwise nothing downstream would run).
`--nan` writes a broken model for the hostile-input tests (nan.onnx): it follows the contract,
but its semantic head outputs NaN.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "training"))

import onnx  # noqa: E402
import torch  # noqa: E402

from ifa_train import export as ex  # noqa: E402
from ifa_train.config import IMAGENET_MEAN, IMAGENET_STD, ModelConfig  # noqa: E402
from ifa_train.model import IFANet  # noqa: E402

CLASSES = ["disc", "square", "triangle"]


def calibrate(net: IFANet, h: int, w: int) -> None:
    """Rescales the last layers of the semantic and center heads so that a random network's
    outputs vary across the picture (about 2 logits of spread), with some foreground."""
    torch.manual_seed(1)
    x = torch.rand(4, 3, h, w) * 4 - 2
    feats = net.backbone(x)
    sem_in = net.sem_dec(feats)
    ins_in = net.ins_dec(feats)
    with torch.no_grad():
        for head, inp, bg_shift in ((net.sem_head, sem_in, -0.5), (net.center_head, ins_in, -1.0)):
            last = head[-1]
            y = head(inp)  # [B, C, h, w]
            mean = y.mean(dim=(0, 2, 3))
            std = y.std(dim=(0, 2, 3)).clamp_min(1e-8)
            k = 2.0 / std
            last.weight.mul_(k.view(-1, 1, 1, 1))
            last.bias.copy_((last.bias - mean) * k)
            last.bias[0] += bg_shift


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", nargs=2, type=int, default=[64, 96])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--nan", action="store_true", help="a contract-following model whose semantic output is NaN")
    a = ap.parse_args(argv)
    torch.manual_seed(a.seed)
    cfg = ModelConfig(classes=CLASSES, backbone="mobilenet", width=0.25, aspp_ch=16, dec_ch=(16, 16, 16), head_ch=8, attn_dim=16)
    net = IFANet(cfg).eval()
    h, w = a.size
    calibrate(net, h, w)
    if a.nan:
        with torch.no_grad():
            net.sem_head[-1].bias[0] = float("nan")
    out = Path(a.out)
    tmp = out.with_suffix(".tmp.onnx")
    with torch.no_grad():
        ex._export_graph(net, tmp, h, w, "torchscript")
    model = onnx.load(str(tmp))
    meta = {
        "ifa.contract": ex.CONTRACT_VERSION,
        "ifa.classes": json.dumps(CLASSES),
        "ifa.input_size": json.dumps([h, w]),
        "ifa.mean": json.dumps(IMAGENET_MEAN),
        "ifa.std": json.dumps(IMAGENET_STD),
        "ifa.refs": json.dumps({"count": 3, "first_frame": True, "step": 1}),
        "ifa.post": json.dumps(dict(ex.DEFAULT_POST, center_threshold=0.3, nms_kernel=5)),
        "ifa.temporal_fusion": "true",
        "ifa.train": json.dumps({"note": "random weights, runtime tests only", "seed": a.seed}),
    }
    for k, v in meta.items():
        e = model.metadata_props.add()
        e.key, e.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    tmp.unlink(missing_ok=True)
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
