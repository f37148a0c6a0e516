"""Augmentations that teach the shapes world rather than one renderer of it.

The world's definition says colour and texture say nothing about the class, and that other
renderers use other fills, colours and backgrounds within its ranges. Two kinds of augmentation:

- `restyle_pair` (numpy, per training pair): repaints every instance with a new fill drawn from
  families that include ones our renderer never makes, and sometimes the background too (drawn
  by `backgrounds.background`), using the ground-truth id maps. An instance gets the same fill in the target and the reference frame
  (a fill is fixed for an instance's life), anchored at its centre so that it moves with it.
- `photometric` (torch, per batch): colour cast, hue rotation, saturation, contrast,
  brightness, blur and sensor noise, the same for a target frame and its reference.
- `zoom_pair` (numpy, per training pair): one camera zoom for both frames, in or out, at a random
  place, so that the same scene shows its instances at other sizes and positions.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .backgrounds import background, box_blur, random_colour
from .letterbox import resize_ids, resize_picture


def _grid_lerp(g: np.ndarray, dy: np.ndarray, dx: np.ndarray, scale: float) -> np.ndarray:
    """Bilinear lookup in an [n, n] (or [n, n, C]) grid spanning the instance (2 * scale across)."""
    top = g.shape[0] - 1
    gy = np.clip((dy / (2 * scale) + 0.5) * top, 0, top - 0.001)
    gx = np.clip((dx / (2 * scale) + 0.5) * top, 0, top - 0.001)
    y0, x0 = gy.astype(np.int64), gx.astype(np.int64)
    fy, fx = gy - y0, gx - x0
    if g.ndim == 3:
        fy, fx = fy[:, None], fx[:, None]
    return g[y0, x0] * (1 - fy) * (1 - fx) + g[y0 + 1, x0] * fy * (1 - fx) + g[y0, x0 + 1] * (1 - fy) * fx + g[y0 + 1, x0 + 1] * fy * fx


class _Fill:
    """A random fill, evaluated at coordinates relative to an anchor (the instance's centre).

    With `wide`, the draw spans more of what other renderers may make within the world's fill
    families: three more kinds (soft sinusoidal stripes, colour noise, three-colour ramps),
    stripe and checker periods from fine to coarse, noise of 3 to 12 cells across, outlines 1 to
    4 px thick and stronger shading. Without it, it draws exactly as stages 1-24 trained.
    """

    KINDS = ("solid", "stripes", "checker", "linear", "radial", "noise", "dots")
    WIDE_KINDS = KINDS + ("wave", "colour_noise", "ramp3")

    def __init__(self, rng: np.random.Generator, scale: float, kinds: tuple[str, ...] = KINDS, wide: bool = False):
        self.kind = kinds[int(rng.integers(len(kinds)))]
        self.c0, self.c1 = random_colour(rng), random_colour(rng)
        self.angle = rng.uniform(0, math.pi)
        self.period = max(3.0, rng.uniform(0.15, 0.8) * scale)
        self.noise = rng.uniform(0, 1, (6, 6)).astype(np.float32) if self.kind == "noise" else None
        self.scale = max(scale, 4.0)
        self.outline = rng.random() < 0.3
        self.outline_colour = random_colour(rng) if rng.random() < 0.5 else np.zeros(3, np.float32)
        # A soft shading gradient over the fill (the world allows one).
        self.shade = rng.uniform(-0.35, 0.35) if rng.random() < 0.4 else 0.0
        self.shade_angle = rng.uniform(0, 2 * math.pi)
        self.outline_px = 1
        if wide:
            self.period = max(2.0, rng.uniform(0.06, 1.2) * scale)
            cells = int(rng.integers(3, 13))
            if self.kind == "noise":
                self.noise = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
            elif self.kind == "colour_noise":
                self.noise = np.stack([random_colour(rng) for _ in range(cells * cells)]).reshape(cells, cells, 3)
            self.c2 = random_colour(rng)
            self.outline_px = int(rng.integers(1, 5))
            if rng.random() < 0.2:
                self.shade = rng.uniform(-0.55, 0.55)

    def render(self, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
        """[N, 3] colours at offsets (dy, dx) from the anchor."""
        ca, sa = math.cos(self.angle), math.sin(self.angle)
        u = dx * ca + dy * sa
        v = -dx * sa + dy * ca
        if self.kind == "colour_noise":
            col = _grid_lerp(self.noise, dy, dx, self.scale)
            return self._shaded(col, dy, dx)
        if self.kind == "solid":
            t = np.zeros_like(u)
        elif self.kind == "stripes":
            t = (np.floor(u / self.period) % 2).astype(np.float32)
        elif self.kind == "wave":
            t = 0.5 + 0.5 * np.sin(u * (2 * math.pi / self.period))
        elif self.kind == "checker":
            t = ((np.floor(u / self.period) + np.floor(v / self.period)) % 2).astype(np.float32)
        elif self.kind in ("linear", "ramp3"):
            t = np.clip(u / (2 * self.scale) + 0.5, 0, 1)
        elif self.kind == "radial":
            t = np.clip(np.sqrt(u * u + v * v) / self.scale, 0, 1)
        elif self.kind == "dots":
            fu = (u / self.period) % 1 - 0.5
            fv = (v / self.period) % 1 - 0.5
            t = (fu * fu + fv * fv < 0.09).astype(np.float32)
        else:  # smooth value noise, bilinear from a grid spanning the instance
            t = _grid_lerp(self.noise, dy, dx, self.scale)
        if self.kind == "ramp3":
            lo = np.clip(2 * t, 0, 1)[:, None]
            hi = np.clip(2 * t - 1, 0, 1)[:, None]
            col = self.c0[None] * (1 - lo) + self.c2[None] * (lo - hi) + self.c1[None] * hi
        else:
            col = self.c0[None] * (1 - t[:, None]) + self.c1[None] * t[:, None]
        return self._shaded(col, dy, dx)

    def _shaded(self, col: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
        if self.shade:
            s = (dx * math.cos(self.shade_angle) + dy * math.sin(self.shade_angle)) / self.scale
            col = col * (1.0 + self.shade * np.clip(s, -1, 1))[:, None]
        return col


def restyle_pair(
    imgs: list[np.ndarray],
    ids: list[np.ndarray],
    n_tracks: int,
    valid: tuple[int, int],
    rng: np.random.Generator,
    bg_prob: float = 0.5,
    exclude: tuple[str, ...] = (),
    bg_kinds: tuple[str, ...] = ("noise", "gradient", "tiles"),
    distractor_prob: float = 0.0,
    wide_fills: bool = False,
) -> list[np.ndarray]:
    """Repaints the instances (and with `bg_prob` the background) of frames that show one scene.

    imgs: uint8 [H, W, 3] letterboxed frames; ids: their id maps (0 = background, k = track k-1);
    valid: the (h, w) of the picture inside the letterbox (the padding stays untouched);
    wide_fills: fills drawn as `_Fill(wide=True)` does.
    """
    vh, vw = valid
    kinds = tuple(k for k in (_Fill.WIDE_KINDS if wide_fills else _Fill.KINDS) if k not in exclude)
    fills: dict[int, _Fill] = {}
    present = sorted(set(int(k) for m in ids for k in np.unique(m[:vh, :vw]) if k > 0))
    for k in present:
        area = max(int((m[:vh, :vw] == k).sum()) for m in ids)
        fills[k] = _Fill(rng, math.sqrt(area / math.pi), kinds, wide_fills)
    # "tiles" in `exclude` keeps every tiled background out, the lattices too.
    kinds_bg = tuple(k for k in bg_kinds if k not in exclude and not (k == "lattice" and "tiles" in exclude))
    bg = background(rng, vh, vw, kinds_bg, distractor_prob) if kinds_bg and rng.random() < bg_prob else None
    out = []
    for img, m in zip(imgs, ids):
        x = img[:vh, :vw].astype(np.float32)
        mm = m[:vh, :vw]
        if bg is not None:
            soft = box_blur((mm == 0).astype(np.float32))[..., None]
            x = x * (1 - soft) + bg * soft
        for k, f in fills.items():
            sel = mm == k
            if not sel.any():
                continue
            ys, xs = np.nonzero(sel)
            cy, cx = ys.mean(), xs.mean()
            y0, y1, x0, x1 = max(0, ys.min() - 1), min(vh, ys.max() + 2), max(0, xs.min() - 1), min(vw, xs.max() + 2)
            sub = sel[y0:y1, x0:x1].astype(np.float32)
            soft = box_blur(sub)
            gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            col = f.render((gy - cy).ravel(), (gx - cx).ravel()).reshape(y1 - y0, x1 - x0, 3)
            if f.outline:
                inner = sub
                for _ in range(f.outline_px + 1):
                    inner = box_blur(inner)
                edge = sub * (inner < 0.99)
                col = col * (1 - edge[..., None]) + f.outline_colour * edge[..., None]
            a = soft[..., None]
            x[y0:y1, x0:x1] = x[y0:y1, x0:x1] * (1 - a) + col * a
        o = img.copy()
        o[:vh, :vw] = np.clip(x + 0.5, 0, 255).astype(np.uint8)
        out.append(o)
    return out


def photometric(x: torch.Tensor, gen: torch.Generator, n_pairs: int, strength: float = 1.0) -> torch.Tensor:
    """x: [2B, 3, H, W] in [0, 1] (targets then references); returns the same, jittered.

    Every pair (target i, reference B+i) gets the same draw: one video, one camera.
    """
    b = n_pairs
    dev = x.device

    def u(lo, hi, *shape):
        return (lo + (hi - lo) * torch.rand(b, *shape, generator=gen)).to(dev).repeat(2, *([1] * len(shape)))

    s = strength
    # Hue rotation about the grey axis (Rodrigues), then saturation, colour cast, contrast, brightness.
    theta = u(-math.pi * s, math.pi * s)
    cos, sin = torch.cos(theta), torch.sin(theta)
    k = 1.0 / math.sqrt(3.0)
    ident = torch.eye(3, device=dev)
    kx = torch.tensor([[0, -k, k], [k, 0, -k], [-k, k, 0]], device=dev)
    kk = torch.full((3, 3), k * k, device=dev)
    rot = cos[:, None, None] * ident + sin[:, None, None] * kx + (1 - cos)[:, None, None] * kk
    sat = u(1 - 0.6 * s, 1 + 0.5 * s)
    grey = x.mean(1, keepdim=True)
    x = torch.einsum("nij,njhw->nihw", rot, x)
    x = grey + (x - grey) * sat[:, None, None, None]
    cast = u(1 - 0.15 * s, 1 + 0.15 * s, 3)[..., None, None]
    contrast = u(1 - 0.4 * s, 1 + 0.3 * s)[:, None, None, None]
    bright = u(-0.12 * s, 0.12 * s)[:, None, None, None]
    mean = x.mean((1, 2, 3), keepdim=True)
    x = ((x * cast - mean) * contrast + mean + bright).clamp(0, 1)
    # Blur on a third of the pairs (defocus, motion, upscaled footage), sigma up to 1.2 px.
    sig = torch.rand(b, generator=gen) * 1.2 * s
    blur_on = torch.rand(b, generator=gen) < 0.3
    if bool(blur_on.any()):
        ks = 5
        r = torch.arange(ks, dtype=torch.float32) - ks // 2
        for i in torch.nonzero(blur_on).flatten().tolist():
            sg = max(float(sig[i]), 0.3)
            g = torch.exp(-(r * r) / (2 * sg * sg))
            g = (g / g.sum()).to(dev)
            for j in (i, b + i):
                y = x[j : j + 1]
                y = F.conv2d(F.pad(y, (ks // 2, ks // 2, 0, 0), mode="replicate"), g.view(1, 1, 1, ks).repeat(3, 1, 1, 1), groups=3)
                y = F.conv2d(F.pad(y, (0, 0, ks // 2, ks // 2), mode="replicate"), g.view(1, 1, ks, 1).repeat(3, 1, 1, 1), groups=3)
                x[j : j + 1] = y
    # Sensor noise on a third of the pairs, independent per frame.
    nstd = (torch.rand(b, generator=gen) * 0.04 * s * (torch.rand(b, generator=gen) < 0.3)).to(dev).repeat(2)
    if dev.type == "cpu":
        noise = torch.randn(x.shape, generator=gen)
    else:  # drawn where the batch is: a CPU draw of a large batch costs more than the whole step
        dgen = torch.Generator(device=dev).manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        noise = torch.randn(x.shape, generator=dgen, device=dev)
    noise = noise * nstd[:, None, None, None]
    return (x + noise).clamp(0, 1)


def donor_instances(img: np.ndarray, ids: np.ndarray, valid: tuple[int, int], min_area: int = 400) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Instances of one frame that can be pasted elsewhere: (track index k, RGB crop, mask crop),
    for each instance of at least `min_area` pixels that touches neither the picture's border nor
    another instance (so it is most likely whole, not occluded: its shape carries its class)."""
    vh, vw = valid
    m = ids[:vh, :vw]
    out = []
    for k in np.unique(m):
        if k == 0:
            continue
        sel = m == k
        if sel.sum() < min_area:
            continue
        ys, xs = np.nonzero(sel)
        y0, y1, x0, x1 = ys.min() - 2, ys.max() + 3, xs.min() - 2, xs.max() + 3
        if y0 < 0 or x0 < 0 or y1 > vh or x1 > vw:
            continue
        box = m[y0:y1, x0:x1]
        near = box_blur(box_blur((box == k).astype(np.float32))) > 0
        if ((box != 0) & (box != k) & near).any():
            continue
        out.append((int(k), img[y0:y1, x0:x1].astype(np.float32), (box == k).astype(np.float32)))
    return out


def paste_instance(
    imgs: list[np.ndarray],
    ids: list[np.ndarray],
    crop: np.ndarray,
    mask: np.ndarray,
    new_id: int,
    radius: float,
    centres: list[tuple[float, float]],
) -> None:
    """Pastes one instance (RGB `crop`, soft `mask`, both [h, w]) on top of each frame, scaled so
    that its outer radius (half its largest extent) is `radius` pixels, centred at that frame's
    `centres` entry; its pixels take `new_id` in the id maps (covering what was there). In place."""
    scale = radius / (max(mask.shape) / 2.0)
    h = max(3, int(round(mask.shape[0] * scale)))
    w = max(3, int(round(mask.shape[1] * scale)))
    src = torch.from_numpy(np.concatenate([crop, mask[..., None]], 2)).permute(2, 0, 1)[None]
    res = F.interpolate(src, size=(h, w), mode="bilinear", align_corners=False, antialias=scale < 1)[0].permute(1, 2, 0).numpy()
    col, alpha = res[..., :3], np.clip(res[..., 3], 0.0, 1.0)
    for img, m, (cy, cx) in zip(imgs, ids, centres):
        y0, x0 = int(round(cy - h / 2)), int(round(cx - w / 2))
        ya, xa = max(0, y0), max(0, x0)
        yb, xb = min(img.shape[0], y0 + h), min(img.shape[1], x0 + w)
        if ya >= yb or xa >= xb:
            continue
        a = alpha[ya - y0 : yb - y0, xa - x0 : xb - x0]
        c = col[ya - y0 : yb - y0, xa - x0 : xb - x0]
        region = img[ya:yb, xa:xb].astype(np.float32)
        img[ya:yb, xa:xb] = np.clip(region * (1 - a[..., None]) + c * a[..., None] + 0.5, 0, 255).astype(np.uint8)
        m[ya:yb, xa:xb][a >= 0.5] = new_id


def zoom_pair(
    imgs: list[np.ndarray],
    ids: list[np.ndarray],
    valid: tuple[int, int],
    zoom: float,
    rng: np.random.Generator,
    pad: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The same camera zoom applied to every frame of a pair inside its `valid` region (the rest,
    letterbox padding, is left as it is). `zoom` > 1 magnifies a random window of 1/zoom of the
    region onto all of it; `zoom` < 1 shrinks the whole region to `zoom` of its size at a random
    place, the uncovered rest taking the padding colour `pad` and background ids (a repainted
    background covers it later, as any background). Tried as stage 29 (half the pairs), when the
    small instances' train/validation gap looked like fitting the training scenes: the per-frame
    masks did not move (docs/results.md), and the gap turned out to be the renderer's families."""
    vh, vw = valid
    out_i, out_k = [a.copy() for a in imgs], [a.copy() for a in ids]
    if zoom >= 1.0:
        wh, ww = max(8, int(round(vh / zoom))), max(8, int(round(vw / zoom)))
        y0, x0 = int(rng.integers(0, vh - wh + 1)), int(rng.integers(0, vw - ww + 1))
        for img, idm, oi, ok in zip(imgs, ids, out_i, out_k):
            oi[:vh, :vw] = resize_picture(img[y0 : y0 + wh, x0 : x0 + ww], (vh, vw))
            ok[:vh, :vw] = resize_ids(idm[y0 : y0 + wh, x0 : x0 + ww], (vh, vw))
        return out_i, out_k
    th, tw = max(8, int(round(vh * zoom))), max(8, int(round(vw * zoom)))
    y0, x0 = int(rng.integers(0, vh - th + 1)), int(rng.integers(0, vw - tw + 1))
    for img, idm, oi, ok in zip(imgs, ids, out_i, out_k):
        oi[:vh, :vw] = pad
        ok[:vh, :vw] = 0
        oi[y0 : y0 + th, x0 : x0 + tw] = resize_picture(img[:vh, :vw], (th, tw))
        ok[y0 : y0 + th, x0 : x0 + tw] = resize_ids(idm[:vh, :vw], (th, tw))
    return out_i, out_k
