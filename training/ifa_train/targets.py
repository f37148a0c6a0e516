"""Training targets (method.md §3) from instance id maps, in input pixels.

Stride-4 cell (i, j) stands for input position (4i + 1.5, 4j + 1.5) (docs/model-contract.md).
"""

from __future__ import annotations

import numpy as np

STRIDE = 4


def block_mode(ids: np.ndarray, stride: int = STRIDE) -> np.ndarray:
    """Most frequent id in each stride x stride block: [H, W] -> [H/s, W/s] (ties: lowest id)."""
    h, w = ids.shape
    blk = ids.reshape(h // stride, stride, w // stride, stride).transpose(0, 2, 1, 3).reshape(h // stride, w // stride, -1)
    n = int(ids.max()) + 1
    counts = np.stack([(blk == k).sum(-1) for k in range(n)], 0)
    return np.argmax(counts, 0).astype(ids.dtype)


def centers_of_mass(ids: np.ndarray, n_tracks: int) -> np.ndarray:
    """[n_tracks, 2] (y, x) centre of mass of each id's pixels (pixel centres at integers), NaN if absent."""
    out = np.full((n_tracks, 2), np.nan, np.float32)
    flat = ids.ravel().astype(np.int64)
    cnt = np.bincount(flat, minlength=n_tracks + 1)
    ys, xs = np.divmod(np.arange(flat.size), ids.shape[1])
    sy = np.bincount(flat, weights=ys, minlength=n_tracks + 1)
    sx = np.bincount(flat, weights=xs, minlength=n_tracks + 1)
    for k in range(1, n_tracks + 1):
        if cnt[k] > 0:
            out[k - 1] = (sy[k] / cnt[k], sx[k] / cnt[k])
    return out


def cell_positions(h4: int, w4: int) -> tuple[np.ndarray, np.ndarray]:
    ys = (np.arange(h4, dtype=np.float32) * STRIDE + 1.5)[:, None].repeat(w4, 1)
    xs = (np.arange(w4, dtype=np.float32) * STRIDE + 1.5)[None, :].repeat(h4, 0)
    return ys, xs


def center_heatmap(com: np.ndarray, h4: int, w4: int, sigma: float) -> np.ndarray:
    """Max over instances of Gaussians at their centres of mass, sampled at stride-4 cells."""
    ys, xs = cell_positions(h4, w4)
    heat = np.zeros((h4, w4), np.float32)
    for cy, cx in com:
        if np.isnan(cy):
            continue
        g = np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2.0 * sigma * sigma))
        np.maximum(heat, g, out=heat)
    return heat


def frame_targets(ids_t: np.ndarray, ids_r: np.ndarray, classes: np.ndarray, sigma: float) -> dict[str, np.ndarray]:
    """All targets of one (target, reference) pair.

    ids_*: [H, W] instance index maps of the same video (same track numbering);
    classes: [n_tracks] category id of each track.
    """
    n = len(classes)
    lut = np.concatenate([[0], classes]).astype(np.int64)
    com_t = centers_of_mass(ids_t, n)
    com_r = centers_of_mass(ids_r, n)
    ids4 = block_mode(ids_t)
    h4, w4 = ids4.shape
    ys, xs = cell_positions(h4, w4)
    fg = ids4 > 0
    k = np.where(fg, ids4.astype(np.int64) - 1, 0)
    ct = com_t[k]  # [h4, w4, 2]
    cr = com_r[k]
    offset = np.stack([ct[..., 0] - ys, ct[..., 1] - xs], 0)
    inter = np.stack([cr[..., 0] - ys, cr[..., 1] - xs], 0)
    fg_t = fg & ~np.isnan(ct[..., 0])
    fg_r = fg_t & ~np.isnan(cr[..., 0])  # instance absent from the reference: ignored
    return {
        "semantic": lut[ids_t],
        "center": center_heatmap(com_t, h4, w4, sigma)[None],
        "offset": np.nan_to_num(offset).astype(np.float32),
        "offset_mask": fg_t.astype(np.float32)[None],
        "inter": np.nan_to_num(inter).astype(np.float32),
        "inter_mask": fg_r.astype(np.float32)[None],
        "flow": np.nan_to_num(np.stack([cr[..., 0] - ct[..., 0], cr[..., 1] - ct[..., 1]], 0)).astype(np.float32),
    }
