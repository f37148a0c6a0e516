"""Export a checkpoint to ONNX per docs/model-contract.md and check it against PyTorch with ORT.

python -m ifa_train.export --ckpt RUN/final.pt --out models/ifa-shapes.onnx
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from .fold import fold_batchnorm
from .model import IFANet
from .postprocess import DEFAULT_POST
from .train import load_model
from .tta import FlipAveraged

CONTRACT_VERSION = "1"
INPUT_NAMES = ["image", "ref_feat16", "ref_feat32"]
OUTPUT_NAMES = ["semantic", "center", "offset", "inter_offset", "feat16", "feat32"]
DEFAULT_REFS = {"count": 4, "first_frame": True, "step": 1}
MAX_REFS = 16  # upper bound of the dynamic L axis in the graph; ifa.refs.count must not exceed it


def example_inputs(net: IFANet | FlipAveraged, in_h: int, in_w: int, n_ref: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(1, 3, in_h, in_w, generator=g),
        torch.randn(n_ref, net.c16, in_h // 16, in_w // 16, generator=g),
        torch.randn(n_ref, net.c32, in_h // 32, in_w // 32, generator=g),
    )


def _export_graph(net: IFANet | FlipAveraged, path: Path, in_h: int, in_w: int, exporter: str) -> None:
    args = example_inputs(net, in_h, in_w, 2)
    if exporter == "dynamo":
        L = torch.export.Dim("L", min=1, max=MAX_REFS)
        torch.onnx.export(
            net,
            args,
            str(path),
            dynamo=True,
            input_names=INPUT_NAMES,
            output_names=OUTPUT_NAMES,
            dynamic_shapes={"image": None, "ref_feat16": {0: L}, "ref_feat32": {0: L}},
            external_data=False,
            optimize=True,
        )
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                net,
                args,
                str(path),
                dynamo=False,
                opset_version=17,
                input_names=INPUT_NAMES,
                output_names=OUTPUT_NAMES,
                dynamic_axes={"ref_feat16": {0: "L"}, "ref_feat32": {0: "L"}, "inter_offset": {0: "L"}},
            )


TTA_MODES = ("none", "flip")


def metadata(cfg, train_info: dict, refs: dict, post: dict, tta: str = "none") -> dict[str, str]:
    meta = {
        "ifa.contract": CONTRACT_VERSION,
        "ifa.classes": json.dumps(cfg.model.classes),
        "ifa.input_size": json.dumps(list(cfg.data.input_size)),
        "ifa.mean": json.dumps(cfg.data.mean),
        "ifa.std": json.dumps(cfg.data.std),
        "ifa.refs": json.dumps(refs),
        "ifa.post": json.dumps(post),
        "ifa.temporal_fusion": json.dumps(bool(cfg.model.temporal_fusion)),
        "ifa.train": json.dumps(train_info),
        "ifa.head_stride": json.dumps(cfg.model.mask_stride),
    }
    if tta != "none":
        meta["ifa.tta"] = tta  # informative: the graph already averages; the runtime needs nothing
    return meta


def exported_net(ckpt: str | Path, tta: str = "none") -> tuple[torch.nn.Module, object, dict]:
    """The checkpoint's network as the graph holds it: batch norms folded, wrapped for `tta`."""
    if tta not in TTA_MODES:
        raise ValueError(f"tta {tta!r}: one of {', '.join(TTA_MODES)}")
    net, cfg, ck = load_model(ckpt)
    fold_batchnorm(net.eval())
    return (FlipAveraged(net).eval() if tta != "none" else net), cfg, ck


def export(
    ckpt: str | Path,
    out: str | Path,
    exporter: str = "dynamo",
    refs: dict | None = None,
    post: dict | None = None,
    train_info: dict | None = None,
    tta: str = "none",
) -> Path:
    import onnx

    net, cfg, ck = exported_net(ckpt, tta)
    refs = refs or DEFAULT_REFS
    if not 1 <= refs["count"] <= MAX_REFS:
        raise ValueError(f"ifa.refs.count must be in 1..{MAX_REFS}")
    in_h, in_w = cfg.data.input_size
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.onnx")
    _export_graph(net, tmp, in_h, in_w, exporter)
    model = onnx.load(str(tmp))
    info = dict(ck.get("extra") or {})
    info.update(train_info or {})
    info.setdefault("iterations", ck.get("iter"))
    for k, v in metadata(cfg, info, refs, post or DEFAULT_POST, tta).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    tmp.unlink(missing_ok=True)
    Path(str(tmp) + ".data").unlink(missing_ok=True)
    return out


