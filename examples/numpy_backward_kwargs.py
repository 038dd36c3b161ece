"""A NumPy forward with its own NumPy backward, and a keyword argument: the Huber loss.

``huber(x, t, delta=1.0)`` is written in NumPy and registered with ``@npgrad.loss``;
its backward is written in NumPy too and takes the forward's keyword ``delta`` by name
(``def _(g, x, t, out, delta=1.0)``).  The script calls ``huber(x, t, delta=0.5)``,
checks the backward with ``npgrad.check`` (float64 central differences) and compares
value and both gradients with ``torch.nn.functional.huber_loss``.  It exits with
status 1 if either comparison fails.

    python examples/numpy_backward_kwargs.py [--quick] [--seed 0] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F

import npgrad


@npgrad.loss
def huber(x, t, delta=1.0):
    a = np.abs(x - t)
    return np.mean(np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta)))


@huber.backward  # the upstream gradient, the forward's arguments by name, its output
def _(g, x, t, out, delta=1.0):
    # d/dx of the mean: (x - t) inside the quadratic zone, delta * sign(x - t) outside
    d = np.clip(x - t, -delta, delta) * (g / x.size)
    return d, -d  # one gradient per tensor input: x, then t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (for CI)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    n = 256 if args.quick else 100_000
    delta = 0.5

    # 1. the backward against float64 central differences (small inputs: 2 calls each)
    shape = torch.Size([6, 5])
    report = npgrad.check(huber, shape, shape, delta=delta, raise_on_fail=False)
    print(report)

    # 2. value and gradients against torch's own Huber loss, in float32
    x = torch.randn(n, device=args.device, requires_grad=True)
    t = torch.randn(n, device=args.device, requires_grad=True)
    loss = huber(x, t, delta=delta)
    gx, gt = torch.autograd.grad(loss, (x, t))
    ref = F.huber_loss(x, t, delta=delta)
    rx, rt = torch.autograd.grad(ref, (x, t))
    err = max((gx - rx).abs().max().item(), (gt - rt).abs().max().item())
    print(f"huber(delta={delta}) on {n} values: npgrad {loss.item():.6f}, torch {ref.item():.6f}")
    print(f"largest gradient difference from torch: {err:.2e}")
    if not report.ok:
        print("FAIL: the backward disagrees with central differences (npgrad.check)")
        return 1
    try:
        torch.testing.assert_close(loss, ref)
        torch.testing.assert_close((gx, gt), (rx, rt))
    except AssertionError as e:
        print(f"FAIL: npgrad's huber differs from torch.nn.functional.huber_loss\n{e}")
        return 1
    print("OK: the NumPy backward with delta=0.5 matches torch.nn.functional.huber_loss")
    return 0


if __name__ == "__main__":
    sys.exit(main())
