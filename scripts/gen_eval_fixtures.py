#!/usr/bin/env python3
"""Generate random YouTube-VIS GT/result pairs and the official evaluator's answers for them.

The official evaluator is the copy of youtubevos/cocoapi's ytvos.py/ytvoseval.py shipped inside
the PyPI wheel mmdet==3.3.0 (loaded by path, without importing mmdet itself), see
docs/evaluation.md §9. Needs: numpy, pycocotools, and `pip install --no-deps mmdet==3.3.0`.

Usage:  .venv/bin/python scripts/gen_eval_fixtures.py [--count 320] [--seed 7] [--out tests/fixtures/eval]

Each fixture case_NNN.json = {"name", "kind", "gt", "results",
  "expected": {"stats": [12], "per_category_ap": [K, null = undefined], "recall": flat [T,K,A,M],
               "precision": flat [T,R,K,A,M] (only in some cases, to keep the folder small)}}
Floats are written with repr(), so they round-trip exactly.
"""

import argparse
import contextlib
import copy
import importlib.util
import io
import json
import os

import numpy as np
from pycocotools import mask as mask_utils


def load_oracle():
    spec = importlib.util.find_spec("mmdet")  # finds the package without running mmdet/__init__
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install --no-deps mmdet==3.3.0 first")
    base = os.path.join(list(spec.submodule_search_locations)[0], "evaluation", "functional")
    mods = []
    for name in ("ytvis", "ytviseval"):
        s = importlib.util.spec_from_file_location("ytvis_oracle_" + name, os.path.join(base, name + ".py"))
        m = importlib.util.module_from_spec(s)
        s.loader.exec_module(m)
        mods.append(m)
    if not hasattr(np, "float"):  # the copied accumulate() still uses the removed alias
        np.float = float
    return mods


def run_oracle(oracle, gt, results):
    ytvis, ytviseval = oracle
    with contextlib.redirect_stdout(io.StringIO()):
        g = ytvis.YTVIS(copy.deepcopy(gt))
        d = g.loadRes(copy.deepcopy(results))
        ev = ytviseval.YTVISeval(g, d, "segm")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


# ---------------------------------------------------------------- masks and RLE


def compressed(m):
    r = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": r["counts"].decode("ascii")}


def uncompressed(m):
    flat = m.astype(np.uint8).flatten(order="F")
    counts, cur, run = [], 0, 0
    for v in flat:
        if v != cur:
            counts.append(run)
            run, cur = 0, v
        run += 1
    counts.append(run)
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": counts}