def realistic_inputs(net: IFANet | FlipAveraged, in_h: int, in_w: int, n_ref: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Random inputs in the model's operating range: an image of uniform random RGB values
    (normalised like a frame) and, as memory, the model's own features of other random images."""
    g = torch.Generator().manual_seed(seed)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    imgs = (torch.rand(n_ref + 1, 3, in_h, in_w, generator=g) - mean) / std
    with torch.no_grad():
        f16, f32 = [], []
        for i in range(n_ref):
            o = net(imgs[i + 1 : i + 2], torch.zeros(1, net.c16, in_h // 16, in_w // 16), torch.zeros(1, net.c32, in_h // 32, in_w // 32))
            f16.append(o[4])
            f32.append(o[5])
    return imgs[:1].contiguous(), torch.cat(f16), torch.cat(f32)


def check_against_torch(
    ckpt: str | Path, onnx_path: str | Path, n_refs=(1, 3, 4), threads: int = 2, tta: str = "none"
) -> dict[str, dict[str, float]]:
    """Per output: max abs difference between ORT and PyTorch over several L, the output's max
    magnitude, and their ratio `rel` = abs / max(1, magnitude).

    Offsets are in pixels (magnitudes of 100 and more), where float32 itself only resolves about
    1e-5, so the tolerance applies to `rel`: for outputs of unit scale (logits, heatmap) it is
    the plain absolute difference.
    """
    import onnxruntime as ort

    net, cfg, _ = exported_net(ckpt, tta)  # the graph holds folded convolutions; compare like with like
    in_h, in_w = cfg.data.input_size
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    res = {n: {"abs": 0.0, "mag": 0.0} for n in OUTPUT_NAMES}
    for i, n_ref in enumerate(n_refs):
        args = realistic_inputs(net, in_h, in_w, n_ref, seed=100 + i)
        with torch.no_grad():
            ref = [t.numpy() for t in net(*args)]
        got = sess.run(OUTPUT_NAMES, {k: v.numpy() for k, v in zip(INPUT_NAMES, args)})
        for name, a, b in zip(OUTPUT_NAMES, ref, got):
            if a.shape != b.shape:
                raise AssertionError(f"{name}: ORT shape {b.shape} != PyTorch {a.shape} (L={n_ref})")
            res[name]["abs"] = max(res[name]["abs"], float(np.abs(a - b).max()))
            res[name]["mag"] = max(res[name]["mag"], float(np.abs(a).max()))
    for r in res.values():
        r["rel"] = r["abs"] / max(1.0, r["mag"])
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Export an IFA checkpoint to ONNX (docs/model-contract.md)")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--exporter", default="dynamo", choices=["dynamo", "legacy"])
    ap.add_argument("--refs", help="JSON for ifa.refs", default=json.dumps(DEFAULT_REFS))
    ap.add_argument("--post", help="JSON for ifa.post", default=json.dumps(DEFAULT_POST))
    ap.add_argument("--train-info", help="extra JSON merged into ifa.train", default="{}")
    ap.add_argument("--tta", default="none", choices=TTA_MODES, help="flip: average each frame's maps with its mirror image's (twice the compute)")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    path = export(a.ckpt, a.out, a.exporter, json.loads(a.refs), json.loads(a.post), json.loads(a.train_info), a.tta)
    diffs = check_against_torch(a.ckpt, path, tta=a.tta)
    worst = max(d["rel"] for d in diffs.values())
    print(
        f"[export] {path} ({path.stat().st_size / 1e6:.2f} MB); ORT vs PyTorch, max abs diff (output max |value|): "
        + ", ".join(f"{k} {d['abs']:.2e} ({d['mag']:.3g})" for k, d in diffs.items())
        + f"; worst abs/max(1,|value|) {worst:.2e}"
    )
    if worst >= a.tolerance:
        print(f"[export] FAILED: {worst:.2e} >= {a.tolerance}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
