"""Minimal YouTube-VIS reader: videos, categories and per-frame RLE masks (via pycocotools)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils


@dataclass
class Track:
    track_id: int
    category_id: int
    segmentations: list  # per frame: RLE dict (compressed or uncompressed) or None


@dataclass
class Video:
    video_id: int
    width: int
    height: int
    file_names: list[str]
    tracks: list[Track]


@dataclass
class Dataset:
    root: Path
    categories: list[str]  # index i is category id i+1
    videos: list[Video]


def decode_rle(rle: dict, height: int, width: int) -> np.ndarray:
    """Binary mask (h, w) uint8 from a compressed or uncompressed (list counts) RLE."""
    if isinstance(rle.get("counts"), list):
        rle = mask_utils.frPyObjects(rle, height, width)
    elif isinstance(rle.get("counts"), str):
        rle = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
    return mask_utils.decode(rle)


def load_dataset(root: str | Path, ann_file: str = "instances.json") -> Dataset:
    root = Path(root)
    with open(root / ann_file) as f:
        js = json.load(f)
    cats = sorted(js["categories"], key=lambda c: c["id"])
    if [c["id"] for c in cats] != list(range(1, len(cats) + 1)):
        raise ValueError(f"{root / ann_file}: category ids must be 1..K, got {[c['id'] for c in cats]}")
    by_video: dict[int, list[Track]] = {}
    for a in js.get("annotations", []):
        by_video.setdefault(a["video_id"], []).append(Track(a["id"], a["category_id"], a["segmentations"]))
    videos = [Video(v["id"], v["width"], v["height"], list(v["file_names"]), by_video.get(v["id"], [])) for v in js["videos"]]
    return Dataset(root, [c["name"] for c in cats], videos)
