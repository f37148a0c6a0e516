"""The sampler's hard cases: pairs where an instance is hidden in the reference, moved fast, or
has a same-class neighbour are found, and `hard_case_prob` draws from them."""

from __future__ import annotations

import numpy as np

from ifa_train.clips import ClipSampler, frame_instances, hard_pairs, is_hard_pair
from ifa_train.config import DataConfig


class FakeVideo:
    """What the sampler reads of a cached video: id maps, classes and length."""

    def __init__(self, ids: np.ndarray, classes: list[int]):
        self.ids = ids
        self.classes = np.asarray(classes, np.int64)
        self.length = ids.shape[0]


def square(ids: np.ndarray, t: int, k: int, y: int, x: int, r: int = 4) -> None:
    ids[t, y - r : y + r, x - r : x + r] = k


def test_hidden_fast_and_same_class_neighbours_are_hard() -> None:
    ids = np.zeros((6, 64, 64), np.uint8)
    for t in range(6):
        square(ids, t, 1, 10, 10)  # still, class 1: never hard by itself
        if t != 2:
            square(ids, t, 2, 40, 40)  # class 2, hidden in frame 2
    square(ids, 5, 3, 50, 10)  # appears in frame 5, class 3, far from the others
    v = FakeVideo(ids, [1, 2, 3])
    pairs = hard_pairs(v, max_gap=2)
    # Targets that hold instance 2 with frame 2 as reference; frame 5's newcomer is hidden in
    # its recent references but only not yet in view in the first frame.
    assert (3, 2) in pairs and (4, 2) in pairs
    assert (5, 3) in pairs and (5, 4) in pairs and (5, 0) not in pairs
    assert (2, 1) not in pairs and (1, 0) not in pairs and (4, 3) not in pairs
    # Moving 30 px in one frame is fast, 10 px is not, nor 30 px over three frames.
    a, b, c = (np.zeros((64, 64), np.uint8) for _ in range(3))
    square(a[None], 0, 1, 20, 10)
    square(b[None], 0, 1, 20, 40)
    square(c[None], 0, 1, 20, 20)
    cls = np.array([1])
    assert is_hard_pair(frame_instances(b), frame_instances(a), cls, gap=1)
    assert not is_hard_pair(frame_instances(b), frame_instances(a), cls, gap=3)
    assert not is_hard_pair(frame_instances(c), frame_instances(a), cls, gap=1)
    # Two instances of one class touching (clones crossing) are hard; of two classes, or of one
    # class far apart, they are not.
    d, e = np.zeros((64, 64), np.uint8), np.zeros((64, 64), np.uint8)
    square(d[None], 0, 1, 20, 20)
    square(d[None], 0, 2, 20, 28)
    square(e[None], 0, 1, 20, 10)
    square(e[None], 0, 2, 20, 50)
    assert is_hard_pair(frame_instances(d), frame_instances(d), np.array([4, 4]), gap=1)
    assert not is_hard_pair(frame_instances(d), frame_instances(d), np.array([4, 5]), gap=1)
    assert not is_hard_pair(frame_instances(e), frame_instances(e), np.array([4, 4]), gap=1)


def test_the_sampler_draws_hard_pairs_in_the_asked_share() -> None:
    ids = np.zeros((8, 64, 64), np.uint8)
    for t in range(8):
        square(ids, t, 1, 10, 10)
        if t != 4:
            square(ids, t, 2, 40, 40)
    v = FakeVideo(ids, [1, 2])
    hard = set(hard_pairs(v, max_gap=4))
    only = ClipSampler([v], DataConfig(hard_case_prob=1.0, max_gap=4), seed=0)
    assert all((t, r) in hard for _, t, r in (only.pick() for _ in range(200)))
    plain = ClipSampler([v], DataConfig(max_gap=4), seed=0)
    assert plain.hard == []
    drawn = [plain.pick()[1:] for _ in range(400)]
    share = sum(p in hard for p in drawn) / len(drawn)
    half = ClipSampler([v], DataConfig(hard_case_prob=0.5, max_gap=4), seed=0)
    share_half = sum(half.pick()[1:] in hard for _ in range(400)) / 400
    assert share_half > share + 0.2, (share, share_half)


