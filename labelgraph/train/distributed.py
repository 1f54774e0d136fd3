"""Multi-GPU / multi-node runs with ``torchrun``: process group, sharded metrics, rank-0 writing.

The same command runs on one device and on N: under ``torchrun`` (``WORLD_SIZE``
> 1) the process group starts with NCCL on CUDA and gloo on CPU.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import ConfigError

__all__ = ["DistContext", "init_distributed", "gather_rows", "all_reduce_sum", "barrier", "shutdown"]


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: ``rank`` of ``world_size``, its device, whether DDP is on."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str | None = None) -> DistContext:
    """Join the process group ``torchrun`` describes, or return a single-process context.

    Examples
    --------
    >>> init_distributed("cpu").world_size
    1
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    want = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if want.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {want}: CUDA is not available on this machine")
    if world > 1:
        if want.startswith("cuda"):
            torch.cuda.set_device(local)
            dev, backend = torch.device("cuda", local), "nccl"
        else:
            dev, backend = torch.device("cpu"), "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        return DistContext(rank, world, local, dev, backend)
    dev = torch.device(want)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return DistContext(0, 1, 0, dev, None)


def gather_rows(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Concatenate every rank's rows (sizes may differ) on every rank; identity with one process.

    Under ``torchrun`` rank ``r``'s rows come ``r``-th; the result is on ``tensor``'s device.

    Examples
    --------
    >>> ctx = init_distributed("cpu")
    >>> gather_rows(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), ctx).tolist()   # one process: its own rows
    [[1.0, 2.0], [3.0, 4.0]]
    """
    if not ctx.enabled:
        return tensor
    local = tensor.to(ctx.device)
    size = torch.tensor([local.shape[0]], device=ctx.device)
    sizes = [torch.zeros_like(size) for _ in range(ctx.world_size)]
    dist.all_gather(sizes, size)
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros((longest, *local.shape[1:]), dtype=local.dtype, device=ctx.device)
    padded[: local.shape[0]] = local
    parts = [torch.zeros_like(padded) for _ in range(ctx.world_size)]
    dist.all_gather(parts, padded)
    return torch.cat([p[: int(s.item())] for p, s in zip(parts, sizes)]).to(tensor.device)


def all_reduce_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``values`` over ranks (a new tensor; ``values`` itself is left as it is).

    Examples
    --------
    >>> all_reduce_sum(torch.tensor([2.5, 4.0]), init_distributed("cpu")).tolist()   # one rank: its own sum
    [2.5, 4.0]
    """
    if not ctx.enabled:
        return values
    out = values.to(ctx.device).clone()
    dist.all_reduce(out)
    return out.to(values.device)


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (nothing to wait for with one process).

    Examples
    --------
    >>> ctx = init_distributed("cpu")
    >>> ctx.enabled, barrier(ctx)
    (False, None)
    """
    if ctx.enabled:
        dist.barrier()


def shutdown(ctx: DistContext) -> None:
    """Leave the process group (nothing to leave with one process, or when none was joined).

    Examples
    --------
    >>> ctx = init_distributed("cpu")
    >>> shutdown(ctx)
    >>> dist.is_initialized()
    False
    """
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()
