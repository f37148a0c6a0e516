#!/usr/bin/env python3
"""The AP ceiling of an input size and output stride: ground-truth masks pushed through the head's grid.

    .venv/bin/python scripts/resolution_ceiling.py GT.json OUT.json --size 256x448 --stride 4
    target/release/ifa eval --gt GT.json --results OUT.json

Every ground-truth mask is letterboxed to the input size (the contract's top-left letterbox), its
area fraction taken per stride x stride cell (what a perfect head could say), brought back to the
video's resolution bilinearly, and each video pixel given to the instance with the largest value
if that is at least 0.5 (else background). The tracks keep their identities and classes, so
`ifa eval` of the result is the best AP a perfect network with that grid could score.
Needs numpy, torch and pycocotools (the project's .venv).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from pycocotools import mask as M


def letterbox_geometry(h: int, w: int, in_h: int, in_w: int) -> tuple[int, int]:
    s = min(in_h / h, in_w / w)
    return min(in_h, max(1, round(h * s))), min(in_w, max(1, round(w * s)))


def through_grid(masks: np.ndarray, in_h: int, in_w: int, stride: int) -> np.ndarray:
    """masks [K, h, w] (0/1) -> label map [h, w] (0 = background, k + 1 = mask k) after the grid."""
    k, h, w = masks.shape
    nh, nw = letterbox_geometry(h, w, in_h, in_w)
    x = torch.from_numpy(masks.astype(np.float32))[None]
    # Coverage in input pixels, then per cell (area average), on the full letterboxed input.
    cov = torch.zeros(1, k, in_h, in_w)
    cov[..., :nh, :nw] = F.interpolate(x, size=(nh, nw), mode="area")
    cells = F.avg_pool2d(cov, stride)
    # Back: bilinear to the input size (cell centres), crop the content, resize to the video.
    back = F.interpolate(cells, size=(in_h, in_w), mode="bilinear", align_corners=False)[..., :nh, :nw]
    vid = F.interpolate(back, size=(h, w), mode="bilinear", align_corners=False)[0]
    best, arg = vid.max(0)
    return torch.where(best >= 0.5, arg + 1, torch.zeros_like(arg)).numpy()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gt")
    ap.add_argument("out")
    ap.add_argument("--size", required=True, help="HxW input size")
    ap.add_argument("--stride", type=int, required=True)
    a = ap.parse_args(argv)
    in_h, in_w = (int(v) for v in a.size.split("x"))
    gt = json.load(open(a.gt))
    by_video: dict[int, list] = {}
    for ann in gt["annotations"]:
        by_video.setdefault(ann["video_id"], []).append(ann)
    out = []
    for v in gt["videos"]:
        anns = by_video.get(v["id"], [])
        if not anns:
            continue
        h, w, n = v["height"], v["width"], v["length"]
        segs: list[list] = [[None] * n for _ in anns]
        for t in range(n):
            masks = np.zeros((len(anns), h, w), np.uint8)
            for k, ann in enumerate(anns):
                s = ann["segmentations"][t]
                if s is not None:
                    r = M.frPyObjects(s, h, w) if isinstance(s["counts"], list) else {"size": s["size"], "counts": s["counts"].encode()}
                    masks[k] = M.decode(r)
            labels = through_grid(masks, in_h, in_w, a.stride)
            for k in range(len(anns)):
                m = labels == k + 1
                if m.any():
                    r = M.encode(np.asfortranarray(m.astype(np.uint8)))
                    segs[k][t] = {"size": r["size"], "counts": r["counts"].decode()}
        for ann, s in zip(anns, segs):
            out.append({"video_id": v["id"], "category_id": ann["category_id"], "score": 1.0, "segmentations": s})
    with open(a.out, "w") as f:
        json.dump(out, f)
    print(f"{len(out)} tracks through a {in_h}x{in_w} input at stride {a.stride}: {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
