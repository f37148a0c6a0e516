"""End-to-end smoke test: a few training iterations on a tiny set, export, ORT agrees with PyTorch."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import fixture_synth
import numpy as np
import onnx
import pytest
import torch

from ifa_train import export, restride, train
from ifa_train.layers import upsample_to
from ifa_train.model import IFANet

REPO = Path(__file__).resolve().parents[2]
IFA_BIN = REPO / "target" / "release" / "ifa"


def _make_data(source: str, out: Path) -> Path:
    if source == "python":
        return fixture_synth.generate(out, videos=2, frames=8, width=160, height=96, seed=1)
    if not IFA_BIN.exists():
        pytest.skip(f"{IFA_BIN} is missing: build it with `cargo build --release` to test on `ifa synth` data")
    cmd = [str(IFA_BIN), "synth", "--out", str(out), "--preset", "easy", "--videos", "2", "--frames", "8", "--size", "160x96", "--seed", "1"]
    subprocess.run(cmd, check=True, timeout=300)
    return out


@pytest.mark.parametrize("source", ["ifa_synth", "python"])
def test_train_export_roundtrip(tmp_path: Path, source: str):
    data = _make_data(source, tmp_path / "data")
    run = tmp_path / "run"
    args = ["--data", str(data), "--out", str(run), "--iters", "6", "--batch", "2", "--log-every", "2", "--ckpt-every", "3", "--size", "96x160"]
    assert train.main(args) == 0
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in log] == [2, 4, 6]
    assert all(np.isfinite(r["total"]) for r in log)

    # Resume: extending the budget continues from the saved iteration instead of restarting.
    assert train.main(args[:5] + ["8"] + args[6:]) == 0
    ck = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    assert ck["iter"] == 8

    onnx_path = export.export(run / "final.pt", tmp_path / "m.onnx")
    model = onnx.load(str(onnx_path))
    assert [i.name for i in model.graph.input] == export.INPUT_NAMES
    assert [o.name for o in model.graph.output] == export.OUTPUT_NAMES
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["ifa.contract"] == "1"
    assert json.loads(meta["ifa.classes"]) == fixture_synth.CLASSES
    assert json.loads(meta["ifa.input_size"]) == [96, 160]
    assert json.loads(meta["ifa.train"])["iterations"] == 8
    for key in ("ifa.mean", "ifa.std", "ifa.refs", "ifa.post", "ifa.temporal_fusion"):
        assert key in meta
    diffs = export.check_against_torch(run / "final.pt", onnx_path, n_refs=(1, 3))
    assert max(d["rel"] for d in diffs.values()) < 1e-4, diffs
    # Unit-scale outputs must agree in plain absolute terms too.
    assert diffs["semantic"]["abs"] < 1e-4 and diffs["center"]["abs"] < 1e-4, diffs


def test_frozen_temporal_ablation_and_diagnose(tmp_path: Path, capsys):
    """The temporal-fusion ablation path: a concat model whose frame network is taken from a
    trained run and frozen; only the temporal part moves. Then the diagnose yardstick runs."""
    from ifa_train import diagnose

    data = _make_data("python", tmp_path / "data")
    common = ["--data", str(data), "--iters", "2", "--batch", "2", "--log-every", "1", "--size", "96x160"]
    assert train.main(common + ["--out", str(tmp_path / "base")]) == 0
    base = torch.load(tmp_path / "base" / "final.pt", map_location="cpu", weights_only=False)["model"]
    args = common + [
        "--out",
        str(tmp_path / "concat"),
        "--init",
        str(tmp_path / "base" / "final.pt"),
        "--init-skip",
        "tcf32",
        "tcf16",
        "inter_dec",
        "--train-only",
        "tcf",
        "inter_dec",
        "--no-ref-targets",
        "--no-temporal-fusion",
    ]
    assert train.main(args) == 0
    ck = torch.load(tmp_path / "concat" / "final.pt", map_location="cpu", weights_only=False)
    assert ck["config"]["model"]["temporal_fusion"] is False
    after = ck["model"]
    frozen = [k for k in after if k.startswith(("backbone.", "sem_dec.", "center_head."))]
    assert frozen and all(torch.equal(after[k], base[k]) for k in frozen)  # BN statistics included
    assert after["inter_dec.head.1.weight"].abs().sum() > 0  # the flow head starts at exactly zero
    assert "tcf16.merge.0.weight" in after and "tcf16.qk.weight" not in after

    assert diagnose.main(["--ckpt", str(tmp_path / "concat" / "final.pt"), "--data", str(data), "--pairs", "6", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "foreground recall" in out and "inter L1 no motion" in out


def test_a_stride_2_head_continues_a_stride_4_run_and_exports(tmp_path: Path):
    """`model.mask_stride` 2: a run initialised from stride-4 weights starts exactly where they
    were (the refinement is a residual that starts at zero), trains, and exports maps at stride 2
    with `ifa.head_stride` declared."""
    data = _make_data("python", tmp_path / "data")
    common = ["--data", str(data), "--iters", "2", "--batch", "2", "--log-every", "1", "--ckpt-every", "2", "--size", "96x160"]
    assert train.main(common + ["--out", str(tmp_path / "s4")]) == 0
    cfg = tmp_path / "s2.json"
    cfg.write_text(json.dumps({"model": {"backbone": "effnet_lite0", "mask_stride": 2}}))
    s4 = tmp_path / "s4" / "final.pt"

    # Before any step: the stride-2 outputs are the stride-4 ones, bilinearly upsampled.
    net4, tc, _ = train.load_model(s4)
    net2 = IFANet(dataclasses.replace(tc.model, mask_stride=2))
    missing = net2.load_state_dict(net4.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith(("sem_up2.", "sem_head2.")) for k in missing), missing
    x = export.example_inputs(net4, 96, 160, 2)
    with torch.no_grad():
        o4, o2 = net4.eval()(*x), net2.eval()(*x)
    for name, a, b in zip(export.OUTPUT_NAMES, o4, o2):
        if name in ("feat16", "feat32"):
            assert torch.equal(a, b), name
            continue
        assert b.shape[-2:] == (48, 80), (name, b.shape)
        assert torch.allclose(upsample_to(a, b), b, atol=1e-5), name

    run = tmp_path / "s2"
    assert train.main(common + ["--out", str(run), "--config", str(cfg), "--init", str(s4)]) == 0
    onnx_path = export.export(run / "final.pt", tmp_path / "m2.onnx")
    model = onnx.load(str(onnx_path))
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["ifa.head_stride"]) == 2
    diffs = export.check_against_torch(run / "final.pt", onnx_path, n_refs=(1, 3))
    assert max(d["rel"] for d in diffs.values()) < 1e-4, diffs

    # Back to stride 4: the refinement dropped, the stride-4 head it was added to is what is left.
    s4 = restride.restride(run / "final.pt", 4, tmp_path / "back4.pt")
    back, _, _ = train.load_model(s4)
    full, _, _ = train.load_model(run / "final.pt")
    with torch.no_grad():
        (f4, f8, f16, f32), f2 = full.eval()._features(x[0])
        sem4 = full.sem_head(full.sem_dec([f4, f8, f16, f32]))
        assert torch.allclose(back.eval()(*x)[0], sem4, atol=1e-5)
    assert train.main(common + ["--out", str(tmp_path / "cont"), "--init", str(s4)]) == 0


def test_training_at_a_larger_input_reads_the_smaller_caches(tmp_path: Path, capsys):
    """`data.cache_size`: the run and the diagnose yardstick read the caches of that size,
    letterboxed to the input, and build none at the input size."""
    from ifa_train import diagnose

    data = _make_data("python", tmp_path / "data")
    cfg = tmp_path / "up.json"
    cfg.write_text(json.dumps({"data": {"input_size": [128, 224], "cache_size": [96, 160], "codec_mix": False}}))
    args = ["--data", str(data), "--iters", "2", "--batch", "2", "--log-every", "1", "--config", str(cfg), "--out", str(tmp_path / "up")]
    assert train.main(args) == 0
    assert "input 128x224" in capsys.readouterr().out
    ck = torch.load(tmp_path / "up" / "final.pt", map_location="cpu", weights_only=False)
    assert ck["config"]["data"]["cache_size"] == [96, 160]
    assert diagnose.main(["--ckpt", str(tmp_path / "up" / "final.pt"), "--data", str(data), "--pairs", "4", "--threads", "1"]) == 0
    assert "foreground recall" in capsys.readouterr().out
    assert sorted(p.name for p in data.glob("cache_*")) == ["cache_96x160"]


def test_batches_from_worker_processes_train_and_resume(tmp_path: Path):
    # `--workers`: the sampler runs in DataLoader processes (the GPU path); each worker draws its
    # own stream, a resume draws new ones, and --amp is refused where there is no CUDA.
    data = fixture_synth.generate(tmp_path / "data", videos=2, frames=6, width=160, height=96, seed=4)
    run = tmp_path / "run"
    args = ["--data", str(data), "--out", str(run), "--iters", "3", "--batch", "2", "--log-every", "1", "--size", "96x160", "--workers", "2"]
    assert train.main(args) == 0
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in log] == [1, 2, 3] and all(np.isfinite(r["total"]) for r in log)
    assert train.main(args[:5] + ["5"] + args[6:]) == 0
    assert torch.load(run / "last.pt", map_location="cpu", weights_only=False)["iter"] == 5
    with pytest.raises(SystemExit, match="--amp needs"):
        train.main(["--data", str(data), "--out", str(tmp_path / "amp"), "--iters", "1", "--size", "96x160", "--device", "cpu", "--amp"])


def test_freeze_bn_keeps_running_statistics_while_the_weights_train(tmp_path: Path):
    """`freeze_bn` (continuing a large-batch model on small batches): every BatchNorm layer's
    running mean, variance and step count stay those of the initial weights, its scale and
    shift and every convolution still train."""
    data = _make_data("python", tmp_path / "data")
    common = ["--data", str(data), "--iters", "2", "--batch", "2", "--size", "96x160"]
    assert train.main(common + ["--out", str(tmp_path / "base")]) == 0
    init = tmp_path / "base" / "final.pt"
    cfg = tmp_path / "freeze.json"
    cfg.write_text(json.dumps({"freeze_bn": True, "lr": 1e-3}))
    assert train.main(common + ["--out", str(tmp_path / "frozen"), "--init", str(init), "--config", str(cfg)]) == 0
    base = torch.load(init, map_location="cpu", weights_only=False)["model"]
    after = torch.load(tmp_path / "frozen" / "final.pt", map_location="cpu", weights_only=False)["model"]
    stats = [k for k in after if k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert stats and all(torch.equal(after[k], base[k]) for k in stats)
    moved = [k for k in after if k.endswith(".weight") and not torch.equal(after[k], base[k])]
    bn_scales = {k[: -len("running_mean")] + "weight" for k in stats if k.endswith("running_mean")}
    assert any(k in bn_scales for k in moved) and any(k not in bn_scales for k in moved)
