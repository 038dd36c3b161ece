"""What npgrad's SciPy dispatch costs.

1. Outside a trace: SciPy's own calls on NumPy arrays with npgrad's trampolines
   installed and without them (SciPy's code restored), interleaved repeats, the
   median of the per-repeat ratios.
2. In a trace: a traced ``scipy.special.logsumexp`` and ``scipy.stats.norm.logpdf``
   against the same maths written in torch ops, value and gradient per call.

    python benchmarks/scipy_dispatch.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import scipy.special as sp
import scipy.stats as st
import torch

import npgrad
from npgrad._trace import _scipy  # the switch for the paired measurement


def _per_call(fn, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def outside(repeats: int) -> None:
    rng = np.random.default_rng(0)
    small, large = rng.normal(size=16), rng.normal(size=(200, 50))
    calls = {
        "logsumexp(16)": lambda: sp.logsumexp(small),
        "logsumexp(200x50, axis=1)": lambda: sp.logsumexp(large, axis=1),
        "norm.logpdf(16, mu, s)": lambda: st.norm.logpdf(small, 0.3, 1.7),
        "norm.logpdf(200x50)": lambda: st.norm.logpdf(large),
    }
    # a trace installs the trampolines; uninstall() puts SciPy's code back
    npgrad.function(lambda x: sp.logsumexp(x), name="warm")(torch.rand(3))
    print("SciPy on NumPy arrays, outside a trace: with / without npgrad's trampolines")
    for name, call in calls.items():
        number = max(20, int(0.02 / _per_call(call, 20)))
        ratios, with_t, without_t = [], [], []
        for _ in range(repeats):
            # ABBA: without, with, with, without, so that drift cancels
            _scipy.uninstall()
            plain = _per_call(call, number)
            _scipy.install()
            hooked = _per_call(call, number) + _per_call(call, number)
            _scipy.uninstall()
            plain = (plain + _per_call(call, number)) / 2
            hooked /= 2
            _scipy.install()
            ratios.append(hooked / plain)
            with_t.append(hooked)
            without_t.append(plain)
        print(
            f"  {name:<28} without {statistics.median(without_t) * 1e6:8.1f} us  "
            f"with {statistics.median(with_t) * 1e6:8.1f} us  "
            f"ratio {statistics.median(ratios):.3f}"
        )


def traced(repeats: int) -> None:
    x = torch.randn(256, 64, dtype=torch.float32, requires_grad=True)
    mu, s = torch.randn(64), torch.rand(64) + 0.5
    lse = npgrad.function(lambda a: np.sum(sp.logsumexp(a, axis=1)), name="lse")
    logpdf = npgrad.function(lambda a, m, s: np.sum(st.norm.logpdf(a, m, s)), name="lp")
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    pairs = {
        "logsumexp": (
            lambda: lse(x).backward(),
            lambda: torch.logsumexp(x, dim=1).sum().backward(),
        ),
        "norm.logpdf": (
            lambda: logpdf(x, mu, s).backward(),
            lambda: (-0.5 * ((x - mu) / s) ** 2 - torch.log(s) - half_log_2pi).sum().backward(),
        ),
    }
    print("traced (value + gradient, 256x64 float32, CPU) against the same maths in torch")
    for name, (ours, theirs) in pairs.items():
        number = max(20, int(0.05 / _per_call(theirs, 20)))
        ratios, a_t, b_t = [], [], []
        for _ in range(repeats):
            a, b = _per_call(ours, number), _per_call(theirs, number)
            ratios.append(a / b)
            a_t.append(a)
            b_t.append(b)
        print(
            f"  {name:<12} npgrad {statistics.median(a_t) * 1e6:8.1f} us  "
            f"torch {statistics.median(b_t) * 1e6:8.1f} us  ratio {statistics.median(ratios):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    outside(args.repeats)
    traced(args.repeats)


if __name__ == "__main__":
    main()
