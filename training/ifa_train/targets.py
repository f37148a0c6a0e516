"""Training targets (docs/method.md §3) from instance id maps, in input pixels.

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


def small_weight(area: np.ndarray | float, ref_area: float, max_weight: float) -> np.ndarray:
    """clamp(sqrt(ref_area / area), 1, max_weight): how much more an instance of `area` pixels counts."""
    return np.clip(np.sqrt(ref_area / np.maximum(area, 1.0)), 1.0, max_weight)


def center_weights(com: np.ndarray, area: np.ndarray, h4: int, w4: int, sigma: float, ref_area: float, max_weight: float, gain: float) -> np.ndarray:
    """[h4, w4] center-loss weight: 1, raised to 1 + gain * (clamp(sqrt(ref_area / area), 1, max_weight) - 1)
    where an instance's Gaussian exceeds 0.1. A small instance's peak covers a handful of cells of
    a map that is mostly zero, so a plain mean barely sees it being missed."""
    ys, xs = cell_positions(h4, w4)
    out = np.ones((h4, w4), np.float32)
    for (cy, cx), a in zip(com, area):
        if np.isnan(cy):
            continue
        wk = 1.0 + gain * (float(small_weight(a, ref_area, max_weight)) - 1.0)
        near = ((ys - cy) ** 2 + (xs - cx) ** 2) < 2.0 * sigma * sigma * np.log(10.0)
        out[near] = np.maximum(out[near], wk)
    return out


def block_fractions(ids: np.ndarray, n_tracks: int, stride: int) -> np.ndarray:
    """[n_tracks + 1, H/s, W/s]: the fraction of each stride x stride block covered by each id."""
    h, w = ids.shape
    hs, ws = h // stride, w // stride
    blk = (np.arange(h)[:, None] // stride) * ws + (np.arange(w)[None, :] // stride)
    counts = np.bincount((blk * (n_tracks + 1) + ids.astype(np.int64)).ravel(), minlength=hs * ws * (n_tracks + 1))
    return (counts.reshape(hs, ws, n_tracks + 1).transpose(2, 0, 1) / float(stride * stride)).astype(np.float32)


def attention_targets(ids_t: np.ndarray, ids_r: np.ndarray, n_tracks: int, stride: int, min_cover: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Where each target token of the cross-frame attention should look in the reference.

    Returns (weights [hw, hw], valid [hw]): for target token i whose block is covered at least
    `min_cover` by instance k (the largest), weights[i, j] is the fraction of reference block j
    covered by k. Tokens on background, or whose instance is absent from the reference, are not
    supervised. Our choice: the attention loss is -log(sum_j attn[i, j] * weights[i, j]).
    """
    ft = block_fractions(ids_t, n_tracks, stride)
    fr = block_fractions(ids_r, n_tracks, stride)
    fg = ft[1:]
    k = fg.argmax(0) + 1  # [hs, ws]
    cover = fg.max(0)
    present = fr[1:].reshape(n_tracks, -1).max(1) > 0
    valid = (cover >= min_cover) & present[k - 1]
    weights = fr.reshape(n_tracks + 1, -1)[k.ravel()]  # [hw_t, hw_r]
    return weights * valid.reshape(-1, 1), valid.reshape(-1).astype(np.float32)


def _max_filter(a: np.ndarray, r: int) -> np.ndarray:
    """Maximum over the (2r + 1)^2 window around each element (windows clipped at the borders)."""
    out = a.copy()
    for d in range(1, r + 1):  # rows, then columns: the square window is separable
        np.maximum(out[d:], a[:-d], out=out[d:])
        np.maximum(out[:-d], a[d:], out=out[:-d])
    rows = out.copy()
    for d in range(1, r + 1):
        np.maximum(out[:, d:], rows[:, :-d], out=out[:, d:])
        np.maximum(out[:, :-d], rows[:, d:], out=out[:, :-d])
    return out


def small_instance_weights(ids: np.ndarray, n_tracks: int, ref_area: float, max_weight: float, ring: int = 0) -> np.ndarray:
    """[H, W] semantic-loss weight: 1 on background, clamp(sqrt(ref_area / area), 1, max_weight) on
    an instance of `area` pixels, so that small instances are not drowned by large ones.

    `ring` > 0 gives the background within `ring` pixels of an instance that instance's weight
    too (the largest, where rings meet). Why: a weight on the instance's pixels alone moves the
    loss's optimum at an uncertain edge pixel towards foreground (at weight w, from probability
    1/2 to 1/(1 + w)), and the masks grow; weighting both sides of the edge keeps it where it is.
    """
    area = np.bincount(ids.ravel().astype(np.int64), minlength=n_tracks + 1).astype(np.float32)
    w = small_weight(area, ref_area, max_weight)
    w[0] = 1.0
    out = w[ids.astype(np.int64)]
    if ring > 0:
        bg = ids == 0
        out[bg] = _max_filter(out, ring)[bg]
    return out


def frame_targets(
    ids_t: np.ndarray,
    ids_r: np.ndarray,
    classes: np.ndarray,
    sigma: float,
    small_area: float = 0.0,
    small_max_weight: float = 1.0,
    center_gain: float = 0.0,
    small_ring: int = 0,
) -> dict[str, np.ndarray]:
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
    out = {
        "semantic": lut[ids_t],
        "center": center_heatmap(com_t, h4, w4, sigma)[None],
        "offset": np.nan_to_num(offset).astype(np.float32),
        "offset_mask": fg_t.astype(np.float32)[None],
        "inter": np.nan_to_num(inter).astype(np.float32),
        "inter_mask": fg_r.astype(np.float32)[None],
        "flow": np.nan_to_num(np.stack([cr[..., 0] - ct[..., 0], cr[..., 1] - ct[..., 1]], 0)).astype(np.float32),
    }
    if small_area > 0:
        out["semantic_weight"] = small_instance_weights(ids_t, n, small_area, small_max_weight, small_ring)
    if small_area > 0 and center_gain > 0:
        area = np.bincount(ids_t.ravel().astype(np.int64), minlength=n + 1)[1:].astype(np.float32)
        out["center_weight"] = center_weights(com_t, area, h4, w4, sigma, small_area, small_max_weight, center_gain)[None]
    return out