def blob(rng, h, w, big=False):
    m = np.zeros((h, w), dtype=bool)
    for _ in range(rng.integers(1, 3)):
        if big:
            bh, bw = rng.integers(h // 3, h), rng.integers(w // 3, w)
        else:
            bh = rng.integers(max(1, h // 4), max(2, 2 * h // 3 + 1))
            bw = rng.integers(max(1, w // 4), max(2, 2 * w // 3 + 1))
        y, x = rng.integers(0, h - bh + 1), rng.integers(0, w - bw + 1)
        if rng.random() < 0.5:
            m[y : y + bh, x : x + bw] = True
        else:
            yy, xx = np.mgrid[0:h, 0:w]
            cy, cx = y + bh / 2, x + bw / 2
            m |= ((yy - cy) / max(bh / 2, 0.5)) ** 2 + ((xx - cx) / max(bw / 2, 0.5)) ** 2 <= 1
    if not big and rng.random() < 0.2:
        m ^= rng.random((h, w)) < 0.05  # a few stray pixels: more runs
    return m


def perturb(rng, m, big):
    h, w = m.shape
    out = m
    if rng.random() < 0.4:
        out = np.roll(out, (rng.integers(-1, 2), rng.integers(-1, 2)), axis=(0, 1))
    if not big and rng.random() < 0.3:
        out = out ^ (rng.random((h, w)) < 0.03)
    return out


# ---------------------------------------------------------------- cases

SCORE_TIES = [0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0]


def make_case(rng, kind):
    big = kind == "large"
    n_vid = 1 if kind in ("large", "manydets") else int(rng.integers(1, 4))
    n_cat = int(rng.integers(9, 13)) if kind == "manycats" else int(rng.integers(1, 5))
    vid_ids = [int(v) for v in rng.choice(np.arange(1, 500), n_vid, replace=False)]
    cat_ids = [int(c) for c in rng.choice(np.arange(1, 60), n_cat, replace=False)]
    videos, masks = [], {}
    for vid in vid_ids:
        if big:
            h, w = int(rng.integers(200, 330)), int(rng.integers(250, 400))
        elif kind == "manydets":
            h, w = int(rng.integers(4, 9)), int(rng.integers(4, 9))
        else:
            h, w = int(rng.integers(3, 31)), int(rng.integers(3, 41))
        n = int(rng.integers(1, 4 if big else 7))
        videos.append({"id": vid, "width": w, "height": h, "length": n, "file_names": [f"{vid}/{i:05d}.jpg" for i in range(n)]})
    rng.shuffle(videos)  # file order != id order
    uncompressed_gt = rng.random() < 0.5
    zero_id = rng.random() < 0.05
    anns, next_id = [], 1
    for v in videos:
        vid, h, w, n = v["id"], v["height"], v["width"], v["length"]
        n_tracks = 0 if rng.random() < 0.1 else int(rng.integers(1, 4))
        for _ in range(n_tracks + (1 if kind == "manydets" else 0)):
            cat = int(rng.choice(cat_ids))
            segs, areas, track = [], [], []
            for _f in range(n):
                u = rng.random()
                if u < 0.12:
                    segs.append(None), areas.append(None), track.append(None)
                    continue
                m = np.zeros((h, w), bool) if u < 0.16 else blob(rng, h, w, big)
                track.append(m)
                enc = uncompressed(m) if (uncompressed_gt and rng.random() < 0.8) else compressed(m)
                segs.append(enc)
                areas.append(int(m.sum()))
            if rng.random() < 0.25:  # GT areas are trusted as given: exercise every area range
                areas = [
                    rng.choice([16384, 65536, 16383.5, 70000.25, 30000, 0, None, 5]) if a is not None or rng.random() < 0.3 else a for a in areas
                ]
                areas = [None if a is None else (float(a) if isinstance(a, float) else int(a)) for a in areas]
            ann_id = 0 if (zero_id and next_id == 1) else next_id
            next_id += 1
            anns.append(
                {
                    "id": ann_id,
                    "video_id": vid,
                    "category_id": cat,
                    "segmentations": segs,
                    "areas": areas,
                    "bboxes": [None] * n,
                    "iscrowd": int(rng.random() < 0.1),
                }
            )
            masks[ann_id] = (vid, cat, track)
    cats = [{"id": c, "name": f"cat{c}", "supercategory": "thing"} for c in cat_ids]
    gt = {"info": {}, "licenses": [], "videos": videos, "categories": cats, "annotations": anns}

    def score():
        return float(rng.choice(SCORE_TIES)) if rng.random() < 0.6 else float(round(rng.random(), 3))

    def dt_frames(h, w, n, track):
        frames = []
        for f in range(n):
            src = track[f] if track is not None and f < len(track) else None
            u = rng.random()
            if u < 0.06:
                frames.append(None)
            elif u < 0.09 and not big:
                frames.append(compressed(np.zeros((h, w), bool)))
            elif u < 0.13:  # a mask at another resolution
                frames.append(compressed(blob(rng, max(2, h // 2), max(2, w // 2 + 1))))
            elif src is not None:
                frames.append(compressed(perturb(rng, src, big)))
            else:
                frames.append(compressed(blob(rng, h, w, big)))
        return frames

    results = []
    vinfo = {v["id"]: v for v in videos}
    if kind == "unknowncat":
        bad_cat = max(cat_ids) + 1
        for v in videos:
            results.append(
                {"video_id": v["id"], "category_id": bad_cat, "score": 0.5, "segmentations": dt_frames(v["height"], v["width"], v["length"], None)}
            )
        return gt, results
    for ann in anns:
        vid, cat, track = masks[ann["id"]]
        v = vinfo[vid]
        for _ in range(int(rng.integers(0, 3))):
            n = v["length"]
            u = rng.random()
            if u < 0.15:
                n = int(rng.integers(0, n + 1))  # truncated sequence
            elif u < 0.25:
                n = n + int(rng.integers(1, 3))  # longer than the video
            c = cat if rng.random() < 0.85 else int(rng.choice(cat_ids))
            results.append({"video_id": vid, "category_id": c, "score": score(), "segmentations": dt_frames(v["height"], v["width"], n, track)})
    for v in videos:  # false positives, some in a category the GT lacks
        for _ in range(int(rng.integers(0, 4))):
            c = int(rng.choice(cat_ids)) if rng.random() < 0.9 else max(cat_ids) + 7
            results.append(
                {"video_id": v["id"], "category_id": c, "score": score(), "segmentations": dt_frames(v["height"], v["width"], v["length"], None)}
            )
    if kind == "manydets":
        v = videos[0]
        c = anns[0]["category_id"] if anns else cat_ids[0]
        track = masks[anns[0]["id"]][2] if anns else None
        for _ in range(int(rng.integers(95, 130))):
            results.append(
                {"video_id": v["id"], "category_id": c, "score": score(), "segmentations": dt_frames(v["height"], v["width"], v["length"], track)}
            )
    order = rng.permutation(len(results))
    results = [results[i] for i in order]
    if not results:  # the official loader cannot take an empty list
        v = videos[0]
        results.append(
            {"video_id": v["id"], "category_id": cat_ids[0], "score": 0.3, "segmentations": dt_frames(v["height"], v["width"], v["length"], None)}
        )
    return gt, results


def expected_of(ev, with_precision):
    prec = ev.eval["precision"]
    per_cat = []
    for k in range(prec.shape[2]):
        p = prec[:, :, k, 0, -1]
        p = p[p > -1]
        per_cat.append(float(np.mean(p)) if p.size else None)
    out = {"stats": [float(x) for x in ev.stats], "per_category_ap": per_cat, "recall": [float(x) for x in ev.eval["recall"].flatten()]}
    if with_precision:
        out["precision"] = [float(x) for x in prec.flatten()]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=320)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="tests/fixtures/eval")
    args = ap.parse_args()
    oracle = load_oracle()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    kinds = ["small"] * 12 + ["large"] * 3 + ["manycats"] * 2 + ["manydets"] + ["unknowncat"]
    for i in range(args.count):
        kind = kinds[i % len(kinds)]
        gt, results = make_case(rng, kind)
        ev = run_oracle(oracle, gt, results)
        case = {"name": f"case_{i:03d}", "kind": kind, "gt": gt, "results": results, "expected": expected_of(ev, with_precision=(i % 40 == 0))}
        with open(os.path.join(args.out, f"case_{i:03d}.json"), "w") as f:
            json.dump(case, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
