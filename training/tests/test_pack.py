"""Packs of training caches (`ifa_train.pack`): a restored root trains as the cache did."""

from __future__ import annotations

import json

import fixture_synth
import numpy as np
import pytest

from ifa_train import pack as packmod
from ifa_train.cache import build_cache, cache_dir_for
from ifa_train.clips import ClipSampler, load_cached_videos
from ifa_train.config import IMAGENET_MEAN, DataConfig
from ifa_train.ytvis import load_dataset

SIZE = (192, 320)


def _cache(tmp_path):
    root = fixture_synth.generate(tmp_path / "src", videos=3, frames=5, width=320, height=180, seed=3)
    return root, build_cache(root, *SIZE, list(IMAGENET_MEAN), lambda *_: None)


def test_a_restored_pack_has_the_ids_exactly_and_frames_close(tmp_path) -> None:
    root, cdir = _cache(tmp_path)
    packmod.pack(cdir, tmp_path / "pk", crf=18, jobs=2, log=lambda *_: None)
    out = packmod.unpack(tmp_path / "pk", tmp_path / "restored", jobs=2, log=lambda *_: None)
    rdir = cache_dir_for(out, *SIZE)
    src = {p.name for p in cdir.iterdir() if p.is_dir()}
    assert {p.name for p in rdir.iterdir() if p.is_dir()} == src and len(src) == 3
    for v in src:
        a, b = cdir / v, rdir / v
        assert json.loads((a / "meta.json").read_text()) == json.loads((b / "meta.json").read_text())
        assert np.array_equal(np.load(a / "ids.npy"), np.load(b / "ids.npy"))
        fa, fb = np.load(a / "frames.npy").astype(np.int16), np.load(b / "frames.npy").astype(np.int16)
        assert fa.shape == fb.shape
        assert np.abs(fa - fb).mean() < 4.0, "one more H.264 generation at CRF 18 stays close"
    # The restored root is a training root: its listing loads, its cache is complete (nothing to
    # build, so no JPEG frames are needed) and the sampler draws from it.
    ds = load_dataset(out)
    assert ds.categories == load_dataset(root).categories and len(ds.videos) == 3
    assert build_cache(out, *SIZE, list(IMAGENET_MEAN), lambda *_: pytest.fail("rebuilt a restored video")) == rdir
    cfg = DataConfig(input_size=SIZE, hard_case_prob=0.5)
    sampler = ClipSampler(load_cached_videos([rdir]), cfg, seed=1, jobs=2)
    assert sampler.hard == ClipSampler(load_cached_videos([rdir]), cfg, seed=1).hard, "the scan over processes finds what one process finds"
    assert sampler.batch(2)["img_t"].shape == (2, *SIZE, 3)


def test_max_frames_keeps_the_first_frames(tmp_path) -> None:
    _, cdir = _cache(tmp_path)
    packmod.pack(cdir, tmp_path / "pk", max_frames=2, log=lambda *_: None)
    out = packmod.unpack(tmp_path / "pk", tmp_path / "r", log=lambda *_: None)
    for v in (p for p in cdir.iterdir() if p.is_dir()):
        ids = np.load(cache_dir_for(out, *SIZE) / v.name / "ids.npy")
        assert np.array_equal(ids, np.load(v / "ids.npy")[:2])


def test_opencv_decodes_what_ffmpeg_decodes(tmp_path, monkeypatch) -> None:
    pytest.importorskip("cv2")
    _, cdir = _cache(tmp_path)
    packmod.pack(cdir, tmp_path / "pk", log=lambda *_: None)
    a = packmod.unpack(tmp_path / "pk", tmp_path / "ff", log=lambda *_: None)
    monkeypatch.setattr(packmod, "_ffmpeg", lambda: None)
    b = packmod.unpack(tmp_path / "pk", tmp_path / "cv", log=lambda *_: None)
    for v in (p for p in cdir.iterdir() if p.is_dir()):
        fa = np.load(cache_dir_for(a, *SIZE) / v.name / "frames.npy")
        fb = np.load(cache_dir_for(b, *SIZE) / v.name / "frames.npy")
        assert np.abs(fa.astype(np.int16) - fb).max() <= 2


def test_unpack_refuses_a_folder_with_content_and_pack_its_own_cache(tmp_path) -> None:
    _, cdir = _cache(tmp_path)
    with pytest.raises(ValueError):
        packmod.pack(cdir, cdir / "inside", log=lambda *_: None)
    packmod.pack(cdir, tmp_path / "pk", log=lambda *_: None)
    keep = tmp_path / "busy"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    (keep / "1.mp4").write_text("mine too")
    with pytest.raises(FileExistsError):
        packmod.unpack(tmp_path / "pk", keep, log=lambda *_: None)
    with pytest.raises(FileExistsError):  # a pack into a folder of other files: none written over
        packmod.pack(cdir, keep, log=lambda *_: None)
    assert (keep / "notes.txt").read_text() == "mine" and (keep / "1.mp4").read_text() == "mine too"
    with pytest.raises(FileExistsError):  # a pack of other settings is not resumed into
        packmod.pack(cdir, tmp_path / "pk", crf=30, log=lambda *_: None)
    # An unfinished pack is refused by unpack and finished by packing again.
    manifest = json.loads((tmp_path / "pk" / "pack.json").read_text())
    (tmp_path / "pk" / "pack.json").write_text(json.dumps({**manifest, "complete": False}))
    (tmp_path / "pk" / "1.json").unlink()
    with pytest.raises(ValueError, match="unfinished"):
        packmod.unpack(tmp_path / "pk", tmp_path / "r", log=lambda *_: None)
    packmod.pack(cdir, tmp_path / "pk", log=lambda *_: None)
    assert len(load_dataset(packmod.unpack(tmp_path / "pk", tmp_path / "r", log=lambda *_: None)).videos) == 3
    # A pack of the first format (no settings, no completeness) is refused by its version.
    manifest = json.loads((tmp_path / "pk" / "pack.json").read_text())
    (tmp_path / "pk" / "pack.json").write_text(json.dumps({k: manifest[k] for k in ("categories", "cache")} | {"version": 1}))
    with pytest.raises(ValueError, match="pack version 1"):
        packmod.unpack(tmp_path / "pk", tmp_path / "r1", log=lambda *_: None)
