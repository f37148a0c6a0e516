"""Weight averages of checkpoints (`ifa_train.soup`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ifa_train import soup
from ifa_train.config import TrainConfig, to_json, train_config_from_dict
from ifa_train.model import IFANet


def _checkpoint(tmp_path: Path, name: str, seed: int, backbone: str = "mobilenet") -> Path:
    cfg = TrainConfig()
    cfg.model.backbone = backbone
    torch.manual_seed(seed)
    net = IFANet(cfg.model)
    for m in net.modules():  # BatchNorm statistics of its own, as a trained network has
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.num_batches_tracked.fill_(seed)
    path = tmp_path / name
    run_state = {"iter": seed, "optim": {}, "ema": net.state_dict(), "sampler_rng": seed, "elapsed": 60.0}
    torch.save({"model": net.state_dict(), "config": json.loads(to_json(cfg)), **run_state}, path)
    return path


def test_every_float_tensor_is_the_weighted_mean(tmp_path: Path):
    a, b = _checkpoint(tmp_path, "a.pt", 1), _checkpoint(tmp_path, "b.pt", 2)
    out = soup.soup([a, b], [1.0, 3.0], tmp_path / "s.pt")
    s = torch.load(out, map_location="cpu", weights_only=False)
    sa = torch.load(a, map_location="cpu", weights_only=False)["model"]
    sb = torch.load(b, map_location="cpu", weights_only=False)["model"]
    assert not {"optim", "iter", "ema", "sampler_rng", "elapsed"} & s.keys()
    assert s["extra"]["soup"] == [{"checkpoint": "a.pt", "weight": 0.25}, {"checkpoint": "b.pt", "weight": 0.75}]
    differ = 0
    for k, v in s["model"].items():
        if v.is_floating_point():
            torch.testing.assert_close(v, 0.25 * sa[k] + 0.75 * sb[k], rtol=1e-6, atol=1e-6)
            differ += int(not torch.equal(sa[k], sb[k]))
        else:
            assert torch.equal(v, sb[k]), k
    assert differ > 100  # the two really differ, so the mean means something
    IFANet(train_config_from_dict(s["config"]).model).load_state_dict(s["model"])


def test_other_networks_and_own_inputs_are_refused(tmp_path: Path, capsys):
    a = _checkpoint(tmp_path, "a.pt", 1)
    other = _checkpoint(tmp_path, "o.pt", 2, backbone="effnet_lite0")
    with pytest.raises(ValueError, match="another network"):
        soup.soup([a, other], None, tmp_path / "s.pt")
    with pytest.raises(ValueError, match="at least two"):
        soup.soup([a], None, tmp_path / "s.pt")
    before = a.read_bytes()
    assert soup.main(["--ckpt", str(a), "--ckpt", str(a), "--out", str(a)]) == 2
    assert a.read_bytes() == before
    assert soup.main(["--ckpt", str(a), "--ckpt", str(other), "--out", str(tmp_path / "x.pt")]) == 2
    assert not (tmp_path / "x.pt").exists()
    assert "another network" in capsys.readouterr().err


def test_a_config_key_written_later_reads_as_its_default(tmp_path: Path):
    # Stage 22's checkpoint (training/checkpoints/lite0-s22.pt) was saved before
    # `pad_bottom_right` existed; a run continued from it saves the key with its default value.
    # Both are one network.
    a = _checkpoint(tmp_path, "a.pt", 1)
    old = torch.load(a, map_location="cpu", weights_only=False)
    del old["config"]["model"]["pad_bottom_right"]
    torch.save(old, a)
    b = _checkpoint(tmp_path, "b.pt", 2)
    assert "pad_bottom_right" in torch.load(b, map_location="cpu", weights_only=False)["config"]["model"]
    out = soup.soup([a, b], None, tmp_path / "s.pt")
    assert out.exists()
