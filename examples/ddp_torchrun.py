"""DistributedDataParallel with an npgrad loss, launched by torchrun (gloo, CPU).

Every rank trains the same MLP on its own equal share of each global batch, with
``npgrad.losses.mse`` (NumPy forward and backward) as the loss; DDP averages the
gradients.  At the end the ranks gather their parameters, which must be identical,
and rank 0 repeats the training in one process on the whole batches: the result must
match within float tolerance (the all-reduce sums in another order).  Exits with
status 1 on any rank if a check fails.

    torchrun --standalone --nproc_per_node 2 examples/ddp_torchrun.py [--quick] [--seed 0]

Run with plain ``python`` it trains with a world of one process.
"""

from __future__ import annotations

import argparse
import copy
import os
import socket
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import npgrad


def train(model, batches, lr, shard=lambda t: t):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for x, y in batches:
        loss = npgrad.losses.mse(model(shard(x)), shard(y))
        opt.zero_grad()
        loss.backward()  # under DDP: the gradients are averaged across the ranks here
        opt.step()
    return loss


def flat_params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps (for CI)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", choices=["cpu"], help="gloo: CPU only")
    args = parser.parse_args()
    if "RANK" not in os.environ:  # not started by torchrun: a world of one
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        os.environ.update(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)  # one core per process
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    steps, batch = (5, 64) if args.quick else (200, 256)
    if batch % world:
        raise SystemExit(f"the global batch of {batch} does not split evenly over {world} ranks")

    torch.manual_seed(args.seed)  # the same data and the same start on every rank
    w = torch.randn(10, 3)
    batches = []
    for _ in range(steps):
        x = torch.randn(batch, 10)
        batches.append((x, torch.tanh(x @ w) + 0.05 * torch.randn(batch, 3)))
    net = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3))
    start = copy.deepcopy(net)

    def my_shard(t):  # equal shares: DDP's gradient average is the whole batch's gradient
        return t.tensor_split(world)[rank]

    loss = train(DistributedDataParallel(net), batches, lr=0.05, shard=my_shard)
    mine = flat_params(net)
    everyone = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(everyone, mine)

    ok = torch.zeros(1)
    if rank == 0:
        identical = all(torch.equal(everyone[0], p) for p in everyone)
        train(start, batches, lr=0.05)  # the reference: one process, whole batches
        single = flat_params(start)
        diff = (mine - single).abs().max().item()
        print(f"{world} ranks, {steps} steps, batch {batch}: rank 0's last loss {loss.item():.5f}")
        print(f"parameters identical on all ranks: {identical}")
        print(f"largest difference from one process on the whole batch: {diff:.2e}")
        ok[0] = float(identical and torch.allclose(mine, single, rtol=1e-5, atol=1e-6))
        print("OK: DDP with npgrad's mse equals one process" if ok[0] else "FAIL: see above")
    dist.broadcast(ok, src=0)
    dist.barrier()  # nobody tears down while another rank's last collective is in flight
    dist.destroy_process_group()
    return 0 if ok[0] else 1


if __name__ == "__main__":
    status = main()
    # Leave without C++ static destructors: in about one run in twenty (with torch's
    # own mse_loss too) gloo's threads abort the process at exit ("terminate called
    # without an active exception") after the work is done and destroyed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
