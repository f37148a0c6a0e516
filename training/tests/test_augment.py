"""World-coverage augmentations: repainting follows the id maps, keeps the letterbox padding and
gives an instance one fill in both frames of a pair; photometric jitter is shared by a pair."""

from __future__ import annotations

import numpy as np
import torch

from ifa_train.augment import photometric, restyle_pair


def _scene(shift: int):
    img = np.full((64, 96, 3), 100, np.uint8)
    ids = np.zeros((64, 96), np.uint8)
    ids[10:30, 10 + shift : 30 + shift] = 1
    ids[35:55, 50:70] = 2
    img[ids == 1] = (200, 30, 30)
    img[ids == 2] = (30, 200, 30)
    img[60:] = 124  # letterbox padding rows
    return img, ids


def test_restyle_repaints_instances_consistently_and_keeps_padding():
    rng = np.random.default_rng(3)
    changed = 0
    for _ in range(20):
        (a, ia), (b, ib) = _scene(0), _scene(6)
        ra, rb = restyle_pair([a, b], [ia, ib], 2, (60, 96), rng)
        assert (ra[60:] == a[60:]).all() and (rb[60:] == b[60:]).all()
        # Inside an instance, away from its border, the fill is anchored at the instance's centre:
        # the same relative pixel has the same colour in both frames.
        pa = ra[15:25, 15:25].astype(int)
        pb = rb[15:25, 21:31].astype(int)
        assert np.abs(pa - pb).max() <= 2
        changed += int(np.abs(ra[15:25, 15:25].astype(int) - a[15:25, 15:25].astype(int)).max() > 10)
    assert changed >= 15


def test_photometric_is_shared_by_a_pair_and_stays_in_range():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 32, 48)
    x = torch.cat([x, x])  # references identical to their targets
    y = photometric(x.clone(), g, 2)
    assert y.min() >= 0 and y.max() <= 1
    # Without sensor noise (random per frame) a pair would be identical; allow the noise.
    assert (y[:2] - y[2:]).abs().mean() < 0.05
    assert (y - x).abs().mean() > 0.01
