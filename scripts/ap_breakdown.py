#!/usr/bin/env python3
"""Where a results file loses video AP: per-frame mask quality, and oracle edits to score with `ifa eval`.

    scripts/ap_breakdown.py frames GT.json RESULTS.json
        per ground-truth instance-frame, the best IoU of any predicted mask of that frame, by area;
        under IoU 0.5, why it was lost: missed (no mask covers 30% of it), merged (the mask covering
        most of it is over 1.5x its area), partial (the rest)
    scripts/ap_breakdown.py oracle GT.json RESULTS.json track|class OUT.json
        track: every predicted per-frame mask with IoU >= 0.5 against a ground-truth instance takes
        that instance's identity (perfect tracking; class = vote of the predictions, score = mean);
        class: the same and the ground truth's class. Unmatched masks stay in their own tracks.
        Then: target/release/ifa eval --gt GT.json --results OUT.json
Entries of a video with the same masks count once (the highest-scored), as in `ifa eval --breakdown`.

Needs pycocotools and numpy (the project's .venv has both).
The product computes the same numbers with `ifa eval --breakdown`; tests/eval_breakdown.rs
checks it against this script.
"""

import collections
import json
import sys

import numpy as np
from pycocotools import mask as M


def rle(s, h, w):
    if isinstance(s["counts"], list):
        return M.frPyObjects(s, h, w)
    return {"size": s["size"], "counts": s["counts"].encode() if isinstance(s["counts"], str) else s["counts"]}


def frames(gt, res):
    vids = {v["id"]: v for v in gt["videos"]}
    preds = collections.defaultdict(list)
    for r in res:
        for f, s in enumerate(r["segmentations"]):
            if s is not None:
                preds[(r["video_id"], f)].append(s)
    ious, areas, cats, lost = [], [], [], []
    for a in gt["annotations"]:
        v = vids[a["video_id"]]
        h, w = v["height"], v["width"]
        for f, g in enumerate(a["segmentations"]):
            if g is None:
                continue
            ps = preds.get((a["video_id"], f), [])
            gr = rle(g, h, w)
            prs = [rle(p, h, w) for p in ps]
            ious.append(float(M.iou(prs, [gr], [0]).max()) if ps else 0.0)
            areas.append(float(M.area(gr)))
            cats.append(a["category_id"])
            lost.append(why_lost(gr, prs) if ious[-1] < 0.5 else "")
    ious, areas, cats, lost = np.array(ious), np.array(areas), np.array(cats), np.array(lost)

    def why(m):
        return ", ".join(f"{k} {(lost[m] == k).mean():.3f}" for k in ("missed", "merged", "partial"))

    everything = np.ones(len(ious), bool)
    print(
        f"ground-truth instance-frames {len(ious)}: mean best IoU {ious.mean():.3f}, "
        f">= 0.5 {(ious >= 0.5).mean():.3f}, >= 0.75 {(ious >= 0.75).mean():.3f}, {why(everything)}"
    )
    for lo, hi in ((0, 1000), (1000, 4000), (4000, float("inf"))):
        m = (areas >= lo) & (areas < hi)
        if m.any():
            print(
                f"  area [{lo}, {hi}) px: {m.sum()} instance-frames, mean best IoU {ious[m].mean():.3f}, >= 0.5 {(ious[m] >= 0.5).mean():.3f}, {why(m)}"
            )
    for c in sorted(gt["categories"], key=lambda c: c["id"]):
        m = cats == c["id"]
        if m.any():
            print(f"  class {c['id']}: {m.sum()} instance-frames, mean best IoU {ious[m].mean():.3f}, >= 0.5 {(ious[m] >= 0.5).mean():.3f}")


def why_lost(gr, prs):
    """missed / merged / partial from the predicted mask covering most of `gr` (the first on a tie)."""
    area = float(M.area(gr))
    best, best_area = 0.0, 0.0
    for p in prs:
        inter = float(M.area(M.merge([p, gr], intersect=True)))
        if inter > best:
            best, best_area = inter, float(M.area(p))
    if best == 0.0 or best < 0.3 * area:
        return "missed"
    return "merged" if best_area > 1.5 * area else "partial"


def oracle(gt, res, mode, out_path):
    vids = {v["id"]: v for v in gt["videos"]}
    gts = collections.defaultdict(list)
    for a in gt["annotations"]:
        gts[a["video_id"]].append(a)
    merged, leftovers = {}, {}
    for n, r in enumerate(res):
        v = vids[r["video_id"]]
        h, w = v["height"], v["width"]
        for f, s in enumerate(r["segmentations"]):
            if s is None:
                continue
            pr = rle(s, h, w)
            best, hit = 0.0, None
            for a in gts[r["video_id"]]:
                g = a["segmentations"][f]
                if g is not None:
                    iou = float(M.iou([pr], [rle(g, h, w)], [0])[0][0])
                    if iou > best:
                        best, hit = iou, a
            if hit is not None and best >= 0.5:
                e = merged.setdefault(
                    (r["video_id"], hit["id"]),
                    {"video_id": r["video_id"], "segs": [None] * v["length"], "cats": [], "scores": [], "gt_cat": hit["category_id"]},
                )
                if e["segs"][f] is None:
                    e["segs"][f] = s
                    e["cats"].append(r["category_id"])
                    e["scores"].append(r["score"])
            else:
                t = leftovers.setdefault(
                    n, {"video_id": r["video_id"], "category_id": r["category_id"], "score": r["score"], "segmentations": [None] * v["length"]}
                )
                t["segmentations"][f] = s
    out = [
        {
            "video_id": e["video_id"],
            "category_id": e["gt_cat"] if mode == "class" else collections.Counter(e["cats"]).most_common(1)[0][0],
            "score": float(np.mean(e["scores"])),
            "segmentations": e["segs"],
        }
        for e in merged.values()
    ]
    out += list(leftovers.values())
    with open(out_path, "w") as f:
        json.dump(out, f)
    print(f"{len(res)} predicted tracks -> {len(out)} ({len(merged)} matched to ground truth); wrote {out_path}")


def one_entry_per_track(res):
    """Entries of a video with equal masks are one track seen under several classes: keep the
    highest-scored (the first on a tie) where the first of them was."""
    out, slot = [], {}
    for r in res:
        key = (r["video_id"], json.dumps(r["segmentations"], sort_keys=True))
        if key in slot:
            if r["score"] > out[slot[key]]["score"]:
                out[slot[key]] = r
        else:
            slot[key] = len(out)
            out.append(r)
    return out


def main(argv):
    if len(argv) >= 3 and argv[0] == "frames":
        frames(json.load(open(argv[1])), one_entry_per_track(json.load(open(argv[2]))))
    elif len(argv) == 5 and argv[0] == "oracle" and argv[3] in ("track", "class"):
        oracle(json.load(open(argv[1])), one_entry_per_track(json.load(open(argv[2]))), argv[3], argv[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
