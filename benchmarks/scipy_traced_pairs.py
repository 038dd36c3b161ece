"""Traced SciPy calls against the same maths in torch eager, value + gradient per call.

    python benchmarks/scipy_traced_pairs.py [--rounds 15] [--inner 100]

One process, one torch thread: blocks of ``--inner`` calls of each variant,
interleaved in alternating order, ``--rounds`` times; each ratio pairs the blocks
of one round.  Variants: ``torch`` (the base), ``auto`` (npgrad's automatic mode on
the SciPy code) and, for ``norm.logpdf``, ``auto-general``: the same call with
``loc`` and ``scale`` as 0-d NumPy arrays (the same values), which takes the
general path every call took before Python-number ``loc``/``scale`` stayed numbers.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import scipy.special as sp
import torch
from scipy.stats import norm

import npgrad

MU, S = 0.3, 1.7
MU_ARRAY, S_ARRAY = np.array(MU), np.array(S)


def logpdf(x):
    return np.sum(norm.logpdf(x, MU, S))


def logpdf_general(x):
    return np.sum(norm.logpdf(x, MU_ARRAY, S_ARRAY))


def logpdf_torch(x):
    return torch.sum(-0.5 * ((x - MU) / S) ** 2 - math.log(S) - 0.5 * math.log(2 * math.pi))


def lse(z):
    return np.mean(sp.logsumexp(z, axis=1))


def lse_torch(z):
    return torch.mean(torch.logsumexp(z, dim=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--inner", type=int, default=100)
    a = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    norms = {"torch": logpdf_torch, "auto": logpdf, "auto-general": logpdf_general}
    cases = [
        ("norm.logpdf 1000", rng.normal(size=1000), norms),
        ("norm.logpdf 256x64", rng.normal(size=(256, 64)), norms),
        ("logsumexp 256x10", rng.normal(size=(256, 10)), {"torch": lse_torch, "auto": lse}),
        ("logsumexp 256x64", rng.normal(size=(256, 64)), {"torch": lse_torch, "auto": lse}),
    ]
    for name, x, fns in cases:
        leaf = torch.tensor(x, requires_grad=True)
        ops = {
            k: f if k == "torch" else npgrad.function(f, name=k.replace("-", "_"), mode="auto")
            for k, f in fns.items()
        }

        def run(fn, leaf=leaf):
            v = fn(leaf)
            return v, torch.autograd.grad(v, [leaf])[0]

        want = run(ops["torch"])
        for op in ops.values():  # the same value and gradient before any timing
            v, g = run(op)
            torch.testing.assert_close(v, want[0], rtol=1e-12, atol=0)
            torch.testing.assert_close(g, want[1], rtol=1e-12, atol=1e-15)
        seconds: dict[str, list[float]] = {k: [] for k in ops}
        for r in range(a.rounds):
            for k in list(ops) if r % 2 == 0 else list(ops)[::-1]:
                t0 = time.perf_counter()
                for _ in range(a.inner):
                    run(ops[k])
                seconds[k].append((time.perf_counter() - t0) / a.inner)
        line = f"{name:20s} torch {statistics.median(seconds['torch']) * 1e6:6.1f} us"
        for k, ts in seconds.items():
            if k != "torch":
                ratio = statistics.median(t / b for t, b in zip(ts, seconds["torch"]))
                line += f" | {k} {statistics.median(ts) * 1e6:6.1f} us x{ratio:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
