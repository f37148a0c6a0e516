"""Training loop: Adam + poly decay, resumable checkpoints, single process or torchrun DDP.

python -m ifa_train.train --data data/train --out training/runs/NAME [--time-budget-min 60]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import dist
from .augment import photometric
from .cache import build_cache, cache_dir_for, default_jobs
from .clips import ClipSampler, load_cached_videos
from .config import TrainConfig, to_json, train_config_from_dict
from .ema import WeightAverage
from .losses import compute_losses
from .model import IFANet, count_params


class _TrainStep(nn.Module):
    """Lets DDP wrap forward_train (DDP only hooks forward)."""

    def __init__(self, net: IFANet, ref_heads: bool):
        super().__init__()
        self.net = net
        self.ref_heads = ref_heads

    def forward(self, img_t, img_r):
        return self.net.forward_train(img_t, img_r, ref_heads=self.ref_heads)


class _Batches(torch.utils.data.IterableDataset):
    """The sampler's batches drawn in DataLoader worker processes (`--workers`): on a GPU the
    sampler's numpy work (repainting, zooms, targets) would otherwise leave it idle. Each worker
    draws its own stream, seeded by (seed, worker); the forked workers share the memory-mapped caches."""

    def __init__(self, sampler: ClipSampler, n: int, seed: int):
        super().__init__()
        self.sampler, self.n, self.seed = sampler, n, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        torch.set_num_threads(1)  # the workers share the cores; one thread each
        self.sampler.rng = np.random.default_rng([self.seed, info.id if info else 0])
        while True:
            yield self.sampler.batch(self.n)


def _batch_stream(sampler: ClipSampler, n: int, workers: int, seed: int, pin: bool):
    """Endless batches: from the sampler in this process (`workers` 0), or from worker processes."""
    if workers <= 0:
        while True:
            yield sampler.batch(n)
    loader = torch.utils.data.DataLoader(
        _Batches(sampler, n, seed), batch_size=None, num_workers=workers, prefetch_factor=4, pin_memory=pin, persistent_workers=True
    )
    yield from loader


def poly_lr(cfg: TrainConfig, progress: float) -> float:
    return cfg.lr * max(0.0, 1.0 - min(progress, 1.0)) ** cfg.poly_power


def _images(u8_t, u8_r, cfg: TrainConfig, gen: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalise a pair batch; the same photometric jitter for a target and its reference."""
    b = u8_t.shape[0]
    x = torch.cat([u8_t, u8_r]).to(device).permute(0, 3, 1, 2).float() / 255.0
    if cfg.data.photometric > 0:
        x = photometric(x, gen, b, cfg.data.photometric)
    gain = 1.0 + (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * 0.2
    bias = (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * 0.1
    x = (x * gain.repeat(2, 1, 1, 1).to(device) + bias.repeat(2, 1, 1, 1).to(device)).clamp(0, 1)
    m = torch.tensor(cfg.data.mean, device=device).view(1, 3, 1, 1)
    s = torch.tensor(cfg.data.std, device=device).view(1, 3, 1, 1)
    x = ((x - m) / s).contiguous(memory_format=torch.channels_last)
    return x[:b], x[b:]


def freeze_batchnorm(net: nn.Module) -> int:
    """Puts every BatchNorm layer in eval mode (running statistics used and kept); returns how many."""
    n = 0
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
            n += 1
    return n


def save_checkpoint(
    path: Path,
    weights: dict,
    opt,
    it: int,
    elapsed: float,
    cfg: TrainConfig,
    sampler: ClipSampler,
    extra: dict,
    ema: WeightAverage | None = None,
) -> None:
    """weights: the state dict stored as "model" (what export and --init read); ema: the running
    average, stored beside it for a resume."""
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model": weights,
            "ema": ema.state_dict() if ema is not None else None,
            "optim": opt.state_dict() if opt is not None else None,
            "iter": it,
            "elapsed": elapsed,
            "config": json.loads(to_json(cfg)),
            "sampler_rng": sampler.rng.bit_generator.state,
            "extra": extra,
        },
        tmp,
    )
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written checkpoint


