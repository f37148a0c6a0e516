"""World-coverage augmentations: repainting follows the id maps, keeps the letterbox padding and
gives an instance one fill in both frames of a pair; photometric jitter is shared by a pair."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ifa_train.augment import _Fill, photometric, restyle_pair


def _scene(shift: int):
    img = np.full((64, 96, 3), 100, np.uint8)
    ids = np.zeros((64, 96), np.uint8)
    ids[10:30, 10 + shift : 30 + shift] = 1
    ids[35:55, 50:70] = 2
    img[ids == 1] = (200, 30, 30)
    img[ids == 2] = (30, 200, 30)
    img[60:] = 124  # letterbox padding rows
    return img, ids


@pytest.mark.parametrize("wide", [False, True])
def test_restyle_repaints_instances_consistently_and_keeps_padding(wide):
    rng = np.random.default_rng(3)
    changed = 0
    for _ in range(20):
        (a, ia), (b, ib) = _scene(0), _scene(6)
        ra, rb = restyle_pair([a, b], [ia, ib], 2, (60, 96), rng, wide_fills=wide)
        assert (ra[60:] == a[60:]).all() and (rb[60:] == b[60:]).all()
        # Inside an instance, away from its border, the fill is anchored at the instance's centre:
        # the same relative pixel has the same colour in both frames.
        pa = ra[15:25, 15:25].astype(int)
        pb = rb[15:25, 21:31].astype(int)
        assert np.abs(pa - pb).max() <= 2
        changed += int(np.abs(ra[15:25, 15:25].astype(int) - a[15:25, 15:25].astype(int)).max() > 10)
    assert changed >= 15


@pytest.mark.parametrize("kind", _Fill.WIDE_KINDS)
def test_every_wide_fill_kind_is_in_range_and_textured(kind):
    """Each fill kind of the wide draw gives finite colours in range (shading may brighten by up
    to 55%; the repainting clips), every kind but a solid one varies across the instance, and
    the wide draw's outlines are 1 to 4 px thick."""
    thick, textured = set(), 0
    dy, dx = np.mgrid[-20:21, -20:21].astype(np.float32)
    for s in range(12):
        f = _Fill(np.random.default_rng(s), 20.0, (kind,), wide=True)
        col = f.render(dy.ravel(), dx.ravel())
        assert col.shape == (41 * 41, 3) and np.isfinite(col).all()
        assert col.min() >= -1e-3 and col.max() <= 255 * 1.56
        textured += int(float(col.std(axis=0).max()) > 1.0)
        thick.add(f.outline_px)
    assert thick <= {1, 2, 3, 4} and len(thick) >= 2
    if kind != "solid":
        assert textured >= 10, f"{kind}: only {textured} of 12 draws vary across the instance"


def test_photometric_is_shared_by_a_pair_and_stays_in_range():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 32, 48)
    x = torch.cat([x, x])  # references identical to their targets
    y = photometric(x.clone(), g, 2)
    assert y.min() >= 0 and y.max() <= 1
    # Without sensor noise (random per frame) a pair would be identical; allow the noise.
    assert (y[:2] - y[2:]).abs().mean() < 0.05
    assert (y - x).abs().mean() > 0.01


def test_a_pasted_instance_is_a_new_track_in_both_frames_at_its_size_and_motion() -> None:
    """Copy-paste (clips.ClipSampler.paste_small): a whole donor instance lands on top of the
    target and the reference as one new track, scaled to the asked radius, at the asked centres,
    with the donor's colours; what it covers loses those pixels."""
    from ifa_train.augment import donor_instances, paste_instance

    donor = np.zeros((60, 80, 3), np.uint8)
    dids = np.zeros((60, 80), np.uint8)
    dids[10:30, 10:30] = 1  # a whole 20x20 square, away from everything
    donor[10:30, 10:30] = (200, 30, 40)
    dids[40:60, 62:80] = 2  # touches the border: not a donor
    dids[5:25, 40:50] = 3
    dids[5:25, 50:55] = 4  # touches instance 3: neither is a donor
    found = donor_instances(donor, dids, (60, 80), min_area=50)
    assert [k for k, _, _ in found] == [1]
    _, crop, mask = found[0]

    imgs = [np.full((100, 160, 3), 90, np.uint8) for _ in range(2)]
    ids = [np.zeros((100, 160), np.uint8) for _ in range(2)]
    ids[0][40:60, 20:40] = 1  # an existing instance that the paste partly covers in the target
    paste_instance(imgs, ids, crop, mask, 2, radius=5.0, centres=[(50.0, 40.0), (50.0, 100.0)])
    for m, cx in zip(ids, (40.0, 100.0)):
        ys, xs = np.nonzero(m == 2)
        # outer radius 5: the square's half side, the mask's ring of 2 px included, scaled by 5/12
        assert 8 * 8 <= len(ys) <= 10 * 10, len(ys)
        assert abs(ys.mean() - 50.0) < 1.0 and abs(xs.mean() - cx) < 1.0
    inside = imgs[1][ids[1] == 2].astype(np.float32).mean(0)
    assert np.allclose(inside, (200, 30, 40), atol=25), inside
    assert (ids[0] == 1).sum() == 20 * 20 - (ids[0][40:60, 20:40] == 2).sum() > 0


@pytest.mark.parametrize("zoom", [0.7, 1.45])
def test_a_zoom_scales_both_frames_alike_and_keeps_padding(zoom) -> None:
    """augment.zoom_pair: one camera zoom for a pair, inside the valid region only; instances
    scale in area by zoom², keep their colour with their ids, and move alike in both frames."""
    from ifa_train.augment import zoom_pair

    a, ka = _scene(0)
    b, kb = _scene(6)
    pad = np.array([124, 124, 124], np.uint8)
    rng = np.random.default_rng(3)
    (za, zb), (zka, zkb) = zoom_pair([a, b], [ka, kb], (60, 96), zoom, rng, pad)
    assert np.array_equal(za[60:], a[60:]) and np.array_equal(zka[60:], ka[60:])
    for before, after in ((ka, zka), (kb, zkb)):
        n0, n1 = (before == 2).sum(), (after == 2).sum()
        if zoom < 1:  # the whole region shrinks: nothing leaves it
            assert abs(n1 / n0 - zoom * zoom) < 0.12, (n0, n1)
        else:  # magnified: an instance is larger, or partly out of the window
            assert n1 <= n0 * zoom * zoom * 1.12
    # the same transform for both: instance 2 (static) lands in the same place in both frames
    assert np.array_equal(zka == 2, zkb == 2)
    if (zka == 2).any():
        assert np.allclose(za[zka == 2].astype(np.float32).mean(0), (30, 200, 30), atol=20)
    if zoom < 1:
        uncovered = (zka[:60] == 0) & (np.abs(za[:60].astype(int) - 124).sum(-1) == 0)
        assert uncovered.sum() >= 60 * 96 * (1 - zoom * zoom) * 0.9
