"""Clip sampler over the per-video caches: a target frame and an earlier reference frame."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch

from .augment import donor_instances, paste_instance, resize_ids, resize_picture, restyle_pair, zoom_pair
from .config import DataConfig
from .letterbox import letterbox_scale
from .targets import attention_targets, frame_targets


class CachedVideo:
    """One video's cache. With `input_size` other than the cache's, frames are letterboxed to it
    as they are read (`resized_pair`): `scale` and `valid` describe that input, not the cache."""

    def __init__(self, path: Path, input_size: tuple[int, int] | None = None):
        self.path = path
        self.meta = json.loads((path / "meta.json").read_text())
        self.frames = np.load(path / "frames.npy", mmap_mode="r")
        self.ids = np.load(path / "ids.npy", mmap_mode="r")
        self.classes = np.asarray(self.meta["classes"], np.int64)
        self.length = self.frames.shape[0]
        self.cache_size = (int(self.frames.shape[1]), int(self.frames.shape[2]))
        self.input_size = tuple(input_size) if input_size else self.cache_size
        self.scale, self.valid = float(self.meta["scale"]), tuple(self.meta["valid"])
        if self.input_size != self.cache_size:
            src_h, src_w = self.meta["source_size"]
            s, nh, nw = letterbox_scale(src_h, src_w, *self.input_size)
            self.scale, self.valid = s, (nh, nw)

    def resized_pair(self, imgs: list[np.ndarray], ids: list[np.ndarray], pad: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Cached frames and id maps letterboxed to the input size: the cache's valid region
        resized onto the input's (bilinear for pictures, as the runtime's preprocessing; for id
        maps each pixel takes the instance with most weight, background unless one has over
        half, the rule `letterbox.letterbox_masks` uses), the rest padded with `pad`."""
        if self.input_size == self.cache_size:
            return imgs, ids
        (in_h, in_w), (ch, cw) = self.input_size, self.valid
        vh, vw = self.meta["valid"]
        out_i, out_k = [], []
        for img, idm in zip(imgs, ids):
            o = np.empty((in_h, in_w, 3), np.uint8)
            o[:] = pad
            o[:ch, :cw] = resize_picture(img[:vh, :vw], (ch, cw))
            out_i.append(o)
            m = np.zeros((in_h, in_w), np.uint8)
            m[:ch, :cw] = resize_ids(idm[:vh, :vw], (ch, cw))
            out_k.append(m)
        return out_i, out_k


def load_cached_videos(cache_dirs: list[Path], input_size: tuple[int, int] | None = None) -> list[CachedVideo]:
    """Every video cache under `cache_dirs`, read at `input_size` (None: the caches' own size)."""
    vids = []
    for d in cache_dirs:
        for p in sorted(Path(d).iterdir(), key=lambda p: p.name):
            if (p / "meta.json").exists():
                vids.append(CachedVideo(p, input_size))
    if not vids:
        raise FileNotFoundError(f"no cached videos under {[str(d) for d in cache_dirs]}")
    return vids


# What makes a (target, reference) pair one that breaks tracks: an instance of the target that
# shows less than HIDDEN_SHARE of its area in a recent reference (hidden there), one that moved
# faster than FAST_PX input pixels per frame of the gap, or one that touches an instance of its
# own class (centres closer than TOUCH times the sum of their radii: clones crossing). Measured
# on the hard training set at gap 1: the fastest instance of a pair moves 16.7 / 23.7 px per
# frame at the median / 90th percentile; looser rules (half the area, 16 px per pair, 4 radii)
# marked 92% of its pairs, which is no selection at all. An instance missing from the first
# frame is not hidden there, only not yet in view, so the first frame is not checked for it.
HIDDEN_SHARE = 0.25
FAST_PX = 24.0
TOUCH = 1.2

# Pasted instances (ClipSampler.paste_small) move at most this share of the long side per frame
# (the world allows 6%).
PASTE_SPEED = 0.03


