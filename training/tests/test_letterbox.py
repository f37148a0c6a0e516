"""The id-map resize keeps the rule of the one-plane-per-instance interpolation it replaced."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ifa_train.letterbox import resize_ids, resize_picture


def _by_planes(ids: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The rule spelled out: one bilinear plane per id (background held at one half), argmax."""
    k = torch.from_numpy(ids.astype(np.int64))
    planes = F.one_hot(k, int(k.max()) + 1).permute(2, 0, 1)[None].double()
    planes[0, 0] = 0.5
    soft = F.interpolate(planes, size=size, mode="bilinear", align_corners=False)
    return soft[0].argmax(0).to(torch.uint8).numpy()


def _blobs(rng: np.random.Generator, h: int, w: int, n: int) -> np.ndarray:
    ids = np.zeros((h, w), np.uint8)
    yy, xx = np.mgrid[:h, :w]
    for k in range(1, n + 1):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(1.5, min(h, w) / 4)
        ids[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = k  # later ones in front, as occlusion
    return ids


@pytest.mark.parametrize("size", [(448, 800), (300, 500), (88, 160), (97, 301), (88, 161)])
def test_resize_ids_matches_the_planes_rule(size):
    rng = np.random.default_rng(sum(size))
    differ = total = 0
    for _ in range(4):
        ids = _blobs(rng, 88, 160, 12)
        a, b = _by_planes(ids, size), resize_ids(ids, size)
        differ, total = differ + int((a != b).sum()), total + a.size
    # Only exact ties at one half may round either way.
    assert differ <= total * 1e-4, (differ, total)


def test_resize_ids_stays_aligned_with_the_picture():
    # A square's picture and id map resized alike: its pixels over half bright are the instance's.
    ids = np.zeros((40, 64), np.uint8)
    ids[10:23, 17:41] = 3
    img = np.repeat((ids > 0)[..., None] * 255, 3, axis=2).astype(np.uint8)
    for size in [(56, 90), (31, 50)]:
        r_ids, r_img = resize_ids(ids, size), resize_picture(img, size)[..., 0]
        assert set(np.unique(r_ids)) <= {0, 3}
        np.testing.assert_array_equal(r_ids == 3, r_img > 128)
