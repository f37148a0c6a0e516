"""torchrun / DDP helpers; a plain single process when WORLD_SIZE is unset or 1."""

from __future__ import annotations

import os

import torch
import torch.distributed as tdist


def world() -> tuple[int, int, int]:
    """(rank, local_rank, world_size) from the torchrun environment."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def setup(device_arg: str) -> tuple[torch.device, int, int]:
    rank, local_rank, ws = world()
    if device_arg == "auto":
        device_arg = "cuda" if torch.cuda.is_available() else "cpu"
    if device_arg == "cuda":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if ws > 1:
        tdist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device, rank, ws


def barrier() -> None:
    if tdist.is_available() and tdist.is_initialized():
        tdist.barrier()


def fingerprints(module: torch.nn.Module) -> list[list[float]]:
    """Per rank: (sum, sum of squares, position-weighted sum) of every parameter.

    DDP keeps the replicas' parameters identical by construction; this checks it at the end of a
    run, so a broken setup (say, a rank that skipped a step) cannot pass unnoticed. BatchNorm
    statistics are left out: DDP copies rank 0's into the others before each forward, and each
    rank then updates its own, so they differ by the last step (rank 0's are the ones saved).
    One process: one row.
    """
    flat = torch.cat([t.detach().double().flatten() for t in module.parameters()])
    pos = torch.arange(flat.numel(), dtype=torch.float64, device=flat.device) % 9973 + 1
    mine = torch.stack([flat.sum(), (flat * flat).sum(), (flat * pos).sum()])
    if not (tdist.is_available() and tdist.is_initialized()):
        return [mine.tolist()]
    rows = [torch.zeros_like(mine) for _ in range(tdist.get_world_size())]
    tdist.all_gather(rows, mine)
    return [r.tolist() for r in rows]


def cleanup() -> None:
    if tdist.is_available() and tdist.is_initialized():
        # Every rank waits for the others (rank 0 writes the checkpoints first): a rank that tore
        # its group down while a peer still used it was seen to abort in gloo's threads.
        tdist.barrier()
        tdist.destroy_process_group()
