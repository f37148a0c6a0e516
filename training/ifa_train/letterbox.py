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


def resize_ids(ids: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An id map resized to `size`: each pixel takes the instance with most weight, background
    unless one has over half the pixel (the rule of `letterbox_masks`, with the taps of
    `resize_picture` so that an id map stays aligned with its picture)."""
    k = torch.from_numpy(np.asarray(ids, np.int64))
    oh = F.one_hot(k, int(k.max()) + 1).permute(2, 0, 1)[None].float()
    oh[0, 0] = 0.5  # background wins unless an instance covers more than half the pixel
    soft = F.interpolate(oh, size=size, mode="bilinear", align_corners=False)
    return soft[0].argmax(0).to(torch.uint8).numpy()


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
