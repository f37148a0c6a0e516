"""Model and training configuration (plain dataclasses, stored as JSON in checkpoints)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

SHAPES_CLASSES = ["disc", "square", "triangle", "star", "ring", "cross"]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


@dataclass
class ModelConfig:
    classes: list[str] = field(default_factory=lambda: list(SHAPES_CLASSES))
    # "effnet_lite0" (ImageNet-pretrained, the default), "mobilenet" (from scratch) or "resnet50" (GPU scale)
    backbone: str = "effnet_lite0"
    width: float = 1.0  # channel multiplier of the mobilenet backbone
    temporal_fusion: bool = True  # False: ablation, inter decoder gets plain concatenation
    attn_dim: int = 64  # d of the cross-frame attention (queries/keys)
    # Our choice of TCF merge: besides the target feature and the attended value, the merge also
    # sees the reference feature at the same position, so small displacements are visible locally
    # while the attention handles large ones (measured: concatenation alone learned motion much
    # faster than attention alone, docs/results.md). Checkpoints without the key predate it.
    tcf_local: bool = True
    aspp_ch: int = 96
    dec_ch: tuple[int, int, int] = (64, 48, 32)  # decoder channels at strides 16, 8, 4
    head_ch: int = 32
    # Output stride of the exported head maps: 4, or 2 (effnet_lite0 only). At 2 a refinement
    # adds a stride-2 correction to the semantic logits from the backbone's stride-2 features
    # (the stride-4 head caps video AP at 0.80 at 256x448 with perfect masks, stride 2 at
    # 0.94-0.96, training/README.md); center and offsets stay stride 4 in training and are
    # bilinearly upsampled in the exported graph, so every map of the contract has one stride.
    mask_stride: int = 4
    # Offsets leave the graph as raw_conv * offset_scale: lets Adam reach tens of pixels quickly.
    offset_scale: float = 10.0
    # Our choice: inter_offset = offset + per-reference flow, so the inter decoder learns the
    # (smooth, per-instance) displacement Or - Ot instead of a second copy of Ot.
    inter_residual: bool = True
    # Input pixels of padding (0 after normalisation: the mean colour, as the letterbox pads)
    # that the network adds at the bottom and right before the backbone, its features cropped
    # back to the input's size after it, so the deep features see past those borders. Tried
    # against the misses of small instances cut by the bottom border; stage 33 measured that it
    # does not reduce them (docs/results.md). 0 (checkpoints without the key) = none; a multiple
    # of 32 keeps the feature grid aligned.
    pad_bottom_right: int = 0

    @property
    def num_classes(self) -> int:
        return len(self.classes)


@dataclass
class DataConfig:
    input_size: tuple[int, int] = (192, 320)  # (H, W), multiples of 32
    # Size of the frame caches read (None: input_size). Another size letterboxes the cached frames
    # to input_size as they are read, so a larger input trains from existing caches: for 640x360
    # sources, 352x640 caches keep nearly every source pixel (scale 0.98), and `ifa run`
    # upsamples the video to a larger input the same way.
    cache_size: tuple[int, int] | None = None
    mean: list[float] = field(default_factory=lambda: list(IMAGENET_MEAN))
    std: list[float] = field(default_factory=lambda: list(IMAGENET_STD))
    max_gap: int = 4  # reference gaps drawn from 1..max_gap (the runtime uses 1..3 and the first frame)
    first_frame_prob: float = 0.15  # probability that the reference is the video's first frame
    # Share of pairs drawn from those that break tracks (clips.hard_pairs: an instance hidden in
    # the reference, moved fast, or beside a same-class instance); 0 = plain sampling.
    hard_case_prob: float = 0.0
    flip_prob: float = 0.5
    # Upside-down pairs (flipped within the content's rows, so the letterbox's padding stays at
    # the bottom). The world has no up or down. Stage 33 measured that they do not close the gap
    # between small instances cut by the bottom border and by the top one (docs/results.md).
    vflip_prob: float = 0.0
    center_sigma_full: float = 8.0  # Gaussian sigma in pixels at 640x360 (scaled to the input)
    # Semantic-loss weight of an instance of A input pixels: clamp(sqrt(small_area / A), 1, small_max_weight).
    # Measured on unseen videos before it: instances under 400 px had 8% foreground recall, over 1600 px 59%.
    small_area: float = 2500.0
    small_max_weight: float = 4.0
    # Background pixels within this many input pixels of an instance take its weight too
    # (targets.small_instance_weights); 0 = instance pixels only, as stages 1-15 trained.
    small_ring: int = 0
    # Center-loss weight near a small instance's center: 1 + gain * (its semantic weight - 1); 0 = plain
    # mean. Added after measuring that a third of small instance-frames were lost to a missed center.
    center_small_gain: float = 0.0
    # The reference frame gets the frame targets too (trained with IFANet.forward_train(ref_heads=True)).
    ref_targets: bool = True
    # Strides whose cross-frame attention is supervised (empty: none).
    attn_strides: tuple[int, ...] = (16, 32)
    # Share of pairs whose instances (and, half the time, background) are repainted with fills
    # of other families (augment.restyle_pair), so the class is learned from the shape alone.
    restyle_prob: float = 0.5
    # Families the repainting never uses (fill kinds of augment._Fill.KINDS, "tiles" for tiled
    # backgrounds): the held-out-style validation set is only held out if augmentation skips them too.
    restyle_exclude: list[str] = field(default_factory=list)
    # Share of repainted pairs whose background is replaced too, the kinds it is drawn from
    # (backgrounds.KINDS; stages 1-20: noise, gradient, tiles) and the share of those that get
    # distractors painted on (backgrounds.distractors).
    restyle_bg_prob: float = 0.5
    restyle_backgrounds: list[str] = field(default_factory=lambda: ["noise", "gradient", "tiles"])
    restyle_distractors: float = 0.0
    # Repainted fills drawn from the wider families of augment._Fill(wide=True) (stages 1-24: off).
    restyle_wide_fills: bool = False
    # Frames pass through H.264 at a random quality per video when cached (cache.CODEC_CRFS).
    codec_mix: bool = True
    # Copy-paste of small instances (ClipSampler.paste_small): share of pairs that get 1..paste_max
    # whole instances from other frames, scaled to an outer radius in paste_radius (fractions of
    # the short side; the world's sizes run 0.03-0.25), as new tracks. 0 = off (stages 1-17).
    paste_prob: float = 0.0
    paste_max: int = 2
    paste_radius: tuple[float, float] = (0.03, 0.08)
    # Camera zoom shared by a pair (augment.zoom_pair): that share of the pairs is zoomed by a
    # factor drawn log-uniformly from zoom_range (< 1 out, > 1 in). 0 = off (every stage but 29,
    # whose masks it did not change; docs/results.md).
    zoom_prob: float = 0.0
    zoom_range: tuple[float, float] = (0.7, 1.45)
    # Training windows: (H, W), multiples of 32, cut at random from each pair's input (the same
    # window for the target and its reference, so the camera does not move between them), inside
    # the letterboxed picture where it is larger than the window. None = the whole input (stages
    # 1-33). The network is fully convolutional and the contract's input stays `input_size`; a
    # window costs a fraction of the pixels per pair, so more pairs are seen per minute, and
    # instances are cut at all four of its borders, as the frame's borders cut them.
    crop_size: tuple[int, int] | None = None
    # Strength of the photometric jitter (augment.photometric); 0 = only the old brightness/contrast.
    photometric: float = 1.0

    def __post_init__(self) -> None:
        from .backgrounds import KINDS

        if self.crop_size is not None:
            ch, cw = self.crop_size
            ih, iw = self.input_size
            if ch % 32 or cw % 32 or ch > ih or cw > iw or ch <= 0 or cw <= 0:
                raise ValueError(f"data.crop_size {tuple(self.crop_size)}: positive multiples of 32, at most input_size {tuple(self.input_size)}")
        bad = [k for k in self.restyle_backgrounds if k not in KINDS]
        if bad:
            raise ValueError(f"data.restyle_backgrounds: unknown kinds {bad} (expected some of {list(KINDS)})")


@dataclass
class LossConfig:
    semantic: float = 1.0
    semantic_top_k: float = 0.2  # hard pixel mining: CE averaged over the hardest 20% of pixels
    center: float = 200.0
    offset: float = 0.01
    inter: float = 0.01
    # Squared L2 in pixels. Far first-frame pairs (100+ px) dominate a squared loss and pull the
    # flow towards their mean before the net can tell them apart (measured: flow worse than zero
    # at gap 1 with 5e-4 and 2e-4); at 5e-5 its gradient equals the L1 terms' at a 50 px error.
    consistency: float = 5e-5
    # Cross-frame attention supervision (our choice, beyond method.md): -log of the attention mass
    # that a target token on instance k puts on the reference tokens covered by k. Without it the
    # flow head never learned motion on CPU (inter L1 stayed at the zero-flow level).
    attention: float = 0.2


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    batch_size: int = 8
    lr: float = 1e-3
    poly_power: float = 0.9
    max_iters: int = 100000
    time_budget_min: float = 0.0  # >0: poly decay and stop driven by wall time instead
    weight_decay: float = 0.0
    # Learning rate of the (pretrained) backbone relative to the rest: ImageNet features move
    # slowly while the decoders and heads, trained from scratch, move at the full rate.
    backbone_lr_mult: float = 0.3
    threads: int = 2
    seed: int = 0
    log_every: int = 10
    ckpt_every: int = 200
    # >0: also keep an exponential moving average of the weights (ema.WeightAverage) with this
    # decay per iteration, written as `final_ema.pt` beside `final.pt`; 0 = off (stages 1-26).
    ema_decay: float = 0.0
    # Parameter-name prefixes to train; empty = all. E.g. ["tcf", "inter_dec"] trains only the
    # temporal part on a frozen frame network (the temporal-fusion ablation).
    train_only: list[str] = field(default_factory=list)
    # True: every BatchNorm layer keeps its running statistics (eval mode) while its scale and
    # shift still train. For continuing a model trained with large batches on a small one: the
    # statistics of a few pairs per step are noisier than the ones the weights were fitted to.
    freeze_bn: bool = False


def model_config_from_dict(d: dict) -> ModelConfig:
    d = dict(d)
    d.setdefault("tcf_local", False)
    d.setdefault("backbone", "mobilenet")
    if "dec_ch" in d:
        d["dec_ch"] = tuple(d["dec_ch"])
    return ModelConfig(**{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(ModelConfig)}})


def train_config_from_dict(d: dict) -> TrainConfig:
    cfg = TrainConfig()
    if "backbone_lr_mult" not in d:  # runs from before the split learning rate
        cfg.backbone_lr_mult = 1.0
    for f in dataclasses.fields(TrainConfig):
        if f.name not in d:
            continue
        v = d[f.name]
        if f.name == "model":
            v = model_config_from_dict(v)
        elif f.name == "data":
            # Runs from before the world-coverage augmentations keep training without them.
            v = {"restyle_prob": 0.0, "photometric": 0.0, "codec_mix": False, **v}
            cache, crop = v.get("cache_size"), v.get("crop_size")
            sizes = {
                "input_size": tuple(v.get("input_size", (192, 320))),
                "cache_size": tuple(cache) if cache else None,
                "crop_size": tuple(crop) if crop else None,
            }
            for key in ("paste_radius", "zoom_range"):
                if key in v:
                    sizes[key] = tuple(v[key])
            v = DataConfig(**{**v, **sizes, "attn_strides": tuple(v.get("attn_strides", (16, 32)))})
        elif f.name == "loss":
            v = LossConfig(**v)
        setattr(cfg, f.name, v)
    return cfg


def to_json(cfg) -> str:
    return json.dumps(dataclasses.asdict(cfg), indent=2)
