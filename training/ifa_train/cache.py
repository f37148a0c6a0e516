"""Per-video cache at the training input size, so that training is compute-bound.

<cache>/<video_id>/frames.npy  uint8 [T, H, W, 3]   letterboxed RGB
<cache>/<video_id>/ids.npy     uint8 [T, H, W]      instance index map (0 = none, k = track k-1)
<cache>/<video_id>/meta.json   classes of the tracks, letterbox scale, source size
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from .letterbox import letterbox_image, letterbox_masks, letterbox_scale
from .ytvis import Dataset, decode_rle, load_dataset

CACHE_VERSION = 1

# With `codec_mix`, a video's frames pass through H.264 at one of these x264 CRFs (None: the
# JPEG frames as they are), drawn per video: `ifa run` reads H.264 of unknown quality, and the
# blocking, ringing and chroma subsampling it brings are part of what the network must see.
CODEC_CRFS = (None, 20, 26, 32, 38)
CODEC_WEIGHTS = (0.3, 0.25, 0.2, 0.15, 0.1)


def cache_dir_for(root: Path, in_h: int, in_w: int, codec_mix: bool = False) -> Path:
    return root / (f"cache_{in_h}x{in_w}" + ("_h264mix" if codec_mix else ""))


def _through_h264(pictures: list[Image.Image], crf: int) -> list[Image.Image]:
    """Encodes the frames with x264 (yuv420p) at `crf` and decodes them again, as ffmpeg would."""
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("codec_mix needs the ffmpeg command (scripts/setup.sh installs it)")
    w, h = pictures[0].size
    raw = b"".join(np.asarray(p.convert("RGB"), np.uint8).tobytes() for p in pictures)
    with tempfile.TemporaryDirectory() as td:
        mp4 = Path(td) / "v.mp4"
        enc = [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{w}x{h}",
            "-r",
            "25",
            "-i",
            "-",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            str(crf),
            "-pix_fmt",
            "yuv420p",
            str(mp4),
        ]
        subprocess.run(enc, input=raw, check=True)
        dec = ["ffmpeg", "-v", "error", "-i", str(mp4), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        out = subprocess.run(dec, check=True, capture_output=True).stdout
    n = len(out) // (w * h * 3)
    if n != len(pictures):
        raise RuntimeError(f"H.264 round trip gave {n} frames for {len(pictures)}")
    arr = np.frombuffer(out, np.uint8).reshape(n, h, w, 3)
    return [Image.fromarray(a) for a in arr]


def build_video(ds: Dataset, vi: int, out: Path, in_h: int, in_w: int, mean: list[float], codec_mix: bool = False) -> None:
    v = ds.videos[vi]
    if len(v.tracks) > 254:
        raise ValueError(f"video {v.video_id}: more than 254 tracks do not fit the uint8 id map")
    t_n = len(v.file_names)
    frames = np.empty((t_n, in_h, in_w, 3), np.uint8)
    ids = np.empty((t_n, in_h, in_w), np.uint8)
    pictures = []
    for name in v.file_names:
        with Image.open(ds.root / "JPEGImages" / name) as im:
            pictures.append(im.convert("RGB"))
    crf = None
    if codec_mix:
        rng = np.random.default_rng(10007 * int(v.video_id) + 17)
        crf = CODEC_CRFS[int(rng.choice(len(CODEC_CRFS), p=CODEC_WEIGHTS))]
        if crf is not None:
            pictures = _through_h264(pictures, crf)
    for t in range(len(v.file_names)):
        frames[t] = letterbox_image(pictures[t], in_h, in_w, mean)
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
        "h264_crf": crf,
    }
    (out / "meta.json").write_text(json.dumps(meta))


# One worker process's dataset, loaded once by `_worker_init` (a video's task then sends only its index).
_WORKER: dict = {}


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread inside: its resize rounds a few pixels in 10^5 differently with
    another thread count, so every cache is built on one, whatever the process's setting (and a
    pool of processes, not torch's threads, spreads the work over the cores)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _worker_init(root: str, in_h: int, in_w: int, mean: list[float], codec_mix: bool) -> None:
    import torch

    torch.set_num_threads(1)  # as `one_torch_thread`, for the worker's whole life
    _WORKER.update(ds=load_dataset(Path(root)), args=(in_h, in_w, mean, codec_mix))


def _worker_build(vi: int, out: str) -> int:
    in_h, in_w, mean, codec_mix = _WORKER["args"]
    build_video(_WORKER["ds"], vi, Path(out), in_h, in_w, mean, codec_mix)
    return vi


def default_jobs(world_size: int = 1) -> int:
    """Worker processes per rank: the cores this process may use, shared among the ranks of one machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // max(1, world_size))


