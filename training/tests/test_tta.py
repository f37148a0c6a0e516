"""The flip-averaged graph: mirror-equivariant, a plain average of the two readings, and exportable."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import torch

from ifa_train import export
from ifa_train.config import DataConfig, ModelConfig, TrainConfig, to_json
from ifa_train.model import IFANet
from ifa_train.tta import FlipAveraged

H, W = 64, 96


def _net(seed: int = 0) -> IFANet:
    torch.manual_seed(seed)
    net = IFANet(ModelConfig(backbone="effnet_lite0")).eval()
    # Non-zero flow heads, so that the inter offsets differ from the intra ones and a wrong sign shows.
    torch.nn.init.normal_(net.inter_dec.head[-1].weight, std=0.05)
    return net


def _inputs(wrapped: FlipAveraged, n_ref: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(1, 3, H, W, generator=g)
    r16 = torch.randn(n_ref, wrapped.c16, H // 16, W // 16, generator=g)
    r32 = torch.randn(n_ref, wrapped.c32, H // 32, W // 32, generator=g)
    return image, r16, r32


def _swap_halves(x: torch.Tensor) -> torch.Tensor:
    c = x.shape[1] // 2
    return torch.cat([x[:, c:], x[:, :c]], dim=1)


def _mirror_offset(x: torch.Tensor) -> torch.Tensor:
    x = torch.flip(x, dims=[-1])
    return torch.cat([x[:, :1], -x[:, 1:]], dim=1)


def test_the_mirrored_video_gives_the_mirrored_maps():
    """Mirroring the frame (and swapping the memory's two orientations) must mirror every output:
    the check that the mirror's readings are flipped back to the right cells, with dx negated."""
    wrapped = FlipAveraged(_net()).eval()
    image, r16, r32 = _inputs(wrapped, n_ref=3, seed=1)
    with torch.no_grad():
        a = wrapped(image, r16, r32)
        b = wrapped(torch.flip(image, dims=[-1]), _swap_halves(r16), _swap_halves(r32))
    sem, cen, off, inter, f16, f32 = a
    assert torch.allclose(b[0], torch.flip(sem, dims=[-1]), atol=1e-4)
    assert torch.allclose(b[1], torch.flip(cen, dims=[-1]), atol=1e-5)
    assert torch.allclose(b[2], _mirror_offset(off), atol=1e-3)
    assert torch.allclose(b[3], _mirror_offset(inter), atol=1e-3)
    assert torch.allclose(b[4], _swap_halves(f16), atol=1e-4)
    assert torch.allclose(b[5], _swap_halves(f32), atol=1e-4)
    assert inter.abs().max() > 1.0  # the offsets are not trivially zero


def test_each_map_is_the_mean_of_the_frame_and_its_mirror():
    net = _net(seed=2)
    wrapped = FlipAveraged(net).eval()
    image, r16, r32 = _inputs(wrapped, n_ref=2, seed=3)
    c16, c32 = net.c16, net.c32
    mirror = torch.flip(image, dims=[-1])
    with torch.no_grad():
        got = wrapped(image, r16, r32)
        plain = net(image, r16[:, :c16], r32[:, :c32])
        mirrored = net(mirror, r16[:, c16:], r32[:, c32:])
    assert torch.allclose(got[0], 0.5 * (plain[0] + torch.flip(mirrored[0], dims=[-1])), atol=1e-4)
    assert torch.allclose(got[1], 0.5 * (plain[1] + torch.flip(mirrored[1], dims=[-1])), atol=1e-5)
    assert torch.allclose(got[2], 0.5 * (plain[2] + _mirror_offset(mirrored[2])), atol=1e-3)
    assert torch.allclose(got[3], 0.5 * (plain[3] + _mirror_offset(mirrored[3])), atol=1e-3)
    assert torch.allclose(got[4], torch.cat([plain[4], mirrored[4]], dim=1), atol=1e-4)
    # The average differs from the plain reading: the test above would pass for a no-op wrapper.
    assert (got[2] - plain[2]).abs().max() > 1e-2


def test_a_flip_averaged_export_doubles_the_memory_and_matches_pytorch(tmp_path: Path):
    net = _net(seed=4)
    cfg = TrainConfig(model=net.cfg, data=DataConfig(input_size=(H, W)))
    ckpt = tmp_path / "tiny.pt"
    torch.save({"model": net.state_dict(), "config": json.loads(to_json(cfg)), "iter": 0}, ckpt)
    out = export.export(ckpt, tmp_path / "tta.onnx", tta="flip")
    model = onnx.load(str(out))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["ifa.tta"] == "flip"
    shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert shapes["ref_feat16"][1] == 2 * net.c16 and shapes["ref_feat32"][1] == 2 * net.c32
    diffs = export.check_against_torch(ckpt, out, n_refs=(1, 2), tta="flip")
    assert max(d["rel"] for d in diffs.values()) < 1e-4, diffs
