"""The cache builder: any split of the work (worker processes, ranks' shares) gives the same files."""

from __future__ import annotations

import shutil

import fixture_synth
import torch

from ifa_train.cache import build_cache, default_jobs
from ifa_train.config import IMAGENET_MEAN


def _files(cdir):
    return {p.relative_to(cdir): p.read_bytes() for p in sorted(cdir.rglob("*")) if p.is_file()}


def test_shares_and_worker_processes_build_the_same_cache_as_one_process(tmp_path) -> None:
    # At the training size: torch parallelises the resize of frames this large, and rounds a few
    # pixels differently with another thread count.
    size = (352, 640)
    root = fixture_synth.generate(tmp_path / "a", videos=3, frames=2, width=640, height=360, seed=7)
    other = tmp_path / "b"
    shutil.copytree(root, other)
    logs: list[str] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the serial path in a process that runs torch on two threads
    try:
        one = build_cache(root, *size, list(IMAGENET_MEAN), logs.append, codec_mix=True)
        assert torch.get_num_threads() == 2, "the builder gives the process its threads back"
    finally:
        torch.set_num_threads(threads)
    # Two ranks' shares, the first with two worker processes: together, every video once.
    first = build_cache(other, *size, list(IMAGENET_MEAN), logs.append, codec_mix=True, jobs=2, shard=(0, 2))
    built_first = {p.name for p in first.iterdir() if p.is_dir()}
    assert built_first == {"1", "3"}, built_first
    second = build_cache(other, *size, list(IMAGENET_MEAN), logs.append, codec_mix=True, shard=(1, 2))
    assert first == second
    a, b = _files(one), _files(second)
    assert set(a) == set(b) and len(a) == 3 * 3 + 1
    assert all(a[k] == b[k] for k in a), [k for k in a if a[k] != b[k]]
    # A second run finds everything built and builds nothing.
    n = len(logs)
    build_cache(other, *size, list(IMAGENET_MEAN), logs.append, codec_mix=True, jobs=2)
    assert len(logs) == n
    assert default_jobs() >= 1 and default_jobs(10_000) == 1
