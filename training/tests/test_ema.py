"""The weight average: its arithmetic, and a run that writes, resumes and exports it."""

from __future__ import annotations

from pathlib import Path

import fixture_synth
import pytest
import torch
from torch import nn

from ifa_train import export, train
from ifa_train.ema import WeightAverage


def test_the_average_follows_the_weights_at_its_decay_and_copies_counters():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    ema = WeightAverage(net, 0.9)
    with torch.no_grad():
        net[0].weight.fill_(3.0)
    net[1].num_batches_tracked.fill_(5)
    ema.update(net)
    assert torch.allclose(ema.shadow["0.weight"], torch.full((2, 2), 1.2))  # 0.9 * 1 + 0.1 * 3
    ema.update(net)
    assert torch.allclose(ema.shadow["0.weight"], torch.full((2, 2), 1.38))
    assert int(ema.shadow["1.num_batches_tracked"]) == 5
    with pytest.raises(ValueError):
        WeightAverage(net, 1.0)
    with pytest.raises(ValueError):
        ema.load_state_dict({"0.weight": torch.zeros(2, 2)})


def test_a_run_with_an_average_writes_resumes_and_exports_it(tmp_path: Path):
    data = fixture_synth.generate(tmp_path / "data", videos=2, frames=8, width=160, height=96, seed=1)
    run = tmp_path / "run"
    args = ["--data", str(data), "--out", str(run), "--iters", "4", "--batch", "2", "--ckpt-every", "2", "--size", "96x160", "--ema-decay", "0.5"]
    assert train.main(args) == 0
    last = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    assert last["ema"] is not None
    ema_ck = torch.load(run / "final_ema.pt", map_location="cpu", weights_only=False)
    assert ema_ck["extra"]["ema_decay"] == 0.5 and ema_ck["optim"] is None
    moved = [k for k, v in last["model"].items() if v.dtype.is_floating_point and not torch.equal(v, ema_ck["model"][k])]
    assert moved, "the average equals the last weights"

    # Resume: the average continues from its saved state instead of restarting at the weights.
    args[args.index("--iters") + 1] = "6"
    assert train.main(args) == 0
    resumed = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    assert resumed["iter"] == 6
    key = moved[0]
    assert not torch.equal(resumed["ema"][key], resumed["model"][key])
    net, _, _ = train.load_model(run / "final_ema.pt")
    assert torch.equal(net.state_dict()[key], resumed["ema"][key])
    assert export.export(run / "final_ema.pt", tmp_path / "ema.onnx").exists()
