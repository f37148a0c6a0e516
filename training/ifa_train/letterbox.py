"""Letterbox geometry of docs/model-contract.md: keep aspect, top-left, pad with the mean colour."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def letterbox_scale(h: int, w: int, in_h: int, in_w: int) -> tuple[float, int, int]:
    """Scale s = min(H/h, W/w) and the resized size (nh, nw) placed at the top-left."""
    s = min(in_h / h, in_w / w)
    nh = min(in_h, max(1, int(round(h * s))))
    nw = min(in_w, max(1, int(round(w * s))))
    return s, nh, nw


def resize_picture(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An [h, w, 3] uint8 picture resized to `size` with plain 2-tap bilinear, half-pixel centres
    and no antialiasing (the runtime's preprocessing); the letterbox and the training-time
    resizes of cached frames (`clips.CachedVideo`, `augment.zoom_pair`) all go through it."""
    src = torch.from_numpy(np.asarray(img, np.float32)).permute(2, 0, 1)[None]
    res = F.interpolate(src, size=size, mode="bilinear", align_corners=False)
    return res[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def _taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 2-tap bilinear of `resize_picture` along one axis (half-pixel centres, no
    antialiasing): for each output index the two source indices and the second one's weight."""
    src = np.maximum((np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, src - i0


def resize_ids(ids: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An id map resized to `size`: each pixel takes the instance with most weight, background
    unless one has over half the pixel (the rule of `letterbox_masks`, with the taps of
    `resize_picture` so that an id map stays aligned with its picture).

    Only the four taps of each output pixel can hold weight, so the rule is evaluated on them
    directly instead of interpolating one plane per instance (one plane per id made the 448x800
    training input several times slower to sample than the network was to train)."""
    ids = np.asarray(ids)
    (h, w), (oh, ow) = ids.shape, size
    y0, y1, fy = _taps(h, oh)
    x0, x1, fx = _taps(w, ow)
    labels = [ids[y][:, x] for y in (y0, y1) for x in (x0, x1)]
    # Where the four taps agree the pixel is theirs; the rule is evaluated at the others only.
    out = labels[0].astype(np.uint8)
    edge = (labels[1] != labels[0]) | (labels[2] != labels[0]) | (labels[3] != labels[0])
    ry, rx = np.nonzero(edge)
    if ry.size:
        ty, tx = fy[ry], fx[rx]
        weights = [(1 - ty) * (1 - tx), (1 - ty) * tx, ty * (1 - tx), ty * tx]
        labs = [lab[ry, rx] for lab in labels]
        res = np.zeros(ry.size, np.uint8)
        for lab in labs:
            # The weight of this tap's label over all four taps; over half wins (one at most).
            total = sum(wj * (lj == lab) for wj, lj in zip(weights, labs))
            win = (total > 0.5) & (lab != 0)
            res[win] = lab[win]
        out[ry, rx] = res
    return out


def letterbox_image(img: Image.Image, in_h: int, in_w: int, mean: list[float]) -> np.ndarray:
    """RGB uint8 [in_h, in_w, 3]; pad = mean colour (0 after normalisation, up to rounding).

    Plain 2-tap bilinear with half-pixel centres and no antialiasing, exactly what the Rust
    runtime's preprocessor (src/infer/preprocess.rs) does, so training sees inference's pixels.
    """
    s, nh, nw = letterbox_scale(img.height, img.width, in_h, in_w)
    out = np.empty((in_h, in_w, 3), np.uint8)
    out[:] = np.round(np.asarray(mean) * 255.0).astype(np.uint8)
    out[:nh, :nw] = resize_picture(np.asarray(img.convert("RGB")), (nh, nw))
    return out


def letterbox_masks(masks: list[np.ndarray], in_h: int, in_w: int) -> np.ndarray:
    """Instance id map [in_h, in_w] uint8 (0 = none, k = masks[k-1]) from full-size binary masks.

    A pixel takes the instance covering most of it, if that covers at least half of it (same
    rule as the ground truth at full resolution); the area weights come from PIL's bilinear
    reduction, like the image.
    """
    out = np.zeros((in_h, in_w), np.uint8)
    if not masks:
        return out
    h, w = masks[0].shape
    _, nh, nw = letterbox_scale(h, w, in_h, in_w)
    soft = np.zeros((len(masks) + 1, nh, nw), np.float32)
    soft[0] = 0.5  # background wins unless an instance covers more than half the pixel
    for k, m in enumerate(masks):
        if m is not None and m.any():
            soft[k + 1] = np.asarray(Image.fromarray(m.astype(np.float32)).resize((nw, nh), Image.BILINEAR))
    out[:nh, :nw] = np.argmax(soft, axis=0).astype(np.uint8)
    return out
