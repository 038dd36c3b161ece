"""SciPy inside a loss, two ways.

1. Automatic mode: SciPy's special functions that npgrad follows (``xlogy``,
   ``gammaln``, ``expit``; the list is docs/supported.md) need no backward.  A
   Poisson negative log-likelihood and a binary cross-entropy written with them are
   compared with torch's ``poisson_nll_loss`` and ``binary_cross_entropy_with_logits``.
2. NumPy mode: a forward that calls something only SciPy has,
   ``scipy.ndimage.gaussian_filter``, with a hand-written backward.  A Gaussian blur
   with zero padding (``mode="constant"``) is a linear map whose adjoint is the same
   blur, so the backward blurs the upstream gradient.  ``npgrad.check`` compares it
   with float64 central differences, and a "blurred MSE" loss built on it trains an
   image towards a target.

Exits with status 1 if a check fails.

    python examples/scipy_in_a_loss.py [--quick] [--seed 0] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage, special

import npgrad


# ------------------------------------------------- 1. automatic mode, no backward
@npgrad.loss
def poisson_nll(log_rate, k):
    """Exact Poisson negative log-likelihood of counts ``k``, mean over elements."""
    rate = np.exp(log_rate)
    return np.mean(rate - special.xlogy(k, rate) + special.gammaln(k + 1))


@npgrad.loss
def bce_logits(z, y):
    """Binary cross-entropy on logits, through the logistic function ``expit``."""
    p = special.expit(z)
    return -np.mean(special.xlogy(y, p) + special.xlogy(1 - y, 1 - p))


# ---------------------------------- 2. NumPy mode: a SciPy-only forward, own backward
@npgrad.function
def blur(img, sigma):
    """Gaussian blur of images [N, H, W] over H and W (zero padding outside)."""
    return ndimage.gaussian_filter(img, sigma=(0, sigma, sigma), mode="constant")


@blur.backward
def _(g, img, sigma, out):
    # the blur is linear with a symmetric kernel and zero padding: it is its own adjoint
    return ndimage.gaussian_filter(g, sigma=(0, sigma, sigma), mode="constant")


def blurred_mse(x, t, sigma=1.5):
    """Compare images only at the scale the blur keeps: mean((blur(x - t))^2)."""
    return torch.mean(blur(x - t, sigma) ** 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (for CI)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    dev = args.device
    n, side, steps = (256, 16, 20) if args.quick else (100_000, 64, 200)
    failures = []

    # 1. SciPy special functions in automatic mode, against torch's losses
    log_rate = torch.randn(n, device=dev, requires_grad=True)
    k = torch.poisson(torch.full((n,), 3.0, device=dev))
    z = torch.randn(n, device=dev, requires_grad=True)
    y = torch.randint(0, 2, (n,), device=dev).float()
    pairs = {
        # torch's full=True adds Stirling's approximation of log(k!); ours is exact,
        # so compare with full=False plus the exact constant
        "poisson_nll": (
            poisson_nll(log_rate, k),
            F.poisson_nll_loss(log_rate, k, log_input=True) + torch.lgamma(k + 1).mean(),
            log_rate,
        ),
        "bce_logits": (bce_logits(z, y), F.binary_cross_entropy_with_logits(z, y), z),
    }
    for name, (ours, theirs, x) in pairs.items():
        g_ours, g_theirs = (torch.autograd.grad(v, x)[0] for v in (ours, theirs))
        diff = (g_ours - g_theirs).abs().max().item()
        print(f"{name}: npgrad {ours.item():.6f}, torch {theirs.item():.6f}, grad diff {diff:.1e}")
        try:
            torch.testing.assert_close((ours, g_ours), (theirs, g_theirs), rtol=1e-5, atol=1e-6)
        except AssertionError as e:
            failures.append(f"{name} differs from torch: {e}")

    # 2. the SciPy-only op: its backward against central differences, then training
    report = npgrad.check(blur, torch.Size([2, 9, 7]), 1.2, raise_on_fail=False)
    print(report)
    if not report.ok:
        failures.append("blur's backward disagrees with central differences")
    target = torch.rand(1, side, side, device=dev)
    img = torch.zeros(1, side, side, device=dev, requires_grad=True)
    opt = torch.optim.Adam([img], lr=0.05)
    history = []
    for _ in range(steps):
        loss = blurred_mse(img, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    print(f"blurred_mse over {steps} Adam steps: {history[0]:.5f} -> {history[-1]:.5f}")
    if not history[-1] < history[0]:
        failures.append("training with blurred_mse did not lower the loss")

    if failures:
        print("FAIL: " + "\nFAIL: ".join(failures))
        return 1
    print("OK: SciPy special functions match torch; the gaussian_filter backward passes check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
