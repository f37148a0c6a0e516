"""Clip sampler over the per-video caches: a target frame and an earlier reference frame."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .augment import restyle_pair
from .config import DataConfig
from .targets import attention_targets, frame_targets


class CachedVideo:
    def __init__(self, path: Path):
        self.meta = json.loads((path / "meta.json").read_text())
        self.frames = np.load(path / "frames.npy", mmap_mode="r")
        self.ids = np.load(path / "ids.npy", mmap_mode="r")
        self.classes = np.asarray(self.meta["classes"], np.int64)
        self.length = self.frames.shape[0]


def load_cached_videos(cache_dirs: list[Path]) -> list[CachedVideo]:
    vids = []
    for d in cache_dirs:
        for p in sorted(Path(d).iterdir(), key=lambda p: p.name):
            if (p / "meta.json").exists():
                vids.append(CachedVideo(p))
    if not vids:
        raise FileNotFoundError(f"no cached videos under {[str(d) for d in cache_dirs]}")
    return vids


class ClipSampler:
    """Draws pairs the way inference sees them: references at small random gaps or the first frame."""

    def __init__(self, videos: list[CachedVideo], cfg: DataConfig, seed: int):
        self.videos = videos
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)
        # Videos drawn in proportion to their length, so every frame is equally likely.
        lengths = np.array([v.length for v in videos], np.float64)
        self.p = lengths / lengths.sum()

    def pick(self) -> tuple[CachedVideo, int, int]:
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

    def pair(self, v: CachedVideo, t: int, r: int) -> dict[str, np.ndarray]:
        """Images and targets of target frame t with reference frame r of video v (flipped at random)."""
        img_t, img_r = np.asarray(v.frames[t]), np.asarray(v.frames[r])
        ids_t, ids_r = np.asarray(v.ids[t]), np.asarray(v.ids[r])
        if self.cfg.restyle_prob > 0 and self.rng.random() < self.cfg.restyle_prob:
            vh, vw = v.meta["valid"]
            img_t, img_r = restyle_pair([img_t, img_r], [ids_t, ids_r], len(v.classes), (vh, vw), self.rng, exclude=tuple(self.cfg.restyle_exclude))
        if self.rng.random() < self.cfg.flip_prob:
            img_t, img_r, ids_t, ids_r = (np.ascontiguousarray(a[:, ::-1]) for a in (img_t, img_r, ids_t, ids_r))
        sigma = self.cfg.center_sigma_full * float(v.meta["scale"])
        small = (self.cfg.small_area, self.cfg.small_max_weight)
        tg = frame_targets(ids_t, ids_r, v.classes, sigma, *small)
        if self.cfg.ref_targets:
            tr = frame_targets(ids_r, ids_r, v.classes, sigma, *small)
            for k in ("semantic", "center", "offset", "offset_mask", "semantic_weight"):
                if k not in tr:
                    continue
                tg[k + "_r"] = tr[k]
        for s in self.cfg.attn_strides:
            tg[f"attn{s}_w"], tg[f"attn{s}_valid"] = attention_targets(ids_t, ids_r, len(v.classes), s)
        tg["img_t"] = img_t
        tg["img_r"] = img_r
        return tg

    def batch(self, n: int) -> dict[str, torch.Tensor]:
        samples = [self.sample() for _ in range(n)]
        out = {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}
        return out