def frame_instances(ids: np.ndarray, step: int = 1) -> dict[int, tuple[float, float, float]]:
    """Instance id -> (area, mean y, mean x) of one id map, in its pixels; `step` > 1 reads every
    step-th row and column only (the sampler's scan of a whole training set uses 2)."""
    if step > 1:
        return {k: (a * step * step, y * step, x * step) for k, (a, y, x) in frame_instances(ids[::step, ::step]).items()}
    flat = ids.reshape(-1).astype(np.int64)
    n = int(flat.max()) + 1 if flat.size else 1
    area = np.bincount(flat, minlength=n).astype(np.float64)
    ys, xs = np.indices(ids.shape)
    sy = np.bincount(flat, weights=ys.reshape(-1), minlength=n)
    sx = np.bincount(flat, weights=xs.reshape(-1), minlength=n)
    return {k: (area[k], sy[k] / area[k], sx[k] / area[k]) for k in range(1, n) if area[k] > 0}


def is_hard_pair(inst_t: dict, inst_r: dict, classes: np.ndarray, gap: int, recent: bool = True) -> bool:
    """Whether some instance of the target is hidden in the (`recent`) reference, moved fast over
    the `gap` frames between them, or touches a same-class instance (HIDDEN_SHARE, FAST_PX, TOUCH)."""
    for k, (a, y, x) in inst_t.items():
        ar, yr, xr = inst_r.get(k, (0.0, y, x))
        if recent and ar < HIDDEN_SHARE * a:
            return True
        if ar > 0 and np.hypot(y - yr, x - xr) > FAST_PX * max(gap, 1):
            return True
        rk = np.sqrt(a / np.pi)
        for o, (ao, yo, xo) in inst_t.items():
            if o != k and classes[o - 1] == classes[k - 1] and np.hypot(y - yo, x - xo) < TOUCH * (rk + np.sqrt(ao / np.pi)):
                return True
    return False


def hard_pairs(v: CachedVideo, max_gap: int) -> list[tuple[int, int]]:
    """Every (t, r) of `v` that the sampler can draw (gaps 1..max_gap and the first frame)
    and that breaks tracks (`is_hard_pair`)."""
    inst = [frame_instances(np.asarray(v.ids[t]), step=2) for t in range(v.length)]
    out = []
    for t in range(1, v.length):
        recent = {t - g for g in range(1, min(max_gap, t) + 1)}
        for r in sorted(recent | {0}):
            if is_hard_pair(inst[t], inst[r], v.classes, t - r, recent=r in recent):
                out.append((t, r))
    return out


def _hard_pairs_of(args: tuple[str, tuple[int, int], int]) -> list[tuple[int, int]]:
    path, input_size, max_gap = args
    return hard_pairs(CachedVideo(Path(path), input_size), max_gap)


def flip_rows(a: np.ndarray, rows: int) -> np.ndarray:
    """`a` with its first `rows` rows (the letterboxed content) upside down and the rest (padding) kept."""
    out = np.array(a, copy=True)
    out[:rows] = a[:rows][::-1]
    return out


def crop_window(
    arrays: list[np.ndarray], valid: tuple[int, int], size: tuple[int, int], rng: np.random.Generator
) -> tuple[list[np.ndarray], tuple[int, int]]:
    """The same random `size` window of every array (a pair's pictures and id maps), placed inside
    the letterboxed picture `valid` (h, w) where that is larger than the window and at the top or
    left edge where it is not; with the picture's region inside the window."""
    (ch, cw), (vh, vw) = size, valid
    h, w = arrays[0].shape[:2]
    y0 = int(rng.integers(0, max(0, min(h, vh) - ch) + 1))
    x0 = int(rng.integers(0, max(0, min(w, vw) - cw) + 1))
    out = [np.ascontiguousarray(a[y0 : y0 + ch, x0 : x0 + cw]) for a in arrays]
    return out, (min(vh - y0, ch), min(vw - x0, cw))


