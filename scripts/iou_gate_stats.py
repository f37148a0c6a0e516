#!/usr/bin/env python3
"""How mask IoU separates "same instance" from "another instance" between frames of a shapes-world
set, at the model's stride-4 cell resolution (the `iou` association baseline compares cell masks).

Usage: .venv/bin/python scripts/iou_gate_stats.py DATASET_DIR [DATASET_DIR ...]
(DATASET_DIR holds instances.json, as written by `ifa synth`). Needs numpy and pycocotools.

Cells: the default model's input is 192x320; a 640x360 video fits at scale 0.5, so one stride-4
cell covers an 8x8 block of video pixels; a cell is "in" the mask when at least half of its
block is. For each gap k (1, 2, 3 frames) it prints, per threshold T, the share of same-track
pairs with IoU >= T (what the gate keeps) and the share of (instance, other instance of the
earlier frame) pairs with IoU >= T (what it lets through). Then it runs the `iou` association
itself on the ground-truth cell masks (4 references with the first frame, greedy by decreasing IoU,
one-to-one, nearest-in-time reference first, as src/assemble/tracker.rs does) and counts, per
threshold, identity switches (an id passed to another ground-truth instance) and fragments (an
instance seen before given a new id): the association's own errors with perfect masks.
"""

import json
import sys

import numpy as np
from pycocotools import mask as mask_utils

CELL = 8  # video pixels per stride-4 cell side at the default 192x320 input for 640x360 video
THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def cells(rle, h, w):
    if rle is None:
        return None
    if isinstance(rle["counts"], list):
        rle = mask_utils.frPyObjects(rle, h, w)
    m = mask_utils.decode(rle).astype(np.float32)
    hc, wc = h // CELL, w // CELL
    m = m[: hc * CELL, : wc * CELL].reshape(hc, CELL, wc, CELL).mean(axis=(1, 3)) >= 0.5
    return m if m.any() else None


def iou(a, b):
    inter = np.logical_and(a, b).sum()
    return inter / (a.sum() + b.sum() - inter) if inter else 0.0


def refs_of(t, count=4):
    """The default policy: the count - 1 most recent frames, then the first frame."""
    out = [t - k for k in range(1, count) if t - k > 0]
    return out + [0] if t > 0 else []


def simulate(tracks, th):
    """Runs the iou association on one video's ground-truth cell masks; (switches, fragments, links)."""
    n = len(tracks[0])
    ids = [[None] * n for _ in tracks]  # predicted id of ground-truth instance i at frame t
    owner, next_id, switches, fragments, links = {}, 1, 0, 0, 0
    for t in range(n):
        present = [i for i, tr in enumerate(tracks) if tr[t] is not None]
        assigned, taken = {}, set()
        for r in refs_of(t):
            pairs = []
            for i in present:
                if i in assigned:
                    continue
                for j, tr in enumerate(tracks):
                    if tr[r] is not None and ids[j][r] is not None and ids[j][r] not in taken:
                        v = iou(tracks[i][t], tr[r])
                        if v >= th:
                            pairs.append((-v, i, ids[j][r]))
            for _, i, pid in sorted(pairs):
                if i not in assigned and pid not in taken:
                    assigned[i] = pid
                    taken.add(pid)
        for i in present:
            seen_before = any(ids[i][u] is not None for u in range(t))
            if i in assigned:
                pid = assigned[i]
                links += 1
                switches += owner[pid] != i
            else:
                pid, next_id = next_id, next_id + 1
                fragments += seen_before
            owner[pid] = i
            ids[i][t] = pid
    return switches, fragments, links


def main(dirs):
    for d in dirs:
        gt = json.load(open(f"{d}/instances.json"))
        size = {v["id"]: (v["height"], v["width"], v["length"]) for v in gt["videos"]}
        by_video = {}
        for a in gt["annotations"]:
            h, w, _ = size[a["video_id"]]
            by_video.setdefault(a["video_id"], []).append([cells(s, h, w) for s in a["segmentations"]])
        for k in (1, 2, 3):
            same, other = [], []
            for tracks in by_video.values():
                n = len(tracks[0])
                for t in range(k, n):
                    for i, tr in enumerate(tracks):
                        if tr[t] is None:
                            continue
                        if tr[t - k] is not None:
                            same.append(iou(tr[t], tr[t - k]))
                        for j, o in enumerate(tracks):
                            if j != i and o[t - k] is not None:
                                other.append(iou(tr[t], o[t - k]))
            same, other = np.array(same), np.array(other)
            print(f"{d} gap {k}: {len(same)} same-track pairs (median IoU {np.median(same):.2f}), {len(other)} pairs of different instances")
            for th in THRESHOLDS:
                print(f"  IoU >= {th:.2f}: same kept {np.mean(same >= th):6.1%}   different passed {np.mean(other >= th):7.3%}")
        print(f"{d}: the iou association on ground-truth masks")
        for th in THRESHOLDS:
            sw, fr, li = (sum(x) for x in zip(*(simulate(tr, th) for tr in by_video.values())))
            print(f"  IoU >= {th:.2f}: {li} links, {sw} identity switches, {fr} fragments")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
