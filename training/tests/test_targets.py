"""Geometry of the training targets: cell convention, centres, offsets and flips."""

from __future__ import annotations

import numpy as np

from ifa_train.letterbox import letterbox_masks, letterbox_scale
from ifa_train.targets import attention_targets, block_fractions, block_mode, centers_of_mass, frame_targets, small_instance_weights


def test_letterbox_scale_fits_and_keeps_aspect():
    assert letterbox_scale(360, 640, 192, 320) == (0.5, 180, 320)
    s, nh, nw = letterbox_scale(96, 160, 192, 320)
    assert (s, nh, nw) == (2.0, 192, 320)
    s, nh, nw = letterbox_scale(480, 480, 192, 320)
    assert (nh, nw) == (192, 192) and s == 0.4


def test_letterbox_masks_majority_and_top_left():
    m = np.zeros((40, 40), np.uint8)
    m[:20, :20] = 1
    ids = letterbox_masks([m], 32, 64)  # scale 0.8 -> 32x32 at the left, padding on the right
    assert ids[:16, :16].all() and not ids[:, 32:].any() and not ids[16:, :].any()


def test_offsets_point_to_centre_of_mass_from_cell_centres():
    ids_t = np.zeros((16, 32), np.uint8)
    ids_t[0:8, 0:8] = 1  # centre (3.5, 3.5)
    ids_r = np.zeros_like(ids_t)
    ids_r[4:12, 8:16] = 1  # moved by (+4, +8): centre (7.5, 11.5)
    tg = frame_targets(ids_t, ids_r, np.array([3]), sigma=2.0)
    # Cell (0, 0) stands for input position (1.5, 1.5).
    assert np.allclose(tg["offset"][:, 0, 0], [2.0, 2.0])
    assert np.allclose(tg["inter"][:, 1, 1], [7.5 - 5.5, 11.5 - 5.5])
    assert np.allclose(tg["flow"][:, 0, 0], [4.0, 8.0])
    assert tg["offset_mask"][0, :2, :2].all() and not tg["offset_mask"][0, 2:].any()
    assert tg["semantic"][0, 0] == 3 and tg["semantic"][10, 10] == 0
    # The heatmap peaks at the cells nearest the centre (3.5, 3.5): cells 0 and 1 are equidistant.
    assert np.isclose(tg["center"][0, 0, 0], tg["center"][0, 1, 1])
    assert tg["center"][0, 0, 0] > tg["center"][0, 2, 2]


def test_absent_in_reference_is_ignored():
    ids_t = np.zeros((8, 8), np.uint8)
    ids_t[:4, :4] = 1
    ids_t[4:, 4:] = 2
    ids_r = np.zeros_like(ids_t)
    ids_r[:4, :4] = 1
    tg = frame_targets(ids_t, ids_r, np.array([1, 2]), sigma=2.0)
    assert tg["inter_mask"][0, 0, 0] == 1 and tg["inter_mask"][0, 1, 1] == 0
    assert tg["offset_mask"][0, 1, 1] == 1


def test_flip_convention_matches_cells():
    ids = np.zeros((8, 16), np.uint8)
    ids[:, :5] = 1
    flipped = ids[:, ::-1].copy()
    a = centers_of_mass(ids, 1)[0]
    b = centers_of_mass(flipped, 1)[0]
    assert np.isclose(b[1], 15 - a[1])
    tg = frame_targets(flipped, flipped, np.array([1]), 1.0)
    # Cell (0, 3) stands for x = 13.5; the flipped centre is x = 13.
    assert np.isclose(tg["offset"][1, 0, 3], 13.0 - 13.5)


def test_block_mode():
    ids = np.array([[1, 1, 2, 2], [1, 0, 2, 2], [0, 0, 0, 0], [0, 0, 0, 3]], np.uint8)
    assert block_mode(ids, 2).tolist() == [[1, 2], [0, 0]]


def test_block_fractions_sum_to_one():
    ids = np.array([[1, 1, 2, 2], [1, 0, 2, 2], [0, 0, 0, 0], [0, 0, 0, 3]], np.uint8)
    f = block_fractions(ids, 3, 2)
    assert f.shape == (4, 2, 2) and np.allclose(f.sum(0), 1.0)
    assert f[1, 0, 0] == 0.75 and f[2, 0, 1] == 1.0 and f[3, 1, 1] == 0.25