def load_model(ckpt_path: str | Path) -> tuple[IFANet, TrainConfig, dict]:
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    cfg = train_config_from_dict(ck["config"])
    net = IFANet(cfg.model)
    net.load_state_dict(ck["model"])
    return net, cfg, ck


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Train the IFA network on YouTube-VIS-format data")
    ap.add_argument("--data", nargs="+", required=True, help="YouTube-VIS roots (instances.json + JPEGImages/)")
    ap.add_argument("--out", required=True, help="run directory (checkpoints, log.jsonl); resumes from last.pt")
    ap.add_argument("--config", help="JSON TrainConfig to start from")
    ap.add_argument("--init", help="checkpoint whose matching weights initialise a new run (fresh optimiser/schedule)")
    ap.add_argument("--init-skip", nargs="*", default=[], help="parameter-name prefixes not taken from --init")
    ap.add_argument("--iters", type=int, help="max iterations")
    ap.add_argument("--time-budget-min", type=float, help="wall-time budget; poly decay follows elapsed time")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--width", type=float)
    ap.add_argument("--backbone", choices=["effnet_lite0", "mobilenet", "resnet50"])
    ap.add_argument("--backbone-lr-mult", type=float, help="backbone learning rate relative to --lr")
    ap.add_argument("--restyle-prob", type=float, help="share of pairs repainted with other fills (0 = off)")
    ap.add_argument("--photometric", type=float, help="photometric jitter strength (0 = off)")
    ap.add_argument("--size", help="HxW input size, multiples of 32")
    ap.add_argument("--no-temporal-fusion", action="store_true", help="ablation: concat instead of attention")
    ap.add_argument("--consistency-weight", type=float)
    ap.add_argument("--attention-weight", type=float, help="cross-frame attention supervision (0 = off)")
    ap.add_argument("--no-ref-targets", action="store_true", help="encode the reference without gradients or frame losses")
    ap.add_argument("--train-only", nargs="+", help="parameter-name prefixes to train (the rest is frozen)")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--ema-decay", type=float, help="also average the weights over the run (e.g. 0.995; writes final_ema.pt)")
    ap.add_argument("--log-every", type=int)
    ap.add_argument("--ckpt-every", type=int)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--workers", type=int, default=0, help="processes that draw batches (0: the training process itself)")
    ap.add_argument("--amp", action="store_true", help="CUDA: forward and backward in bfloat16 autocast (losses in float32)")
    return ap.parse_args(argv)


# Plain "--flag value" overrides: argparse destination -> dotted TrainConfig field.
_OVERRIDES = {
    "iters": "max_iters",
    "time_budget_min": "time_budget_min",
    "batch": "batch_size",
    "lr": "lr",
    "width": "model.width",
    "backbone": "model.backbone",
    "backbone_lr_mult": "backbone_lr_mult",
    "restyle_prob": "data.restyle_prob",
    "photometric": "data.photometric",
    "consistency_weight": "loss.consistency",
    "attention_weight": "loss.attention",
    "threads": "threads",
    "seed": "seed",
    "ema_decay": "ema_decay",
    "log_every": "log_every",
    "ckpt_every": "ckpt_every",
}


