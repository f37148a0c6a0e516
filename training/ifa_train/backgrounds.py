"""Backgrounds for repainting (augment.restyle_pair), drawn from the world's families.

The world's backgrounds are "smooth noise, gradients, tiled textures or crops of real
photographs, possibly with distractors". Our renderer makes one version of each; another
generator makes others. So the repainting draws its own versions, made differently:

- `noise`, `gradient`, `tiles` (a rotated checkerboard): the three kinds stages 1-20 trained with.
- `lattice`: a tiled texture of a repeated motif (dots, squares, diamonds, rings, plus signs,
  bars, grid lines, bricks) on a square or staggered lattice, at any scale and rotation, with
  one or several colours. Motifs shaped like the classes are background here: a tiling is not
  an instance.
- `photo`: a crop of one of scikit-image's sample photographs at a random scale, flipped or
  turned, greyscale ones tinted. Grass and gravel are never used: the held-out-style sets
  (`ifa synth --styles heldout`) keep them as the photographs training never saw.
- `fractal`: smooth noise of several octaves (coarse to fine grain, as another generator's
  "smooth noise" may be), mapped through a palette of 2-4 colours.
- `marble`: stripes bent by smooth noise (wood grain, marble, ripples), two to three colours.

`distractors` paints irregular blobs (7+ vertices), thin lines and curves, and scribbles over a
background, as the world allows; they stay background (id 0).

`random_colour` and `box_blur` are shared with the instance repainting of `augment.py`.
"""

from __future__ import annotations

import importlib.util
import math
from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

# Kinds of `background`, in the index order of the draw (the first three as stages 1-20 drew them).
KINDS = ("noise", "gradient", "tiles", "lattice", "photo", "fractal", "marble")
# scikit-image's sample photographs that repainting may use: those its `_fetchers.py` states to be
# public domain, CC0 or free of known copyright restrictions (models/README.md, Licences); not
# grass and gravel (held out).
PHOTOS = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "cell.png",
    "chelsea.png",
    "clock_motion.png",
    "coffee.png",
    "coins.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "microaneurysms.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
)
HELD_OUT_PHOTOS = ("grass.png", "gravel.png")
MOTIFS = ("dot", "square", "diamond", "ring", "plus", "bar", "grid", "brick")


def random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3).astype(np.float32)


def box_blur(a: np.ndarray) -> np.ndarray:
    """3x3 mean of a 2-D array (edges replicated): softens hard edges as antialiasing would."""
    p = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return sum(p[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)) / 9.0


def _resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """[H, W, 3] float -> [h, w, 3] float, bicubic, clamped to 0..255."""
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]
    return F.interpolate(t, size=(h, w), mode="bicubic", align_corners=False)[0].permute(1, 2, 0).clamp(0, 255).numpy()


def _noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    gh, gw = int(rng.integers(2, 9)), int(rng.integers(2, 12))
    grid = rng.uniform(0, 255, (gh, gw, 3)).astype(np.float32)
    t = torch.from_numpy(grid).permute(2, 0, 1)[None]
    return F.interpolate(t, size=(h, w), mode="bicubic", align_corners=True)[0].permute(1, 2, 0).clamp(0, 255).numpy()


def _octaves(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """[h, w] smooth noise of 2-6 octaves, each twice as fine as the last, in 0..1."""
    base = int(rng.integers(2, 6))
    persistence = rng.uniform(0.35, 0.75)
    acc = np.zeros((h, w), np.float32)
    amp = 1.0
    for o in range(int(rng.integers(2, 7))):
        gh = base * 2**o
        if gh > h // 3:
            break
        gw = max(2, round(gh * w / h))
        grid = torch.from_numpy(rng.uniform(-1, 1, (1, 1, gh + 1, gw + 1)).astype(np.float32))
        acc += amp * F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=True)[0, 0].numpy()
        amp *= persistence
    lo, hi = float(acc.min()), float(acc.max())
    return (acc - lo) / max(hi - lo, 1e-6)


