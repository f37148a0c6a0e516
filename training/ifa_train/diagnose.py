"""Quick per-head yardstick on cached videos the model never trained on (minutes, not an AP).

python -m ifa_train.diagnose --ckpt training/runs/NAME/final.pt --data data/tune_std data/tune_hard

Reports, over pairs drawn like training draws them (fixed seed): foreground recall and class
accuracy of the semantic head, intra-offset L1, and the inter-offset L1 of the model against the
"no motion" baseline (inter = own offset, i.e. flow 0) per reference kind (gap 1, 2-3, first frame)
and per case of the instance (the cases that break tracks: moved fast, partly or fully hidden in
the reference, a same-class instance nearby, or none of these).
If the model's inter L1 is not below the baseline's, flow assembly cannot beat center matching.
Pairs are drawn from the data as rendered: no repainting or photometric jitter.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from .cache import build_cache, default_jobs
from .clips import ClipSampler, load_cached_videos
from .config import DataConfig
from .train import load_model


def _normalise(u8: np.ndarray, cfg) -> torch.Tensor:
    x = torch.from_numpy(np.array(u8)).permute(2, 0, 1)[None].float() / 255.0
    m = torch.tensor(cfg.data.mean).view(1, 3, 1, 1)
    s = torch.tensor(cfg.data.std).view(1, 3, 1, 1)
    return (x - m) / s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", nargs="+", required=True, help="YouTube-VIS roots (cached at the size the model trained from)")
    ap.add_argument("--pairs", type=int, default=96)
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    net, cfg, _ = load_model(a.ckpt)
    net.eval()
    h, w = cfg.data.input_size
    ch, cw = cfg.data.cache_size or (h, w)
    caches = [build_cache(d, ch, cw, cfg.data.mean, print, jobs=default_jobs()) for d in a.data]
    videos = load_cached_videos([Path(c) for c in caches], (h, w))
    data = DataConfig(
        **{**cfg.data.__dict__, "flip_prob": 0.0, "ref_targets": False, "attn_strides": (), "restyle_prob": 0.0, "paste_prob": 0.0, "zoom_prob": 0.0}
    )
    sampler = ClipSampler(videos, data, seed=a.seed)
    fg = hit = cls_ok = 0
    off_err = off_n = 0.0
    kinds = {"gap 1": [0.0, 0.0, 0.0], "gap 2-3": [0.0, 0.0, 0.0], "first frame": [0.0, 0.0, 0.0]}
    sizes: list[list[tuple[float, float, float]]] = [[], [], []]
    cases = {c: [0.0, 0.0, 0.0] for c in ("fast (> 16 px)", "hidden in reference", "same class nearby", "none of these")}
    for _ in range(a.pairs):
        v, t, r = sampler.pick()
        if t == r:
            continue
        s = sampler.pair(v, t, r, with_ids=True)
        img_t, img_r = (_normalise(s[k], cfg) for k in ("img_t", "img_r"))
        with torch.no_grad():
            out = net.forward_train(img_t, img_r)
        sem = torch.nn.functional.interpolate(out["semantic"], size=(h, w), mode="bilinear", align_corners=False)[0].argmax(0).numpy()
        gt = s["semantic"]
        m = gt > 0
        fg += int(m.sum())
        hit += int((sem[m] > 0).sum())
        cls_ok += int((sem[m] == gt[m]).sum())
        # Per instance of the target frame: size, semantic recall, peak of the center heatmap on it.
        ids, ids_r = s["ids_t"], s["ids_r"]  # at the input size, as the targets were made
        heat = out["center"][0, 0].numpy()
        for k in np.unique(ids[ids > 0]):
            mk = ids == k
            area = int(mk.sum())
            # Binned by the area in the video's pixels, so that models of other input sizes compare.
            src_area = area / (v.scale * v.scale)
            b = 0 if src_area < 400 else (1 if src_area < 1600 else 2)
            peak = float(heat[mk[1::4, 1::4]].max()) if mk[1::4, 1::4].any() else 0.0
            sizes[b].append((float((sem[mk] > 0).mean()), float((sem[mk] == gt[mk]).mean()), peak))
        om = s["offset_mask"][0] > 0
        off_err += float(np.abs(out["offset"][0].numpy() - s["offset"]).sum(0)[om].sum())
        off_n += float(om.sum())
        im = s["inter_mask"][0] > 0
        if not im.any():
            continue
        model_l1 = np.abs(out["inter_offset"][0].numpy() - s["inter"]).sum(0)[im].sum()
        zero_l1 = np.abs(out["offset"][0].numpy() - s["inter"]).sum(0)[im].sum()
        k = "first frame" if r == 0 and t - r > 3 else ("gap 1" if t - r == 1 else "gap 2-3")
        kinds[k][0] += float(model_l1)
        kinds[k][1] += float(zero_l1)
        kinds[k][2] += float(im.sum())
        # Per instance: which case it is, and its cells' errors.
        cell_ids = ids[1::4, 1::4]
        err_m = np.abs(out["inter_offset"][0].numpy() - s["inter"]).sum(0)
        err_z = np.abs(out["offset"][0].numpy() - s["inter"]).sum(0)
        present = [int(x) for x in np.unique(ids[ids > 0])]
        for kk in present:
            cm = (cell_ids == kk) & im
            if not cm.any():
                continue
            ys, xs = np.nonzero(ids == kk)
            yr, xr = np.nonzero(ids_r == kk)
            area, area_r = len(ys), len(yr)
            move = np.hypot(ys.mean() - yr.mean(), xs.mean() - xr.mean()) if area_r else 0.0
            radius = np.sqrt(area / np.pi)
            near = any(
                v.classes[o - 1] == v.classes[kk - 1] and np.hypot(*(np.array(np.nonzero(ids == o)).mean(1) - (ys.mean(), xs.mean()))) < 4 * radius
                for o in present
                if o != kk
            )
            case = (
                "hidden in reference" if area_r < 0.5 * area else "fast (> 16 px)" if move > 16 else "same class nearby" if near else "none of these"
            )
            cases[case][0] += float(err_m[cm].sum())
            cases[case][1] += float(err_z[cm].sum())
            cases[case][2] += float(cm.sum())
    print(f"semantic: foreground recall {hit / max(fg, 1):.3f}, class accuracy on foreground {cls_ok / max(fg, 1):.3f}")
    print("| instance area (video px) | instances | fg recall | class recall | center peak >= 0.1 | median peak |")
    print("|---|---|---|---|---|---|")
    for name, rows in zip(("< 400", "400-1600", ">= 1600"), sizes):
        if rows:
            r = np.array(rows)
            print(f"| {name} | {len(r)} | {r[:, 0].mean():.3f} | {r[:, 1].mean():.3f} | {(r[:, 2] >= 0.1).mean():.3f} | {np.median(r[:, 2]):.3f} |")
    print(f"intra offset L1 {off_err / max(off_n, 1):.2f} px")
    print("| reference | cells | inter L1 model (px) | inter L1 no motion (px) |")
    print("|---|---|---|---|")
    for k, (mo, ze, n) in kinds.items():
        if n:
            print(f"| {k} | {int(n)} | {mo / n:.2f} | {ze / n:.2f} |")
    print("| case of the instance | cells | inter L1 model (px) | inter L1 no motion (px) |")
    print("|---|---|---|---|")
    for k, (mo, ze, n) in cases.items():
        if n:
            print(f"| {k} | {int(n)} | {mo / n:.2f} | {ze / n:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