def test_a_cache_read_at_a_larger_input_matches_one_built_at_it(tmp_path) -> None:
    """Training at an input larger than the caches (`data.cache_size`) letterboxes the cached
    frames as they are read; the result must be what a cache built at that size holds."""
    import fixture_synth

    from ifa_train.cache import build_cache
    from ifa_train.clips import load_cached_videos
    from ifa_train.config import IMAGENET_MEAN

    root = fixture_synth.generate(tmp_path / "ds", videos=1, frames=3, width=320, height=180, seed=3)
    small = build_cache(root, 96, 192, list(IMAGENET_MEAN))
    large = build_cache(root, 128, 256, list(IMAGENET_MEAN))
    (via,) = load_cached_videos([small], (128, 256))
    (ref,) = load_cached_videos([large])
    assert via.scale == ref.scale and via.valid == ref.valid == tuple(ref.meta["valid"])
    pad = np.round(np.asarray(IMAGENET_MEAN) * 255.0).astype(np.uint8)
    imgs, ids = via.resized_pair([np.asarray(via.frames[t]) for t in range(3)], [np.asarray(via.ids[t]) for t in range(3)], pad)
    for t in range(3):
        assert imgs[t].shape == ref.frames[t].shape and ids[t].shape == ref.ids[t].shape
        # Upsampling the smaller cache blurs what the larger one holds, but only at edges.
        assert np.abs(imgs[t].astype(np.int32) - ref.frames[t]).mean() < 3.0
        fg = (ids[t] > 0) | (ref.ids[t] > 0)
        assert fg.sum() > 100
        assert (ids[t] == ref.ids[t])[fg].mean() > 0.93
        assert (imgs[t][:, ref.valid[1] :] == pad).all() and (ids[t][:, ref.valid[1] :] == 0).all()
        assert ref.valid[1] < 256


def test_the_sampler_pastes_small_instances_as_tracks_of_both_frames(tmp_path) -> None:
    """With `paste_prob` 1 every pair gains new tracks: their class in the semantic target of
    the target frame and of the reference, no larger than asked."""
    import fixture_synth

    from ifa_train.cache import build_cache
    from ifa_train.clips import load_cached_videos
    from ifa_train.config import IMAGENET_MEAN

    root = fixture_synth.generate(tmp_path / "ds", videos=2, frames=4, width=320, height=180, seed=5)
    (cache,) = [build_cache(root, 192, 320, list(IMAGENET_MEAN))]
    videos = load_cached_videos([cache])
    plain = DataConfig(input_size=(192, 320), restyle_prob=0.0, flip_prob=0.0, photometric=0.0, attn_strides=(16,))
    pasted = DataConfig(**{**plain.__dict__, "paste_prob": 1.0, "paste_max": 2, "paste_radius": (0.05, 0.06)})
    grew = 0
    for seed in range(6):
        a = ClipSampler(videos, plain, seed=seed).pair(videos[0], 3, 1)
        sampler = ClipSampler(videos, pasted, seed=seed)
        b = sampler.pair(videos[0], 3, 1)
        new_t = (b["semantic"] > 0) & (b["semantic"] != a["semantic"])
        new_r = (b["semantic_r"] > 0) & (b["semantic_r"] != a["semantic_r"]) if "semantic_r" in b else new_t
        if not new_t.any():
            continue  # no whole donor drawn this time
        grew += 1
        r = 0.055 * 180 * (192 / 180)  # the asked radius in input pixels, mid-range
        assert new_t.sum() < 2 * np.pi * r * r * 1.5 and new_r.any()
        assert (b["img_t"] != a["img_t"]).any()
    assert grew >= 3