class ClipSampler:
    """Draws pairs the way inference sees them: references at small random gaps or the first frame;
    with `hard_case_prob`, that share of the pairs comes from the ones that break tracks."""

    def __init__(self, videos: list[CachedVideo], cfg: DataConfig, seed: int, jobs: int = 1):
        self.videos = videos
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)
        self.pad = np.round(np.asarray(cfg.mean) * 255.0).astype(np.uint8)  # the letterbox's colour
        # Videos drawn in proportion to their length, so every frame is equally likely.
        lengths = np.array([v.length for v in videos], np.float64)
        self.p = lengths / lengths.sum()
        self.hard: list[tuple[int, int, int]] = []
        if cfg.hard_case_prob > 0:
            # The scan reads every frame (about 2 ms each): over processes for a large set.
            if jobs > 1 and len(videos) > 1:
                work = [(str(v.path), v.input_size, cfg.max_gap) for v in videos]
                with ProcessPoolExecutor(min(jobs, len(videos)), mp_context=get_context("spawn")) as pool:
                    per_video = list(pool.map(_hard_pairs_of, work))
            else:
                per_video = [hard_pairs(v, cfg.max_gap) for v in videos]
            self.hard = [(i, t, r) for i, pairs in enumerate(per_video) for t, r in pairs]

    def pick(self) -> tuple[CachedVideo, int, int]:
        if self.hard and self.rng.random() < self.cfg.hard_case_prob:
            i, t, r = self.hard[int(self.rng.integers(0, len(self.hard)))]
            return self.videos[i], t, r
        v = self.videos[self.rng.choice(len(self.videos), p=self.p)]
        t = int(self.rng.integers(0, v.length))
        if t == 0:
            return v, 0, 0
        if self.rng.random() < self.cfg.first_frame_prob:
            return v, t, 0
        gap = int(self.rng.integers(1, min(self.cfg.max_gap, t) + 1))
        return v, t, t - gap

    def sample(self) -> dict[str, np.ndarray]:
        return self.pair(*self.pick())

    def pair(self, v: CachedVideo, t: int, r: int, with_ids: bool = False) -> dict[str, np.ndarray]:
        """Images and targets of target frame t with reference frame r of video v (zoomed and flipped at random);
        with `with_ids`, also the pair's id maps as its targets were made from them (`ids_t`, `ids_r`)."""
        img_t, img_r = np.asarray(v.frames[t]), np.asarray(v.frames[r])
        ids_t, ids_r = np.asarray(v.ids[t]), np.asarray(v.ids[r])
        (img_t, img_r), (ids_t, ids_r) = v.resized_pair([img_t, img_r], [ids_t, ids_r], self.pad)
        classes = v.classes
        if self.cfg.zoom_prob > 0 and self.rng.random() < self.cfg.zoom_prob:
            lo, hi = np.log(self.cfg.zoom_range[0]), np.log(self.cfg.zoom_range[1])
            zoom = float(np.exp(self.rng.uniform(lo, hi)))
            (img_t, img_r), (ids_t, ids_r) = zoom_pair([img_t, img_r], [ids_t, ids_r], v.valid, zoom, self.rng, self.pad)
        valid = v.valid
        if self.cfg.crop_size is not None:
            # Cut before the repainting and the targets: both then work on the window's pixels only.
            (img_t, img_r, ids_t, ids_r), valid = crop_window([img_t, img_r, ids_t, ids_r], valid, self.cfg.crop_size, self.rng)
        if self.cfg.paste_prob > 0 and self.rng.random() < self.cfg.paste_prob:
            (img_t, img_r), (ids_t, ids_r), classes = self.paste_small([img_t, img_r], [ids_t, ids_r], v, t - r, valid)
        if self.cfg.restyle_prob > 0 and self.rng.random() < self.cfg.restyle_prob:
            vh, vw = valid
            img_t, img_r = restyle_pair(
                [img_t, img_r],
                [ids_t, ids_r],
                len(classes),
                (vh, vw),
                self.rng,
                bg_prob=self.cfg.restyle_bg_prob,
                exclude=tuple(self.cfg.restyle_exclude),
                bg_kinds=tuple(self.cfg.restyle_backgrounds),
                distractor_prob=self.cfg.restyle_distractors,
                wide_fills=self.cfg.restyle_wide_fills,
            )
        if self.rng.random() < self.cfg.flip_prob:
            img_t, img_r, ids_t, ids_r = (np.ascontiguousarray(a[:, ::-1]) for a in (img_t, img_r, ids_t, ids_r))
        if self.cfg.vflip_prob > 0 and self.rng.random() < self.cfg.vflip_prob:
            img_t, img_r, ids_t, ids_r = (flip_rows(a, valid[0]) for a in (img_t, img_r, ids_t, ids_r))
        sigma = self.cfg.center_sigma_full * v.scale
        small = (self.cfg.small_area, self.cfg.small_max_weight, self.cfg.center_small_gain, self.cfg.small_ring)
        tg = frame_targets(ids_t, ids_r, classes, sigma, *small)
        if self.cfg.ref_targets:
            tr = frame_targets(ids_r, ids_r, classes, sigma, *small)
            for k in ("semantic", "center", "offset", "offset_mask", "semantic_weight", "center_weight"):
                if k not in tr:
                    continue
                tg[k + "_r"] = tr[k]
        for s in self.cfg.attn_strides:
            tg[f"attn{s}_w"], tg[f"attn{s}_valid"] = attention_targets(ids_t, ids_r, len(classes), s)
        tg["img_t"] = img_t
        tg["img_r"] = img_r
        if with_ids:
            tg["ids_t"], tg["ids_r"] = ids_t, ids_r
        return tg

    def paste_small(
        self, imgs: list[np.ndarray], ids: list[np.ndarray], v: CachedVideo, gap: int, valid: tuple[int, int]
    ) -> tuple[list, list, np.ndarray]:
        """Copy-paste of small instances: 1..`paste_max` whole instances from random frames of the
        training set, scaled to an outer radius in `paste_radius` (fractions of the short side, the
        world's small end), pasted on top of the target frame and the reference as new tracks of
        their own class, moved between the two by up to `PASTE_SPEED` of the long side per frame
        of the gap. The world's small, low-contrast instances are the ones the network misses;
        this shows it more of them, on every kind of background."""
        imgs, ids = [a.copy() for a in imgs], [a.copy() for a in ids]
        classes = list(v.classes)
        # `valid` is the picture's region of these images (a training window's, if cut); sizes and
        # speeds stay relative to the whole frame's.
        (vh, vw), short = valid, min(v.valid)
        for _ in range(int(self.rng.integers(1, self.cfg.paste_max + 1))):
            dv = self.videos[int(self.rng.integers(len(self.videos)))]
            f = int(self.rng.integers(dv.length))
            donors = donor_instances(np.asarray(dv.frames[f]), np.asarray(dv.ids[f]), tuple(dv.meta["valid"]))
            if not donors or len(classes) >= 254:
                continue
            k, crop, mask = donors[int(self.rng.integers(len(donors)))]
            radius = float(self.rng.uniform(*self.cfg.paste_radius)) * short
            cy, cx = self.rng.uniform(radius, vh - radius), self.rng.uniform(radius, vw - radius)
            step = self.rng.uniform(0.0, PASTE_SPEED * max(v.valid) * max(gap, 0))
            ang = self.rng.uniform(0.0, 2 * np.pi)
            ty = float(np.clip(cy + step * np.sin(ang), radius, vh - radius))
            tx = float(np.clip(cx + step * np.cos(ang), radius, vw - radius))
            classes.append(int(dv.classes[k - 1]))
            paste_instance(imgs, ids, crop, mask, len(classes), radius, [(ty, tx), (cy, cx)])
        return imgs, ids, np.asarray(classes, np.int64)

    def batch(self, n: int) -> dict[str, torch.Tensor]:
        samples = [self.sample() for _ in range(n)]
        out = {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}
        return out
