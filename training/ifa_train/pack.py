"""Training caches in a form small enough to move to another machine (a rented GPU, say).

A cache at 352x640 is about 0.9 MB per frame (frames.npy + ids.npy); a pack holds each video's
frames as H.264 (x264, yuv420p, `--crf`) and its id maps lossless (LZMA), 2-3 KB per frame at
CRF 23, so a few hundred videos travel in tens of megabytes. Restoring gives a training root that
`ifa_train.train --data` reads as it is: `instances.json` listing the videos (no annotations and
no JPEG frames: the complete cache is what training reads) and the cache folder.

The frames come back through one more H.264 generation: close to the cache, not equal to it
(the id maps are exact). `--max-frames` keeps each video's first N frames only.

python -m ifa_train.pack pack --data data/tr_std --size 352x640 --codec-mix --out packs/tr_std
python -m ifa_train.pack unpack --pack packs/tr_std --out /scratch/tr_std
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .cache import cache_dir_for

# 2: the manifest names the settings (crf, max_frames) and says whether the pack is complete;
# a version-1 pack (before that) is refused rather than taken for an unfinished one.
PACK_VERSION = 2


def _ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def encode_frames(frames: np.ndarray, path: Path, crf: int) -> None:
    """[T, H, W, 3] uint8 RGB -> H.264 mp4 at `crf` (x264 needs even sizes: the cache's are)."""
    if _ffmpeg() is None:
        raise RuntimeError("packing needs the ffmpeg command (scripts/setup.sh installs it)")
    t, h, w, _ = frames.shape
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", "25", "-i", "-"]
    cmd += ["-c:v", "libx264", "-preset", "slow", "-crf", str(crf), "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, input=np.ascontiguousarray(frames).tobytes(), check=True)


def decode_frames(path: Path, t: int, h: int, w: int) -> np.ndarray:
    """An mp4 -> [T, H, W, 3] uint8 RGB, through the ffmpeg command or, where there is none, OpenCV."""
    if _ffmpeg() is not None:
        cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        raw = subprocess.run(cmd, check=True, capture_output=True).stdout
        if len(raw) != t * h * w * 3:
            raise ValueError(f"{path}: decoded {len(raw)} bytes, expected {t} frames of {w}x{h}")
        return np.frombuffer(raw, np.uint8).reshape(t, h, w, 3).copy()
    try:
        import cv2
    except ImportError as e:
        raise RuntimeError("unpacking needs the ffmpeg command or OpenCV (opencv-python-headless)") from e
    cap = cv2.VideoCapture(str(path))
    out = np.empty((t, h, w, 3), np.uint8)
    n = 0
    while n <= t:
        ok, bgr = cap.read()
        if not ok:
            break
        if n == t or bgr.shape[:2] != (h, w):
            raise ValueError(f"{path}: more than {t} frames, or frames not {w}x{h}")
        out[n] = bgr[:, :, ::-1]
        n += 1
    cap.release()
    if n != t:
        raise ValueError(f"{path}: decoded {n} frames, expected {t}")
    return out


def pack_video(src: Path, dst: Path, crf: int, max_frames: int | None) -> int:
    """One cached video -> `<id>.mp4`, `<id>.ids.xz`, `<id>.json` in `dst`; returns the bytes written."""
    meta = json.loads((src / "meta.json").read_text())
    frames = np.load(src / "frames.npy", mmap_mode="r")
    ids = np.load(src / "ids.npy", mmap_mode="r")
    n = frames.shape[0] if max_frames is None else min(frames.shape[0], max_frames)
    vid = str(meta["video_id"])
    encode_frames(np.asarray(frames[:n]), dst / f"{vid}.mp4", crf)
    (dst / f"{vid}.ids.xz").write_bytes(lzma.compress(np.ascontiguousarray(ids[:n]).tobytes(), preset=6))
    info = {"meta": meta, "frames": n, "height": int(frames.shape[1]), "width": int(frames.shape[2]), "crf": crf}
    (dst / f"{vid}.json").write_text(json.dumps(info))  # last: a video without it is packed again
    return sum((dst / f"{vid}{ext}").stat().st_size for ext in (".mp4", ".ids.xz", ".json"))


def _pack_one(args: tuple[str, str, int, int | None]) -> int:
    src, dst, crf, max_frames = args
    return pack_video(Path(src), Path(dst), crf, max_frames)


def _manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "pack.json").read_text())
    except FileNotFoundError:
        return None