def test_upside_down_pairs_flip_the_content_and_keep_the_padding_below(tmp_path) -> None:
    """With `vflip_prob` 1 a pair is the plain one with its content rows upside down: images,
    targets made from the flipped id maps, and the letterbox's padding still at the bottom."""
    import fixture_synth

    from ifa_train.cache import build_cache
    from ifa_train.clips import load_cached_videos
    from ifa_train.config import IMAGENET_MEAN

    # 320x120 into 192x320: the content keeps 120 rows, so 72 rows of padding lie below.
    root = fixture_synth.generate(tmp_path / "ds", videos=1, frames=3, width=320, height=120, seed=7)
    (cache,) = [build_cache(root, 192, 320, list(IMAGENET_MEAN))]
    (video,) = load_cached_videos([cache])
    rows = video.valid[0]
    assert rows < 192
    plain = DataConfig(input_size=(192, 320), restyle_prob=0.0, flip_prob=0.0, photometric=0.0, attn_strides=())
    upside = DataConfig(**{**plain.__dict__, "vflip_prob": 1.0})
    a = ClipSampler([video], plain, seed=3).pair(video, 2, 1, with_ids=True)
    b = ClipSampler([video], upside, seed=3).pair(video, 2, 1, with_ids=True)
    for k in ("img_t", "img_r", "ids_t", "ids_r"):
        assert (b[k][:rows] == a[k][:rows][::-1]).all()
        assert (b[k][rows:] == a[k][rows:]).all()
    assert (b["ids_t"] > 0).any() and not (b["ids_t"] == a["ids_t"]).all()
    assert (b["semantic"][:rows] == a["semantic"][:rows][::-1]).all()
    # The flow targets follow the flipped id maps: vertical offsets change sign, horizontal ones stay.
    fa, fb = a["offset_mask"][0] > 0, b["offset_mask"][0] > 0
    assert fa.sum() == fb.sum() > 0
    assert np.isclose(b["flow"][0][fb].sum(), -a["flow"][0][fa].sum(), atol=1e-2)
    assert np.isclose(b["flow"][1][fb].sum(), a["flow"][1][fa].sum(), atol=1e-2)


def test_training_windows_cut_the_same_place_of_both_frames_inside_the_picture(tmp_path) -> None:
    """With `crop_size` every pair is a window of the whole pair: the same window of the target
    and the reference, inside the letterboxed picture, at places that vary; the classes of the
    semantic target are the whole pair's there, and the targets are the window's own size."""
    import fixture_synth

    from ifa_train.cache import build_cache
    from ifa_train.clips import crop_window, load_cached_videos
    from ifa_train.config import IMAGENET_MEAN

    # 320x120 into 192x320: 120 rows of picture above 72 rows of padding.
    root = fixture_synth.generate(tmp_path / "ds", videos=1, frames=3, width=320, height=120, seed=7)
    (cache,) = [build_cache(root, 192, 320, list(IMAGENET_MEAN))]
    (video,) = load_cached_videos([cache])
    rows = video.valid[0]
    plain = DataConfig(input_size=(192, 320), restyle_prob=0.0, flip_prob=0.0, photometric=0.0, attn_strides=(16,))
    windowed = DataConfig(**{**plain.__dict__, "crop_size": (96, 160)})
    a = ClipSampler([video], plain, seed=3).pair(video, 2, 1, with_ids=True)
    places = set()
    for seed in range(8):
        b = ClipSampler([video], windowed, seed=seed).pair(video, 2, 1, with_ids=True)
        assert b["img_t"].shape[:2] == (96, 160) and b["semantic"].shape[-2:] == (96, 160)
        assert b["attn16_valid"].shape[-1] == 6 * 10
        hits = [(y, x) for y in range(0, 192 - 96 + 1) for x in range(0, 320 - 160 + 1) if (a["img_t"][y : y + 96, x : x + 160] == b["img_t"]).all()]
        assert len(hits) >= 1
        y, x = hits[0]
        assert y + 96 <= rows  # never in the padding
        places.add((y, x))
        for k in ("img_r", "ids_t", "ids_r"):
            assert (b[k] == a[k][y : y + 96, x : x + 160]).all()
        assert (b["semantic"] == a["semantic"][y : y + 96, x : x + 160]).all()
    assert len(places) >= 6
    # A picture smaller than the window keeps the window at its top-left edge.
    img = np.zeros((192, 320), np.uint8)
    (out,), valid = crop_window([img], (80, 300), (96, 160), np.random.default_rng(0))
    assert out.shape == (96, 160) and valid[0] == 80 and valid[1] == 160


def test_a_training_window_must_fit_the_input_and_the_strides() -> None:
    import pytest

    for bad in ((100, 160), (224, 160), (96, 352)):
        with pytest.raises(ValueError, match="crop_size"):
            DataConfig(input_size=(192, 320), crop_size=bad)
    assert DataConfig(input_size=(192, 320), crop_size=(96, 160)).crop_size == (96, 160)
