"""Losses of docs/method.md §3: semantic CE, center MSE, foreground L1 on Ot/Or, shape consistency."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import LossConfig


def _masked_mean(per_pixel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # Normalised by the number of supervised cells (clamped), so empty batches give 0.
    return (per_pixel * mask).sum() / mask.sum().clamp(min=1.0)


def _hard_pixel_ce(logits: torch.Tensor, labels: torch.Tensor, top_k: float, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy over the hardest `top_k` fraction of pixels (Panoptic-DeepLab's bootstrapping).

    Foreground is about 4% of the shapes world's pixels: with a plain mean the net reached a low
    loss while labelling most object pixels background (measured: 30% foreground recall).
    """
    per_pixel = F.cross_entropy(logits, labels, reduction="none")
    if weight is not None:
        per_pixel = per_pixel * weight
    per_pixel = per_pixel.flatten()
    if top_k >= 1.0:
        return per_pixel.mean()
    k = max(1, int(per_pixel.numel() * top_k))
    return per_pixel.topk(k, sorted=False).values.mean()


def _attention_nll(attn: torch.Tensor, weights: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """-log of the attention mass on the reference tokens of the token's own instance (see targets.py)."""
    mass = (attn * weights).sum(-1)
    return _masked_mean(-torch.log(mass + 1e-6), valid)


def compute_losses(out: dict[str, torch.Tensor], tg: dict[str, torch.Tensor], w: LossConfig) -> tuple[torch.Tensor, dict[str, float]]:
    frame = {k: out[k] for k in ("semantic", "center", "offset")}
    frame_tg = {k: tg[k] for k in ("semantic", "center", "offset", "offset_mask", "semantic_weight", "center_weight") if k in tg}
    if "semantic_r" in out:  # reference frames supervised too: one batch of 2B frames
        frame = {k: torch.cat([v, out[k + "_r"]]) for k, v in frame.items()}
        frame_tg = {k: torch.cat([v, tg[k + "_r"]]) for k, v in frame_tg.items()}
    # Semantic at input resolution: bilinear upsampling of stride-4 logits matches the cell convention.
    sem_logits = F.interpolate(frame["semantic"], size=frame_tg["semantic"].shape[-2:], mode="bilinear", align_corners=False)
    l_sem = _hard_pixel_ce(sem_logits, frame_tg["semantic"], w.semantic_top_k, frame_tg.get("semantic_weight"))
    if "center_weight" in frame_tg:
        l_center = (frame_tg["center_weight"] * (frame["center"] - frame_tg["center"]) ** 2).mean()
    else:
        l_center = F.mse_loss(frame["center"], frame_tg["center"])
    l_off = _masked_mean((frame["offset"] - frame_tg["offset"]).abs().sum(1, keepdim=True), frame_tg["offset_mask"])
    l_inter = _masked_mean((out["inter_offset"] - tg["inter"]).abs().sum(1, keepdim=True), tg["inter_mask"])
    flow = out["inter_offset"] - out["offset"]
    l_cons = _masked_mean(((flow - tg["flow"]) ** 2).sum(1, keepdim=True), tg["inter_mask"])
    total = w.semantic * l_sem + w.center * l_center + w.offset * l_off + w.inter * l_inter + w.consistency * l_cons
    l_attn = torch.zeros(())
    for s in (16, 32):
        if f"attn{s}" in out and f"attn{s}_w" in tg:
            l_attn = l_attn + _attention_nll(out[f"attn{s}"], tg[f"attn{s}_w"], tg[f"attn{s}_valid"])
    total = total + w.attention * l_attn
    parts = {
        "sem": l_sem.item(),
        "center": l_center.item(),
        "off": l_off.item(),
        "inter": l_inter.item(),
        "cons": l_cons.item(),
        "attn": float(l_attn.detach()),
        "total": total.item(),
    }
    return total, parts
