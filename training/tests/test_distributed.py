"""The distributed path is real: a few iterations under `torchrun --nproc_per_node 2` (gloo, CPU)
end with identical weights in both processes, and the checkpoint exports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import fixture_synth
import onnx
import pytest
import torch

from ifa_train import export


def test_two_processes_end_with_identical_weights_and_export(tmp_path: Path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        torchrun = shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed beside this Python")
    data = fixture_synth.generate(tmp_path / "data", videos=2, frames=8, width=160, height=96, seed=3)
    run = tmp_path / "run"
    cmd = [
        str(torchrun),
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        "-m",
        "ifa_train.train",
        "--data",
        str(data),
        "--out",
        str(run),
        "--iters",
        "3",
        "--batch",
        "1",
        "--size",
        "96x160",
        "--threads",
        "1",
        "--log-every",
        "1",
        "--device",
        "cpu",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    ck = torch.load(run / "final.pt", map_location="cpu", weights_only=False)
    info = ck["extra"]
    assert info["world_size"] == 2 and info["iterations"] == 3
    prints = info["rank_fingerprints"]
    assert len(prints) == 2 and prints[0] == prints[1], prints
    out = export.export(run / "final.pt", tmp_path / "m.onnx")
    model = onnx.load(str(out))
    assert [o.name for o in model.graph.output] == export.OUTPUT_NAMES
