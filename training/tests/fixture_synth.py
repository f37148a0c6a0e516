"""A tiny shapes-world generator in YouTube-VIS format, for tests when `ifa synth` is missing.

Not the project's generator: only enough of docs/shapes-world.md (six classes, motion,
occlusion by layering, JPEG frames, RLE masks) to exercise the training pipeline.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

CLASSES = ["disc", "square", "triangle", "star", "ring", "cross"]


def _polygon(cls: str, cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    def ring_pts(rs, n, phase=0.0):
        return [
            (cx + rr * math.cos(rot + phase + 2 * math.pi * i / n), cy + rr * math.sin(rot + phase + 2 * math.pi * i / n))
            for i, rr in zip(range(n), rs)
        ]

    if cls == "square":
        return ring_pts([r] * 4, 4)
    if cls == "triangle":
        return ring_pts([r] * 3, 3)
    if cls == "star":
        return ring_pts([r if i % 2 == 0 else 0.45 * r for i in range(10)], 10)
    if cls == "cross":
        a, b = r, 0.17 * r
        pts = [(b, a), (b, b), (a, b), (a, -b), (b, -b), (b, -a), (-b, -a), (-b, -b), (-a, -b), (-a, b), (-b, b), (-b, a)]
        c, s = math.cos(rot), math.sin(rot)
        return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]
    raise ValueError(cls)


def _draw(cls: str, size: tuple[int, int], cx: float, cy: float, r: float, rot: float) -> np.ndarray:
    im = Image.new("L", size, 0)
    d = ImageDraw.Draw(im)
    if cls in ("disc", "ring"):
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        if cls == "ring":
            ri = 0.55 * r
            d.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=0)
    else:
        d.polygon(_polygon(cls, cx, cy, r, rot), fill=255)
    return np.asarray(im) > 127


def generate(out: str | Path, videos: int = 2, frames: int = 8, width: int = 160, height: int = 96, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    out = Path(out)
    js = {"videos": [], "annotations": [], "categories": [{"id": i + 1, "name": c} for i, c in enumerate(CLASSES)]}
    ann_id = 1
    yy, xx = np.mgrid[0:height, 0:width]
    for vi in range(1, videos + 1):
        name = f"video{vi:03d}"
        (out / "JPEGImages" / name).mkdir(parents=True, exist_ok=True)
        n = int(rng.integers(1, 4))
        objs = []
        for _ in range(n):
            objs.append(
                {
                    "cls": int(rng.integers(0, 6)),
                    "p": rng.uniform([0.2 * height, 0.2 * width], [0.8 * height, 0.8 * width]),
                    "v": rng.uniform(-0.03, 0.03, 2) * width,
                    "r": rng.uniform(0.08, 0.22) * min(width, height),
                    "rot": rng.uniform(0, 2 * math.pi),
                    "w": rng.uniform(-0.1, 0.1),
                    "col": rng.integers(0, 256, 3),
                }
            )
        bg0, bg1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        bg = bg0[None, None] * (1 - xx / width)[..., None] + bg1[None, None] * (xx / width)[..., None]
        segs = [[] for _ in objs]
        names = []
        for t in range(frames):
            img = bg.copy()
            ids = np.zeros((height, width), np.int32)
            for k, o in enumerate(objs):  # later objects are on top
                p = o["p"] + o["v"] * t
                m = _draw(CLASSES[o["cls"]], (width, height), p[1], p[0], o["r"], o["rot"] + o["w"] * t)
                img[m] = o["col"]
                ids[m] = k + 1
            img += rng.normal(0, 4, img.shape)
            fn = f"{name}/{t:05d}.jpg"
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(out / "JPEGImages" / fn, quality=92)
            names.append(fn)
            for k in range(len(objs)):
                m = ids == k + 1
                if m.any():
                    rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
                    segs[k].append({"size": [height, width], "counts": rle["counts"].decode("ascii")})
                else:
                    segs[k].append(None)
        js["videos"].append({"id": vi, "width": width, "height": height, "length": frames, "file_names": names})
        for k, o in enumerate(objs):
            areas = [None if s is None else float(mask_utils.area({"size": s["size"], "counts": s["counts"].encode()})) for s in segs[k]]
            js["annotations"].append(
                {
                    "id": ann_id,
                    "video_id": vi,
                    "category_id": o["cls"] + 1,
                    "iscrowd": 0,
                    "segmentations": segs[k],
                    "areas": areas,
                    "bboxes": [None] * frames,
                }
            )
            ann_id += 1
    (out / "instances.json").write_text(json.dumps(js))
    return out