def build_config(a) -> TrainConfig:
    cfg = train_config_from_dict(json.loads(Path(a.config).read_text())) if a.config else TrainConfig()
    for arg, field in _OVERRIDES.items():
        value = getattr(a, arg)
        if value is not None:
            *parents, name = field.split(".")
            target = cfg
            for p in parents:
                target = getattr(target, p)
            setattr(target, name, value)
    if a.size is not None:
        h, w = (int(x) for x in a.size.split("x"))
        if h % 32 or w % 32:
            raise SystemExit(f"--size {a.size}: H and W must be multiples of 32")
        cfg.data.input_size = (h, w)
    if a.no_temporal_fusion:
        cfg.model.temporal_fusion = False
    if a.no_ref_targets:
        cfg.data.ref_targets = False
    if a.train_only:
        cfg.train_only = list(a.train_only)
    # No attention to supervise: the sampler need not build its targets (they cost data time).
    if cfg.loss.attention == 0 or not cfg.model.temporal_fusion:
        cfg.data.attn_strides = ()
    return cfg


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    out = Path(a.out)
    resume = out / "last.pt"
    if resume.exists():
        cfg = train_config_from_dict(torch.load(resume, map_location="cpu", weights_only=False)["config"])
        # Only the stopping rule may change on resume (e.g. to extend a run).
        if a.iters is not None:
            cfg.max_iters = a.iters
        if a.time_budget_min is not None:
            cfg.time_budget_min = a.time_budget_min
    else:
        cfg = build_config(a)
    device, rank, ws = dist.setup(a.device)
    torch.set_num_threads(cfg.threads)
    if a.amp and device.type != "cuda":
        raise SystemExit("--amp needs --device cuda")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: pick the fastest kernels once
    torch.manual_seed(cfg.seed + rank)
    log = (lambda *x: print(*x, flush=True)) if rank == 0 else (lambda *x: None)

    in_h, in_w = cfg.data.input_size
    c_h, c_w = cfg.data.cache_size or cfg.data.input_size
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    # Every rank builds its share of the missing caches (a shared file system, as before), with
    # the cores of its machine divided among the ranks on it.
    local_ws = int(os.environ.get("LOCAL_WORLD_SIZE", ws))
    for d in a.data:
        build_cache(d, c_h, c_w, cfg.data.mean, log, cfg.data.codec_mix, jobs=default_jobs(local_ws), shard=(rank, ws))
    dist.barrier()
    caches = [cache_dir_for(Path(d), c_h, c_w, cfg.data.codec_mix) for d in a.data]
    for c in caches:
        cats = json.loads((c / "categories.json").read_text())
        if cats != cfg.model.classes:
            raise SystemExit(f"{c}: categories {cats} differ from the model's classes {cfg.model.classes}")
    videos = load_cached_videos(caches, (in_h, in_w))
    sampler = ClipSampler(videos, cfg.data, seed=cfg.seed * 1000 + rank, jobs=max(1, a.workers))
    if cfg.data.hard_case_prob > 0 and rank == 0:
        print(
            f"[train] hard-case sampling: {len(sampler.hard)} track-breaking pairs, drawn for {cfg.data.hard_case_prob:.0%} of the batch", flush=True
        )

    # ImageNet weights only for a fresh run: a resumed or --init run brings its own.
    net = IFANet(cfg.model, pretrained=not resume.exists() and not a.init).to(device).to(memory_format=torch.channels_last)
    groups = [
        {"params": [p for n, p in net.named_parameters() if n.startswith("backbone.")], "lr_mult": cfg.backbone_lr_mult},
        {"params": [p for n, p in net.named_parameters() if not n.startswith("backbone.")], "lr_mult": 1.0},
    ]
    opt = torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)  # frozen params get no grads
    it, elapsed = 0, 0.0
    if a.init and not resume.exists():
        src = torch.load(a.init, map_location=device, weights_only=False)["model"]
        own = net.state_dict()
        keep = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape and not any(k.startswith(p) for p in a.init_skip)}
        net.load_state_dict(keep, strict=False)
        log(f"[train] initialised {len(keep)}/{len(own)} tensors from {a.init}")
    if resume.exists():
        ck = torch.load(resume, map_location=device, weights_only=False)
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        it, elapsed = ck["iter"], ck["elapsed"]
        sampler.rng.bit_generator.state = ck["sampler_rng"]
        log(f"[train] resumed from {resume} at iteration {it} ({elapsed / 60:.1f} min)")
    # A fresh run's average starts at its initial weights; a resumed one continues its own
    # (the config, ema_decay included, comes from last.pt then).
    ema = WeightAverage(net, cfg.ema_decay) if cfg.ema_decay > 0 else None
    if ema is not None and resume.exists():
        ema.load_state_dict(ck["ema"])
    if cfg.train_only:
        for name, p in net.named_parameters():
            p.requires_grad_(any(name.startswith(x) for x in cfg.train_only))
        n_train = sum(p.numel() for p in net.parameters() if p.requires_grad)
        log(f"[train] training only {cfg.train_only}: {n_train} of {count_params(net)} parameters")
    step = _TrainStep(net, cfg.data.ref_targets)
    if ws > 1:
        step = nn.parallel.DistributedDataParallel(step, device_ids=[device.index] if device.type == "cuda" else None)
    if rank == 0:
        (out / "config.json").write_text(to_json(cfg))
        log(
            f"[train] {count_params(net)} parameters, {len(videos)} videos, {sum(v.length for v in videos)} frames, "
            f"batch {cfg.batch_size} x {ws} process(es), input {in_h}x{in_w}"
            + (f" in {cfg.data.crop_size[0]}x{cfg.data.crop_size[1]} windows" if cfg.data.crop_size else "")
            + f", device {device}"
        )
    gen = torch.Generator().manual_seed(cfg.seed + 7 + rank)
    # Worker streams are seeded from where the run stands, so a resume draws new batches.
    batches = _batch_stream(sampler, cfg.batch_size, a.workers, cfg.seed * 1000 + rank * 100003 + it, device.type == "cuda")
    logf = open(out / "log.jsonl", "a") if rank == 0 else None

    def progress() -> float:
        p = it / max(1, cfg.max_iters)
        if cfg.time_budget_min > 0:
            p = max(p, elapsed / (cfg.time_budget_min * 60.0))
        return p

    net.train()
    if cfg.train_only:  # frozen parts keep their BatchNorm statistics
        for name, child in net.named_children():
            if not any(name.startswith(x) or x.startswith(name) for x in cfg.train_only):
                child.eval()
    if cfg.freeze_bn:
        n_bn = freeze_batchnorm(net)
        log(f"[train] {n_bn} BatchNorm layers keep their running statistics (freeze_bn)")
    t_last = time.time()
    acc: dict[str, float] = {}
    n_acc = 0
    t_data = t_step = 0.0
    while progress() < 1.0:
        t0 = time.time()
        b = next(batches)
        img_t, img_r = _images(b.pop("img_t"), b.pop("img_r"), cfg, gen, device)
        tg = {k: v.to(device, non_blocking=True) for k, v in b.items()}
        t1 = time.time()
        for g in opt.param_groups:
            g["lr"] = poly_lr(cfg, progress()) * g.get("lr_mult", 1.0)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.amp):
            outd = step(img_t, img_r)
        if a.amp:  # the losses' sums and logs in full precision
            outd = {k: v.float() for k, v in outd.items()}
        loss, parts = compute_losses(outd, tg, cfg.loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            ema.update(net)
        t2 = time.time()
        t_data += t1 - t0
        t_step += t2 - t1
        now = time.time()
        # With DDP the ranks run in lock step; rank 0's clock drives the schedule for all.
        elapsed += now - t_last
        t_last = now
        it += 1
        for k, v in parts.items():
            acc[k] = acc.get(k, 0.0) + v
        n_acc += 1
        if not np.isfinite(parts["total"]):
            raise SystemExit(f"[train] non-finite loss at iteration {it}: {parts}")
        if it % cfg.log_every == 0 and rank == 0:
            rec = {k: v / n_acc for k, v in acc.items()}
            rec.update(iter=it, lr=opt.param_groups[-1]["lr"], elapsed_min=elapsed / 60, s_data=t_data / n_acc, s_step=t_step / n_acc)
            log(
                "[train] it %d  %.1f min  lr %.2e  loss %.4f  (sem %.3f center %.4f off %.2f inter %.2f cons %.1f attn %.3f)  %.2fs/it (data %.2fs)"
                % (
                    it,
                    elapsed / 60,
                    rec["lr"],
                    rec["total"],
                    rec["sem"],
                    rec["center"],
                    rec["off"],
                    rec["inter"],
                    rec["cons"],
                    rec["attn"],
                    (t_data + t_step) / n_acc,
                    t_data / n_acc,
                )
            )
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            acc, n_acc, t_data, t_step = {}, 0, 0.0, 0.0
        if it % cfg.ckpt_every == 0 and rank == 0:
            save_checkpoint(resume, net.state_dict(), opt, it, elapsed, cfg, sampler, {}, ema)
    prints = dist.fingerprints(net)  # every rank takes part in the gather
    if rank == 0 and any(p != prints[0] for p in prints):
        raise SystemExit(f"[train] the {ws} processes ended with different weights: {prints}")
    if rank == 0:
        info = {"iterations": it, "wall_min": round(elapsed / 60, 2), "world_size": ws, "batch": cfg.batch_size, "rank_fingerprints": prints}
        save_checkpoint(resume, net.state_dict(), opt, it, elapsed, cfg, sampler, info, ema)
        save_checkpoint(out / "final.pt", net.state_dict(), None, it, elapsed, cfg, sampler, info)
        if ema is not None:
            save_checkpoint(out / "final_ema.pt", ema.state_dict(), None, it, elapsed, cfg, sampler, {**info, "ema_decay": cfg.ema_decay})
        log(f"[train] done: {it} iterations in {elapsed / 60:.1f} min -> {out / 'final.pt'}")
        logf.close()
    dist.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
