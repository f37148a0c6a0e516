"""The numpy twin's id maps at video resolution follow the soft-edge rule of src/assemble/idmap.rs."""

import numpy as np

from ifa_train import postprocess as pp


def test_soft_edge_lies_where_the_weight_crosses_one_half():
    # 80x48 video, 80x48 input, cells 12x20: the case of the Rust unit test of the same rule.
    m = pp.IdMapper(48, 80, 48, 80, 12, 20)
    ids = np.zeros((12, 20), np.uint32)
    ids[:, :10] = 4
    ids[:, 10] = 4
    level = np.zeros((12, 20), np.uint8)
    level[:, :10] = 15
    level[:, 10] = 6
    hard = pp.pack(np.where(level == 15, ids, 0), level, True)
    halo = pp.pack(np.where(level == 6, ids, 0), level, False)
    out = m.render(np.where(level == 15, hard, halo))
    row = out[20]
    assert np.flatnonzero(row == 4).max() == 40
    # Halo alone draws nothing, plain ids draw themselves.
    assert not m.render(pp.pack(np.full((12, 20), 4, np.uint32), np.full((12, 20), 7, np.uint8), False)).any()
    assert (m.render(np.full((12, 20), 9, np.uint32)) == 9).all()


def test_the_frame_moves_the_edge_to_its_colour_boundary():
    # As src/assemble/idmap.rs's test: 80x48 video, one pixel per input pixel, cells 12x20;
    # columns 0..=9 are the instance, so the plain edge is x = 39; the picture's ends at 37.
    cells = np.where(np.arange(240).reshape(12, 20) % 20 <= 9, 4, 0).astype(np.uint32)
    image = np.zeros((48, 80, 3), np.uint8)
    image[:, :38] = (200, 40, 40)
    image[:, 38:] = (30, 90, 160)

    def last(out):
        return int(np.nonzero(out[20] == 4)[0].max())

    plain = pp.IdMapper(48, 80, 48, 80, 12, 20)
    assert last(plain.render(cells, image)) == 39
    guided = pp.IdMapper(48, 80, 48, 80, 12, 20, edge_sigma=20.0)
    out = guided.render(cells, image)
    assert last(out) == 37
    assert (out[20, :30] == 4).all() and (out[20, 45:] == 0).all()
    assert last(guided.render(cells)) == 39
    assert (guided.render(np.full((12, 20), 4, np.uint32), image) == 4).all()


def test_refinement_snaps_a_blocky_mask_to_the_colour_edge():
    # As src/assemble/refine.rs's test: a disc whose mask is given as 4-pixel blocks.
    yy, xx = np.mgrid[0:80, 0:96]
    inside = np.hypot(xx - 47.3, yy - 39.6) <= 20.5
    image = np.where(inside[..., None], np.array([200, 60, 40], np.uint8), np.array([40, 90, 160], np.uint8))
    blocky = (np.hypot((xx // 4) * 4 + 2 - 47.3, (yy // 4) * 4 + 2 - 39.6) <= 20.5).astype(np.uint32) * 5

    def iou(m):
        return ((m == 5) & inside).sum() / ((m == 5) | inside).sum()

    out = pp.refine_ids(blocky, image, 6, 1e-3)
    assert iou(blocky) < 0.95 and iou(out) > 0.99
    # Through the id mapper (refine_radius in input pixels, here one per video pixel), from the
    # cells whose centre (input 4 i + 1.5) lies inside the disc: the soft start.
    m = pp.IdMapper(80, 96, 80, 96, 20, 24, refine_radius=6.0)
    assert m.refine_radius == 6
    ci, cj = np.mgrid[0:20, 0:24] * 4 + 1.5
    cells = (np.hypot(cj - 47.3, ci - 39.6) <= 20.5).astype(np.uint32) * 5
    plain = pp.IdMapper(80, 96, 80, 96, 20, 24).render(cells, image)
    assert iou(m.render(cells, image)) > max(0.98, iou(plain))
