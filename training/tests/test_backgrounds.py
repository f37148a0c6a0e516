"""Repainted backgrounds: every kind draws a picture of the asked size in range, repeatably; the
held-out photographs are never drawn; excluding "tiles" keeps the lattices out too; the
distractors stay background; a config with an unknown kind is refused."""

from __future__ import annotations

import numpy as np
import pytest

from ifa_train.augment import restyle_pair
from ifa_train.backgrounds import HELD_OUT_PHOTOS, KINDS, PHOTOS, background, distractors, photo_names
from ifa_train.config import DataConfig


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_a_picture_of_the_asked_size_and_repeatable(kind):
    a = background(np.random.default_rng(5), 48, 80, (kind,), distractor_prob=1.0)
    b = background(np.random.default_rng(5), 48, 80, (kind,), distractor_prob=1.0)
    assert a.shape == (48, 80, 3) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 255
    np.testing.assert_array_equal(a, b)
    # Not a flat colour: every kind has structure (or, for a gradient, a ramp).
    assert float(a.std()) > 1.0


def test_photos_exclude_the_held_out_ones_and_are_installed():
    assert not set(PHOTOS) & set(HELD_OUT_PHOTOS)
    # The setup installs scikit-image's files, so every listed photograph is there.
    assert photo_names() == list(PHOTOS)


def test_a_photo_crop_differs_between_draws():
    rng = np.random.default_rng(0)
    crops = [background(rng, 40, 64, ("photo",)) for _ in range(4)]
    assert all(np.abs(crops[0] - c).mean() > 1.0 for c in crops[1:])


def test_distractors_change_a_part_of_the_picture_only():
    flat = np.full((90, 160, 3), 128.0, np.float32)
    changed = [float((np.abs(distractors(np.random.default_rng(s), flat) - flat).max(axis=2) > 0).mean()) for s in range(10)]
    assert all(0.0 < c < 0.5 for c in changed)


def _scene():
    img = np.full((64, 96, 3), 100, np.uint8)
    ids = np.zeros((64, 96), np.uint8)
    ids[10:30, 10:30] = 1
    img[ids == 1] = (200, 30, 30)
    return img, ids


def test_excluding_tiles_keeps_lattices_out_and_the_background_untouched():
    img, ids = _scene()
    for s in range(10):
        (out,) = restyle_pair([img], [ids], 1, (64, 96), np.random.default_rng(s), bg_prob=1.0, exclude=("tiles",), bg_kinds=("lattice",))
        # Only the instance (and its softened border) was repainted.
        assert (out[40:, 40:] == img[40:, 40:]).all()
    (out,) = restyle_pair([img], [ids], 1, (64, 96), np.random.default_rng(0), bg_prob=1.0, bg_kinds=("lattice",))
    assert (out[40:, 40:] != img[40:, 40:]).any()


def test_the_config_refuses_an_unknown_background_kind():
    with pytest.raises(ValueError, match="restyle_backgrounds"):
        DataConfig(restyle_backgrounds=["noise", "stars"])
