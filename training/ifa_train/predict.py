"""Reference (Python) streaming inference + instance flow assembly (method.md §2) with ORT.

It exists to measure a model on a YouTube-VIS folder without the Rust runtime:
python -m ifa_train.predict --model models/ifa-shapes.onnx --data data/val --out results.json
then the official evaluator (shared notes/eval_oracle.py) gives the AP. The Rust `ifa run` is
the product; this is a yardstick, kept simple (greedy one-to-one matching).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from pycocotools import mask as mask_utils

from .letterbox import letterbox_image, letterbox_scale
from .ytvis import load_dataset


class OnnxModel:
    def __init__(self, path: str | Path, threads: int = 2):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        meta = self.sess.get_modelmeta().custom_metadata_map
        self.input_size = json.loads(meta["ifa.input_size"])
        self.mean = np.array(json.loads(meta["ifa.mean"]), np.float32)
        self.std = np.array(json.loads(meta["ifa.std"]), np.float32)
        self.refs = json.loads(meta["ifa.refs"])
        self.post = json.loads(meta["ifa.post"])
        shapes = {i.name: i.shape for i in self.sess.get_inputs()}
        self.c16, self.c32 = shapes["ref_feat16"][1], shapes["ref_feat32"][1]

    def run(self, image: np.ndarray, r16: np.ndarray, r32: np.ndarray):
        return self.sess.run(None, {"image": image, "ref_feat16": r16, "ref_feat32": r32})


def ref_indices(t: int, refs: dict) -> list[int]:
    """Most recent first, the first frame last (docs/model-contract.md, ifa.refs)."""
    out: list[int] = []
    want = refs["count"] - (1 if refs["first_frame"] and t > 0 else 0)
    k = 1
    while len(out) < want and t - k * refs["step"] >= 0:
        r = t - k * refs["step"]
        if not (refs["first_frame"] and r == 0):
            out.append(r)
        k += 1
    if refs["first_frame"] and t > 0:
        out.append(0)
    return out


def detect(center: np.ndarray, post: dict) -> np.ndarray:
    """[n, 2] (i, j) stride-4 cells of the kept heatmap peaks, strongest first."""
    c = torch.from_numpy(center[0])
    k = post["nms_kernel"]
    peak = (c == F.max_pool2d(c[None], k, 1, k // 2)[0]) & (c > post["center_threshold"])
    ij = torch.nonzero(peak[0]).numpy()
    vals = center[0, 0][ij[:, 0], ij[:, 1]]
    order = np.argsort(-vals)[: post["top_k"]]
    return ij[order]


def assemble_frame(sem, center, offset, inter, post):
    """Per-frame instances: list of dicts with cells (mask at stride 4), class, score, centre, flows."""
    prob = torch.softmax(torch.from_numpy(sem[0]), 0).numpy()
    cls_map = prob.argmax(0)
    peaks = detect(center, post)
    h4, w4 = cls_map.shape
    if len(peaks) == 0:
        return [], np.zeros((h4, w4), np.int32)
    ys = np.arange(h4)[:, None] * 4 + 1.5
    xs = np.arange(w4)[None, :] * 4 + 1.5
    cy = ys + offset[0, 0]
    cx = xs + offset[0, 1]
    pk = peaks.astype(np.float32) * 4 + 1.5
    d = (cy[..., None] - pk[:, 0]) ** 2 + (cx[..., None] - pk[:, 1]) ** 2
    assign = d.argmin(-1) + 1
    assign[cls_map == 0] = 0
    insts = []
    idmap = np.zeros((h4, w4), np.int32)
    for m in range(len(peaks)):
        cells = assign == m + 1
        n = int(cells.sum())
        if n < post["min_pixels"]:
            continue
        votes = np.bincount(cls_map[cells], minlength=prob.shape[0])
        votes[0] = 0
        c = int(votes.argmax())
        score = float(prob[c][cells].mean() * center[0, 0][tuple(peaks[m])])
        flows = (inter[:, :, cells] - offset[0][:, cells][None]).mean(-1)  # [L, 2]
        insts.append({"cells": cells, "cls": c, "score": score, "center": pk[m], "flows": flows})
        idmap[cells] = len(insts)
    return insts, idmap


def pixel_instances(sem, offset, insts, in_h: int, in_w: int) -> np.ndarray:
    """[in_h, in_w] instance index (k + 1 for insts[k], 0 = none) at input resolution."""
    size = (in_h, in_w)
    fg = F.interpolate(torch.from_numpy(sem), size=size, mode="bilinear", align_corners=False)[0].argmax(0).numpy() > 0
    off = F.interpolate(torch.from_numpy(offset), size=size, mode="bilinear", align_corners=False)[0].numpy()
    yy, xx = np.nonzero(fg)
    cy = yy + off[0, yy, xx]
    cx = xx + off[1, yy, xx]
    cs = np.stack([m["center"] for m in insts])
    d = (cy[:, None] - cs[None, :, 0]) ** 2 + (cx[:, None] - cs[None, :, 1]) ** 2
    out = np.zeros(size, np.int32)
    out[yy, xx] = d.argmin(1) + 1
    return out


def match(insts, refs: list[int], history: dict[int, list], dist: float, next_id: list[int]) -> None:
    """Greedy one-to-one: nearest-in-time reference first, then distance."""
    cands = []
    for ri, r in enumerate(refs):
        for mi, m in enumerate(insts):
            warped = m["center"] + m["flows"][ri]
            for tid, c in history.get(r, []):
                dd = float(np.hypot(*(warped - c)))
                if dd <= dist:
                    cands.append((ri, dd, mi, tid))
    cands.sort()
    used_m, used_t = set(), set()
    for _, _, mi, tid in cands:
        if mi in used_m or tid in used_t:
            continue
        insts[mi]["track"] = tid
        used_m.add(mi)
        used_t.add(tid)
    for m in insts:
        if "track" not in m:
            m["track"] = next_id[0]
            next_id[0] += 1


def predict_video(model: OnnxModel, root: Path, video, frames_limit: int | None = None) -> list[dict]:
    in_h, in_w = model.input_size
    s, nh, nw = letterbox_scale(video.height, video.width, in_h, in_w)
    mem16, mem32, history = [], [], {}
    tracks: dict[int, dict] = {}
    names = video.file_names[:frames_limit] if frames_limit else video.file_names
    next_id = [1]
    for t, name in enumerate(names):
        with Image.open(root / "JPEGImages" / name) as im:
            lb = letterbox_image(im, in_h, in_w, model.mean.tolist()).astype(np.float32) / 255.0
        x = ((lb - model.mean) / model.std).transpose(2, 0, 1)[None].copy()
        x[:, :, nh:, :] = 0.0
        x[:, :, :, nw:] = 0.0
        refs = ref_indices(t, model.refs)
        if refs:
            r16 = np.concatenate([mem16[r] for r in refs])
            r32 = np.concatenate([mem32[r] for r in refs])
        else:
            r16 = np.zeros((1, model.c16, in_h // 16, in_w // 16), np.float32)
            r32 = np.zeros((1, model.c32, in_h // 32, in_w // 32), np.float32)
        sem, center, offset, inter, f16, f32 = model.run(x, r16, r32)
        if getattr(model, "zero_flow", False):
            inter = np.broadcast_to(offset, inter.shape)
        mem16.append(f16)
        mem32.append(f32)
        insts, idmap = assemble_frame(sem, center, offset, inter, model.post)
        if refs:
            match(insts, refs, history, model.post["match_distance"], next_id)
        else:
            for m in insts:
                m["track"] = next_id[0]
                next_id[0] += 1
        history[t] = [(m["track"], m["center"]) for m in insts]
        # Masks at input resolution: upsampled logits say foreground, and each foreground pixel p
        # joins the instance whose centre is nearest to p + Ot(p) (offsets upsampled too).
        if insts:
            ids_v = pixel_instances(sem, offset, insts, in_h, in_w)
            ys = np.clip(np.floor((np.arange(video.height) + 0.5) * nh / video.height).astype(int), 0, nh - 1)
            xs = np.clip(np.floor((np.arange(video.width) + 0.5) * nw / video.width).astype(int), 0, nw - 1)
            ids_v = ids_v[ys][:, xs]
        for k, m in enumerate(insts):
            tr = tracks.setdefault(m["track"], {"segs": [None] * len(names), "scores": [], "cls": []})
            mask = np.asfortranarray((ids_v == k + 1).astype(np.uint8))
            if not mask.any():
                continue
            rle = mask_utils.encode(mask)
            tr["segs"][t] = {"size": [video.height, video.width], "counts": rle["counts"].decode("ascii")}
            tr["scores"].append(m["score"])
            tr["cls"].append(m["cls"])
    out = []
    for tr in tracks.values():
        if not tr["scores"]:
            continue
        out.append({
            "video_id": video.video_id,
            "category_id": int(np.bincount(tr["cls"]).argmax()),
            "score": float(np.mean(tr["scores"])),
            "segmentations": tr["segs"],
        })
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Python reference inference + assembly -> YouTube-VIS results JSON")
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--videos", type=int, help="only the first N videos")
    ap.add_argument("--post", default="{}", help="JSON overriding keys of the model's ifa.post")
    ap.add_argument("--zero-flow", action="store_true", help="ablation: ignore inter_offset (flow = 0)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = OnnxModel(a.model)
    model.post.update(json.loads(a.post))
    model.zero_flow = a.zero_flow
    ds = load_dataset(a.data)
    vids = ds.videos[: a.videos] if a.videos else ds.videos
    res = []
    t0 = time.time()
    n_frames = 0
    for v in vids:
        res += predict_video(model, ds.root, v)
        n_frames += len(v.file_names)
    Path(a.out).write_text(json.dumps(res))
    print(f"[predict] {len(vids)} videos, {n_frames} frames, {len(res)} tracks in {time.time() - t0:.0f}s -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
