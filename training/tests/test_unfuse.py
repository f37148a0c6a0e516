"""The concatenation ablation's starting point (`ifa_train.unfuse`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from ifa_train import unfuse
from ifa_train.config import TrainConfig, to_json
from ifa_train.model import IFANet


def _checkpoint(tmp_path: Path, local: bool) -> tuple[Path, IFANet]:
    cfg = TrainConfig()
    cfg.model.backbone = "mobilenet"
    cfg.model.tcf_local = local
    torch.manual_seed(0)
    net = IFANet(cfg.model).eval()
    for name in unfuse.FUSIONS:  # a merge with non-trivial BatchNorm statistics
        bn = getattr(net, name).merge[1]
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    path = tmp_path / "fused.pt"
    torch.save({"model": net.state_dict(), "config": json.loads(to_json(cfg)), "iter": 3}, path)
    return path, net


@pytest.mark.parametrize("local", [True, False])
def test_concatenation_starts_from_the_fusion_without_its_attention(tmp_path: Path, local: bool):
    path, fused = _checkpoint(tmp_path, local)
    out = unfuse.unfuse(path, tmp_path / "concat.pt")
    ck = torch.load(out, map_location="cpu", weights_only=False)
    assert ck["config"]["model"]["temporal_fusion"] is False and "optim" not in ck
    concat = IFANet(dataclasses.replace(fused.cfg, temporal_fusion=False)).eval()
    concat.load_state_dict(ck["model"])
    # Everything outside the fusions is copied unchanged.
    for k, v in fused.state_dict().items():
        if not k.startswith(unfuse.FUSIONS):
            assert torch.equal(v, ck["model"][k]), k
    # With the attended value silenced, the fusion's output is the concatenation's.
    for name in unfuse.FUSIONS:
        f, c = getattr(fused, name), getattr(concat, name)
        torch.nn.init.zeros_(f.v.weight)
        torch.nn.init.zeros_(f.v.bias)
        cin = c.merge[0].in_channels // 2 - 1
        tgt, ref = torch.randn(2, cin, 5, 7), torch.randn(2, cin, 5, 7)
        with torch.no_grad():
            want = f(tgt, ref)
            got = c(tgt, ref)
        if local:
            assert torch.allclose(got, want, atol=1e-5)
        else:  # no reference columns to start from: they start at zero
            assert torch.allclose(got, c(tgt, torch.zeros_like(ref)), atol=1e-6)
            assert torch.allclose(got, want, atol=1e-5)


def test_a_model_without_fusion_is_refused(tmp_path: Path):
    cfg = TrainConfig()
    cfg.model.backbone = "mobilenet"
    cfg.model.temporal_fusion = False
    path = tmp_path / "concat.pt"
    torch.save({"model": IFANet(cfg.model).state_dict(), "config": json.loads(to_json(cfg))}, path)
    with pytest.raises(ValueError, match="no temporal fusion"):
        unfuse.unfuse(path, tmp_path / "out.pt")