def _palette(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Maps t [h, w] in 0..1 through 2-4 random colours at sorted stops: [h, w, 3]."""
    n = int(rng.integers(2, 5))
    stops = np.concatenate([[0.0], np.sort(rng.uniform(0, 1, n - 2)), [1.0]])
    cols = np.stack([random_colour(rng) for _ in range(n)])
    return np.stack([np.interp(t, stops, cols[:, c]) for c in range(3)], -1).astype(np.float32)


def _fractal(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return _palette(rng, _octaves(rng, h, w))


def _marble(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, math.pi)
    period = rng.uniform(10, 80)
    warp = _octaves(rng, h, w) * rng.uniform(0.5, 4.0) * period
    u = xx * math.cos(a) + yy * math.sin(a) + warp
    t = 0.5 + 0.5 * np.sin(u * (2 * math.pi / period))
    return _palette(rng, t ** rng.uniform(0.5, 2.0))


def _two_colour(rng: np.random.Generator, h: int, w: int, checker: bool) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = random_colour(rng), random_colour(rng)
    if not checker:
        a = rng.uniform(0, 2 * math.pi)
        t = xx * math.cos(a) + yy * math.sin(a)
        t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    else:
        p = rng.uniform(6, 40)
        a = rng.uniform(0, math.pi)
        u = xx * math.cos(a) + yy * math.sin(a)
        v = -xx * math.sin(a) + yy * math.cos(a)
        t = ((np.floor(u / p) + np.floor(v / p)) % 2) * rng.uniform(0.2, 1.0)
    return c0 * (1 - t[..., None]) + c1 * t[..., None]


def _motif(kind: str, fu: np.ndarray, fv: np.ndarray, m: float) -> np.ndarray:
    """Coverage (bool) of a motif of size `m` at cell-local coordinates in [-0.5, 0.5)."""
    au, av = np.abs(fu), np.abs(fv)
    if kind == "dot":
        return fu * fu + fv * fv < m * m
    if kind == "square":
        return np.maximum(au, av) < m
    if kind == "diamond":
        return au + av < 1.3 * m
    if kind == "ring":
        r = np.sqrt(fu * fu + fv * fv)
        return (r < m) & (r > 0.55 * m)
    if kind == "plus":
        t = m / 3
        return ((au < t) & (av < m)) | ((av < t) & (au < m))
    if kind == "bar":
        return au < m * 0.6
    if kind == "grid":
        return np.maximum(au, av) > 0.5 - m / 4
    # brick: mortar lines around each (staggered) cell
    return (av > 0.5 - m / 5) | (au > 0.5 - m / 8)


def _lattice(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    kind = MOTIFS[int(rng.integers(len(MOTIFS)))]
    p = float(rng.uniform(8, 64))
    aspect = float(rng.uniform(1.6, 2.4)) if kind == "brick" else 1.0
    stagger = kind == "brick" or rng.random() < 0.4
    a = rng.uniform(0, math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx * math.cos(a) + yy * math.sin(a)) / (p * aspect)
    v = (-xx * math.sin(a) + yy * math.cos(a)) / p
    row = np.floor(v)
    u = u + 0.5 * (row % 2) * stagger
    col = np.floor(u)
    fu, fv = u - col - 0.5, v - row - 0.5
    on = _motif(kind, fu, fv, float(rng.uniform(0.2, 0.42))).astype(np.float32)
    on = box_blur(on)
    ground = random_colour(rng)
    n_col = int(rng.integers(1, 4))
    palette = np.stack([random_colour(rng) for _ in range(n_col)])
    # One colour per cell from the palette (a mosaic when there are several).
    pick = ((row * 7919 + col * 104729).astype(np.int64) + int(rng.integers(1 << 16))) % n_col
    fg = palette[pick]
    img = ground * (1 - on[..., None]) + fg * on[..., None]
    if rng.random() < 0.5:  # a little texture, as real tiles have
        img = img + rng.normal(0, rng.uniform(2, 10), (h, w, 1)).astype(np.float32)
    return np.clip(img, 0, 255)


def _skimage_dir() -> Path | None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


@cache
def _photo(name: str) -> np.ndarray | None:
    """[H, W, 3] float32 photo, or None when scikit-image's data is not installed."""
    d = _skimage_dir()
    if d is None or not (d / name).exists():
        return None
    return np.asarray(Image.open(d / name).convert("RGB"), dtype=np.float32)


def photo_names() -> list[str]:
    """The photographs `photo` can draw on this machine."""
    return [n for n in PHOTOS if _photo(n) is not None]


def _photo_crop(rng: np.random.Generator, h: int, w: int) -> np.ndarray | None:
    names = photo_names()
    if not names:
        return None
    src = _photo(names[int(rng.integers(len(names)))])
    src = np.rot90(src, int(rng.integers(4)))
    if rng.random() < 0.5:
        src = src[:, ::-1]
    ph, pw = src.shape[:2]
    # The largest crop of the frame's aspect, then a random share of it (zoomed in).
    cw = min(pw, ph * w / h) * rng.uniform(0.35, 1.0)
    ch = cw * h / w
    y0 = int(rng.uniform(0, ph - ch + 1e-6))
    x0 = int(rng.uniform(0, pw - cw + 1e-6))
    crop = src[y0 : y0 + max(2, int(ch)), x0 : x0 + max(2, int(cw))]
    out = _resize(crop, h, w)
    if np.ptp(out[..., 0] - out[..., 1]) < 1 and np.ptp(out[..., 1] - out[..., 2]) < 1:
        # Greyscale: tint between two colours.
        c0, c1 = random_colour(rng), random_colour(rng)
        t = out[..., :1] / 255.0
        out = c0 * (1 - t) + c1 * t
    return out


def distractors(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Paints 1-3 distractors (irregular blob, thin line or curve, scribble) on `img` [h, w, 3] float."""
    h, w = img.shape[:2]
    short = min(h, w)
    pil = Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(pil)
    for _ in range(int(rng.integers(1, 4))):
        col = tuple(int(c) for c in random_colour(rng))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        kind = int(rng.integers(3))
        if kind == 0:  # blob: 7-12 vertices at random radii
            n = int(rng.integers(7, 13))
            r = rng.uniform(0.03, 0.15) * short
            ang = np.sort(rng.uniform(0, 2 * math.pi, n))
            rad = r * rng.uniform(0.45, 1.0, n)
            d.polygon([(cx + rr * math.cos(t), cy + rr * math.sin(t)) for t, rr in zip(ang, rad)], fill=col)
        elif kind == 1:  # line or gentle curve
            n = int(rng.integers(2, 5))
            step = rng.uniform(0.05, 0.3) * short
            a = rng.uniform(0, 2 * math.pi)
            pts = [(cx, cy)]
            for _ in range(n - 1):
                a += rng.uniform(-0.6, 0.6)
                pts.append((pts[-1][0] + step * math.cos(a), pts[-1][1] + step * math.sin(a)))
            d.line(pts, fill=col, width=int(rng.integers(1, 5)), joint="curve")
        else:  # scribble: a random walk
            pts = [(cx, cy)]
            for _ in range(int(rng.integers(10, 31))):
                pts.append((pts[-1][0] + rng.normal(0, 0.03 * short), pts[-1][1] + rng.normal(0, 0.03 * short)))
            d.line(pts, fill=col, width=int(rng.integers(1, 4)), joint="curve")
    return np.asarray(pil, dtype=np.float32)


def background(rng: np.random.Generator, h: int, w: int, kinds: tuple[str, ...], distractor_prob: float = 0.0) -> np.ndarray:
    """[h, w, 3] float in 0..255: one background of a kind drawn uniformly from `kinds`, with
    distractors on it with `distractor_prob`. With kinds ("noise", "gradient", "tiles") and no
    distractors it draws exactly as augmentation did before the other kinds existed."""
    kind = kinds[int(rng.integers(len(kinds)))]
    if kind == "noise":
        img = _noise(rng, h, w)
    elif kind == "gradient":
        img = _two_colour(rng, h, w, checker=False)
    elif kind == "tiles":
        img = _two_colour(rng, h, w, checker=True)
    elif kind == "lattice":
        img = _lattice(rng, h, w)
    elif kind == "photo":
        crop = _photo_crop(rng, h, w)
        img = crop if crop is not None else _noise(rng, h, w)
    elif kind == "fractal":
        img = _fractal(rng, h, w)
    elif kind == "marble":
        img = _marble(rng, h, w)
    else:
        raise ValueError(f"unknown background kind {kind!r} (expected one of {KINDS})")
    if distractor_prob > 0 and rng.random() < distractor_prob:
        img = distractors(rng, img)
    return img