def test_attention_targets_point_at_the_same_instance():
    # Instances 1 and 2 swap sides between reference and target; 3 exists only in the target.
    ids_t = np.zeros((4, 8), np.uint8)
    ids_t[:, :2] = 1
    ids_t[:, 6:] = 2
    ids_t[:2, 2:4] = 3
    ids_r = np.zeros_like(ids_t)
    ids_r[:, :2] = 2
    ids_r[:, 6:] = 1
    w, valid = attention_targets(ids_t, ids_r, 3, 2)  # 2x4 tokens, row-major
    assert w.shape == (8, 8) and valid.shape == (8,)
    # Token (0, 0) is on instance 1: it must look at the reference's right column (tokens 3, 7).
    assert valid[0] == 1 and w[0, 3] == 1.0 and w[0, 7] == 1.0 and w[0, 0] == 0.0
    # Token (1, 3) is on instance 2: the reference's left column.
    assert valid[7] == 1 and w[7, 0] == 1.0 and w[7, 4] == 1.0 and w[7, 3] == 0.0
    # Token (0, 1) is on instance 3, absent from the reference; token (0, 2) is background.
    assert valid[1] == 0 and not w[1].any()
    assert valid[2] == 0 and not w[2].any()


def test_small_instances_weigh_more_up_to_the_cap():
    ids = np.zeros((64, 64), np.uint8)
    ids[:40, :40] = 1  # 1600 px: sqrt(400 / 1600) < 1 -> weight 1
    ids[50:54, 50:54] = 2  # 16 px: sqrt(400 / 16) = 5 -> capped at 4
    ids[44:54, 0:10] = 3  # 100 px: sqrt(400 / 100) = 2
    w = small_instance_weights(ids, 3, 400.0, 4.0)
    assert w[63, 63] == 1.0 and w[0, 0] == 1.0 and w[51, 51] == 4.0 and np.isclose(w[45, 5], 2.0)
    tg = frame_targets(ids, ids, np.array([1, 2, 3]), 2.0, small_area=400.0, small_max_weight=4.0)
    assert np.array_equal(tg["semantic_weight"], w)
    assert "semantic_weight" not in frame_targets(ids, ids, np.array([1, 2, 3]), 2.0)


def test_the_ring_weighs_the_background_beside_a_small_instance_as_the_instance():
    ids = np.zeros((64, 64), np.uint8)
    ids[50:54, 50:54] = 2  # 16 px: capped at 4
    ids[44:54, 0:10] = 3  # 100 px: 2
    w = small_instance_weights(ids, 3, 400.0, 4.0, ring=2)
    # Within two pixels of the instance (its square window) the background takes its weight.
    assert w[48, 48] == 4.0 and w[55, 55] == 4.0 and w[51, 55] == 4.0
    assert w[47, 51] == 1.0 and w[51, 56] == 1.0 and w[0, 0] == 1.0
    assert np.isclose(w[42, 5], 2.0) and np.isclose(w[50, 11], 2.0) and w[50, 12] == 1.0
    # Instance pixels keep their own weight, and the edge's two sides weigh the same.
    assert np.array_equal(w[ids > 0], small_instance_weights(ids, 3, 400.0, 4.0)[ids > 0])
    tg = frame_targets(ids, ids, np.array([1, 2, 3]), 2.0, small_area=400.0, small_max_weight=4.0, small_ring=2)
    assert np.array_equal(tg["semantic_weight"], w)


def test_center_weights_raise_the_peaks_of_small_instances_only():
    ids = np.zeros((64, 64), np.uint8)
    ids[:40, :40] = 1  # 1600 px: weight 1 (large)
    ids[50:54, 50:54] = 2  # 16 px: capped at 4 -> 1 + 2 * 3 = 7 near its center
    tg = frame_targets(ids, ids, np.array([1, 2]), 2.0, small_area=400.0, small_max_weight=4.0, center_gain=2.0)
    cw = tg["center_weight"][0]
    assert cw.shape == tg["center"][0].shape
    assert cw[13, 13] == 7.0  # cell (13, 13) stands for pixel 53.5: the small instance's center
    assert cw[5, 5] == 1.0 and cw[0, 15] == 1.0  # the large instance's peak and the background
    # Only where the small instance's Gaussian exceeds 0.1 (2 px sigma: within 4.3 px).
    heat = tg["center"][0]
    assert np.all((cw > 1.0) == ((heat > 0.1) & (cw > 1.0)))
    assert "center_weight" not in frame_targets(ids, ids, np.array([1, 2]), 2.0, small_area=400.0, small_max_weight=4.0)
