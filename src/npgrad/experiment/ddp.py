"""The founding experiment under ``DistributedDataParallel`` (gloo, CPU processes).

Each global batch is split into ``world_size`` contiguous shards.  Every rank scales
its local mean loss by ``n_local * world_size / n_global``, so that DDP's gradient
average equals the gradient of the global batch's mean loss, also when the last
batch does not split evenly.  Rank 0 logs the global batch's loss.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist

from .processes import forking, started
from .train import Run, load_run, make_loss, save_run, train


class _Shards:
    """Rank ``rank``'s slice of every global batch; remembers the current sizes."""

    def __init__(self, batches, rank: int, world: int) -> None:
        self.batches, self.rank, self.world = batches, rank, world
        self.scale = 1.0

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        for x, y in self.batches:
            xs = torch.tensor_split(x, self.world)
            ys = torch.tensor_split(y, self.world)
            self.scale = xs[self.rank].shape[0] * self.world / x.shape[0]
            yield xs[self.rank], ys[self.rank]


class _Scaled:
    def __init__(self, criterion, shards: _Shards) -> None:
        self.criterion, self.shards = criterion, shards

    def __call__(self, out, target):
        loss = self.criterion(out, target)
        return loss if self.shards.scale == 1.0 else loss * self.shards.scale


def _global_loss(world: int):
    def reduce(loss: torch.Tensor) -> torch.Tensor:
        total = loss.clone()
        dist.all_reduce(total)
        return total / world

    return reduce


def _worker(rank: int, world: int, port: int, impl: str, batches, kw: dict, out: str) -> None:
    started()  # SIGTERM, held back by the parent while it spawned this, ends it now
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        shards = _Shards(batches, rank, world)
        run = train(
            impl,
            _Scaled(make_loss(impl), shards),
            shards,
            log=print if rank == 0 else (lambda s: None),
            model_wrapper=lambda m: torch.nn.parallel.DistributedDataParallel(m),
            reduce_loss=_global_loss(world),
            **kw,
        )
        if rank == 0:
            save_run(run, out)
        # no rank tears down while another's last collective is in flight (gloo on
        # torch 2.14 aborted at exit now and then without it)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    # A spawned worker ends through interpreter shutdown, where gloo's threads abort
    # the process now and then ("terminate called without an active exception", about
    # one run in twenty on torch 2.14, with torch's own loss too) after the work is
    # saved: leave without running C++ static destructors. Errors take the path above.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_ddp(impl: str, batches, *, world_size: int, device: str = "cpu", **kw) -> Run:
    """Train one run with ``world_size`` gloo processes; return rank 0's result."""
    if str(device) != "cpu":
        raise ValueError(f"train_ddp: the gloo runs use the CPU, got device={device!r}")
    smallest = min(x.shape[0] for x, _ in batches)
    if smallest < world_size:
        raise ValueError(
            f"train_ddp: a batch of {smallest} images cannot be split across "
            f"world_size={world_size} processes; use fewer processes or other --limit"
        )
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "rank0.pt")
        ctx = None
        try:
            # an ignored SIGINT and a blocked SIGTERM survive the workers' exec: Ctrl-C
            # is reported once, by this process, and a SIGTERM here waits until the
            # workers have their arguments (cut off, each printed an UnpicklingError)
            # started first: its launch unblocks SIGTERM again, mid-forking()
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
            with forking():
                ctx = mp.spawn(
                    _worker,
                    args=(world_size, _free_port(), impl, batches, dict(kw, device="cpu"), out),
                    nprocs=world_size,
                    join=False,
                )
            while not ctx.join():
                pass
        finally:
            for proc in ctx.processes if ctx is not None else ():
                if proc.is_alive():
                    proc.terminate()
                proc.join()
        run, _ = load_run(impl, out)
    return run