def build_cache(
    root: str | Path,
    in_h: int,
    in_w: int,
    mean: list[float],
    log=print,
    codec_mix: bool = False,
    jobs: int = 1,
    shard: tuple[int, int] = (0, 1),
) -> Path:
    """Builds missing video caches; returns the cache directory. Safe to rerun (resumes).

    `shard` (i, n) builds only the videos at positions p with p % n == i, so that the ranks of a
    distributed run share the work; `jobs` > 1 builds that many videos at once in worker
    processes. Each video's cache depends only on the video (its H.264 quality is drawn from its
    id, and torch resizes it on one thread), so any split gives the same files."""
    root = Path(root)
    ds = load_dataset(root)
    cdir = cache_dir_for(root, in_h, in_w, codec_mix)
    t0 = time.time()
    i, n = shard

    def out_dir(vi: int) -> Path:
        return cdir / str(ds.videos[vi].video_id)

    # meta.json is written last: a video without it was not finished and is built again.
    todo = [vi for vi in range(len(ds.videos)) if vi % n == i and not (out_dir(vi) / "meta.json").exists()]

    def done(vi: int, k: int) -> None:
        v = ds.videos[vi]
        log(f"[cache] {root.name}: video {vi + 1}/{len(ds.videos)} ({len(v.file_names)} frames; {k}/{len(todo)} built here) {time.time() - t0:.0f}s")

    if jobs <= 1 or len(todo) <= 1:
        with one_torch_thread():
            for k, vi in enumerate(todo, 1):
                build_video(ds, vi, out_dir(vi), in_h, in_w, mean, codec_mix)
                done(vi, k)
    else:
        # Spawned, not forked: the parent may hold torch's thread pools, which a fork does not carry safely.
        init = (str(root), in_h, in_w, list(mean), codec_mix)
        with ProcessPoolExecutor(min(jobs, len(todo)), mp_context=get_context("spawn"), initializer=_worker_init, initargs=init) as pool:
            futures = [pool.submit(_worker_build, vi, str(out_dir(vi))) for vi in todo]
            for k, f in enumerate(as_completed(futures), 1):
                done(f.result(), k)
    cdir.mkdir(parents=True, exist_ok=True)
    # Every rank writes the same file: through a temporary name, so that no reader sees half of it.
    tmp = cdir / f"categories.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(ds.categories))
    tmp.replace(cdir / "categories.json")
    return cdir


def main(argv: list[str] | None = None) -> int:
    from .config import IMAGENET_MEAN

    ap = argparse.ArgumentParser(description="Pre-decode a YouTube-VIS folder at the training input size")
    ap.add_argument("--data", required=True, nargs="+", help="YouTube-VIS roots (instances.json + JPEGImages/)")
    ap.add_argument("--size", default="192x320", help="HxW input size")
    ap.add_argument("--codec-mix", action="store_true", help="pass each video through H.264 at a random CRF first")
    ap.add_argument("--jobs", type=int, default=default_jobs(), help="videos built at once (default: the usable cores)")
    a = ap.parse_args(argv)
    h, w = (int(x) for x in a.size.split("x"))
    for d in a.data:
        build_cache(d, h, w, IMAGENET_MEAN, codec_mix=a.codec_mix, jobs=a.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