def pack(cache: Path, out: Path, crf: int = 23, max_frames: int | None = None, jobs: int = 1, log=print) -> int:
    """Every video of `cache` (a cache folder, as `cache.cache_dir_for` names it) into `out`: a new
    folder, or an unfinished pack of the same cache, which is resumed."""
    cats = cache / "categories.json"
    if not cats.exists():
        raise FileNotFoundError(f"{cache}: no categories.json (not a finished cache)")
    if out.resolve() == cache.resolve() or cache.resolve() in out.resolve().parents:
        raise ValueError(f"{out}: a pack may not be written inside the cache it packs")
    manifest = {"version": PACK_VERSION, "categories": json.loads(cats.read_text()), "cache": cache.name, "crf": crf, "max_frames": max_frames}
    # The manifest comes first: a folder with content and no manifest is someone else's, and a
    # pack never writes its files over theirs.
    if out.exists() and any(out.iterdir()):
        found = _manifest(out)
        if found is None or {k: v for k, v in found.items() if k != "complete"} != manifest:
            raise FileExistsError(f"{out}: not empty and not a pack of {cache.name} with these settings; give a new folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / "pack.json").write_text(json.dumps({**manifest, "complete": False}))
    videos = sorted((p for p in cache.iterdir() if (p / "meta.json").exists()), key=lambda p: p.name)
    todo = [p for p in videos if not (out / f"{json.loads((p / 'meta.json').read_text())['video_id']}.json").exists()]
    t0, total = time.time(), 0
    work = [(str(p), str(out), crf, max_frames) for p in todo]
    with ProcessPoolExecutor(max(1, jobs)) as pool:
        for k, size in enumerate(pool.map(_pack_one, work), 1):
            total += size
            if k % 10 == 0 or k == len(work):
                log(f"[pack] {cache}: {k}/{len(work)} videos, {total / 1e6:.1f} MB, {time.time() - t0:.0f}s")
    (out / "pack.json").write_text(json.dumps({**manifest, "complete": True}))
    return total


def _unpack_one(args: tuple[str, str, str]) -> dict:
    """One packed video into the cache folder; returns its entry of `instances.json`."""
    src, info_name, cdir = args
    info = json.loads((Path(src) / info_name).read_text())
    meta, t, h, w = info["meta"], info["frames"], info["height"], info["width"]
    vid = str(meta["video_id"])
    frames = decode_frames(Path(src) / f"{vid}.mp4", t, h, w)
    ids = np.frombuffer(lzma.decompress((Path(src) / f"{vid}.ids.xz").read_bytes()), np.uint8)
    if ids.size != t * h * w:
        raise ValueError(f"{src}/{vid}.ids.xz: {ids.size} id-map pixels, expected {t}x{h}x{w}")
    d = Path(cdir) / vid
    d.mkdir(parents=True, exist_ok=True)
    np.save(d / "frames.npy", frames)
    np.save(d / "ids.npy", ids.reshape(t, h, w))
    (d / "meta.json").write_text(json.dumps(meta))  # last, as the cache writes it
    src_h, src_w = meta["source_size"]
    names = [f"{vid}/{i:05d}.jpg" for i in range(t)]
    return {"id": meta["video_id"], "width": src_w, "height": src_h, "length": t, "file_names": names}


def unpack(src: Path, out: Path, jobs: int = 1, log=print) -> Path:
    """A pack -> a training root at `out` (refused if `out` holds anything already)."""
    manifest = _manifest(src)
    if manifest is None:
        raise FileNotFoundError(f"{src}: no pack.json (not a pack)")
    if manifest.get("version") != PACK_VERSION:
        raise ValueError(f"{src}: pack version {manifest.get('version')}, this reader knows {PACK_VERSION}")
    if not manifest.get("complete"):
        raise ValueError(f"{src}: an unfinished pack (run the same pack command again to finish it)")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: not empty; unpack writes a new training root")
    cdir = out / manifest["cache"]
    cdir.mkdir(parents=True, exist_ok=True)
    infos = sorted(p.name for p in src.glob("*.json") if p.name != "pack.json")
    t0 = time.time()
    videos = []
    with ProcessPoolExecutor(max(1, jobs)) as pool:
        for k, entry in enumerate(pool.map(_unpack_one, [(str(src), n, str(cdir)) for n in infos]), 1):
            videos.append(entry)
            if k % 50 == 0 or k == len(infos):
                log(f"[unpack] {src}: {k}/{len(infos)} videos, {time.time() - t0:.0f}s")
    cats = [{"id": i + 1, "name": c} for i, c in enumerate(manifest["categories"])]
    (out / "instances.json").write_text(json.dumps({"videos": videos, "annotations": [], "categories": cats}))
    (cdir / "categories.json").write_text(json.dumps(manifest["categories"]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Pack training caches small enough to move, or restore them")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="YouTube-VIS roots with a built cache -> one pack folder each")
    p.add_argument("--data", nargs="+", required=True, help="training roots (their cache must be built)")
    p.add_argument("--size", default="352x640", help="HxW of the cache to pack")
    p.add_argument("--codec-mix", action="store_true", help="pack the codec-mix cache")
    p.add_argument("--out", required=True, help="folder for the packs (one subfolder per root)")
    p.add_argument("--crf", type=int, default=23, help="x264 quality of the frames (lower: larger, closer)")
    p.add_argument("--max-frames", type=int, help="keep each video's first N frames")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    u = sub.add_parser("unpack", help="packs -> training roots")
    u.add_argument("--pack", nargs="+", required=True, help="pack folders")
    u.add_argument("--out", required=True, help="folder for the training roots (one subfolder per pack)")
    u.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args(argv)
    # One subfolder per root or pack, named after it: two of one name would share it.
    names = [Path(d).name for d in (a.data if a.cmd == "pack" else a.pack)]
    if len(set(names)) != len(names):
        raise SystemExit(f"two inputs share a folder name ({names}): the outputs are named after them")
    if a.cmd == "pack":
        h, w = (int(x) for x in a.size.split("x"))
        for d in a.data:
            pack(cache_dir_for(Path(d), h, w, a.codec_mix), Path(a.out) / Path(d).name, a.crf, a.max_frames, a.jobs)
    else:
        for d in a.pack:
            unpack(Path(d), Path(a.out) / Path(d).name, a.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
