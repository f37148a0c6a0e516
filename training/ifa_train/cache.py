"""Per-video cache at the training input size, so that training is compute-bound.

<cache>/<video_id>/frames.npy  uint8 [T, H, W, 3]   letterboxed RGB
<cache>/<video_id>/ids.npy     uint8 [T, H, W]      instance index map (0 = none, k = track k-1)
<cache>/<video_id>/meta.json   classes of the tracks, letterbox scale, source size
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .letterbox import letterbox_image, letterbox_masks, letterbox_scale
from .ytvis import Dataset, decode_rle, load_dataset

CACHE_VERSION = 1


def cache_dir_for(root: Path, in_h: int, in_w: int) -> Path:
    return root / f"cache_{in_h}x{in_w}"


def build_video(ds: Dataset, vi: int, out: Path, in_h: int, in_w: int, mean: list[float]) -> None:
    v = ds.videos[vi]
    if len(v.tracks) > 254:
        raise ValueError(f"video {v.video_id}: more than 254 tracks do not fit the uint8 id map")
    t_n = len(v.file_names)
    frames = np.empty((t_n, in_h, in_w, 3), np.uint8)
    ids = np.empty((t_n, in_h, in_w), np.uint8)
    for t, name in enumerate(v.file_names):
        with Image.open(ds.root / "JPEGImages" / name) as im:
            frames[t] = letterbox_image(im, in_h, in_w, mean)
        masks = []
        for tr in v.tracks:
            seg = tr.segmentations[t] if t < len(tr.segmentations) else None
            masks.append(None if seg is None else decode_rle(seg, v.height, v.width))
        if all(m is None for m in masks):
            ids[t] = 0
        else:
            shape = (v.height, v.width)
            ids[t] = letterbox_masks([np.zeros(shape, np.uint8) if m is None else m for m in masks], in_h, in_w)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "frames.npy", frames)
    np.save(out / "ids.npy", ids)
    s, nh, nw = letterbox_scale(v.height, v.width, in_h, in_w)
    meta = {
        "version": CACHE_VERSION,
        "video_id": v.video_id,
        "classes": [tr.category_id for tr in v.tracks],
        "scale": s,
        "valid": [nh, nw],
        "source_size": [v.height, v.width],
    }
    (out / "meta.json").write_text(json.dumps(meta))


def build_cache(root: str | Path, in_h: int, in_w: int, mean: list[float], log=print) -> Path:
    """Builds missing video caches; returns the cache directory. Safe to rerun (resumes)."""
    root = Path(root)
    ds = load_dataset(root)
    cdir = cache_dir_for(root, in_h, in_w)
    t0 = time.time()
    for vi, v in enumerate(ds.videos):
        out = cdir / str(v.video_id)
        if (out / "meta.json").exists():
            continue
        build_video(ds, vi, out, in_h, in_w, mean)
        log(f"[cache] {root.name}: video {vi + 1}/{len(ds.videos)} ({len(v.file_names)} frames) {time.time() - t0:.0f}s")
    (cdir / "categories.json").write_text(json.dumps(ds.categories))
    return cdir


def main(argv: list[str] | None = None) -> int:
    from .config import IMAGENET_MEAN

    ap = argparse.ArgumentParser(description="Pre-decode a YouTube-VIS folder at the training input size")
    ap.add_argument("--data", required=True, nargs="+", help="YouTube-VIS roots (instances.json + JPEGImages/)")
    ap.add_argument("--size", default="192x320", help="HxW input size")
    a = ap.parse_args(argv)
    h, w = (int(x) for x in a.size.split("x"))
    for d in a.data:
        build_cache(d, h, w, IMAGENET_MEAN)
    return 0


if __name__ == "__main__":
    sys.exit(main())
