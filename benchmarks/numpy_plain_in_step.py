"""numpy mode's plain backward inside the founding training step, piece by piece.

``npgrad bench``'s "numpy mode's plain backward vs a hand-rolled Function" section
times whole steps; on a shared 2-core machine their noise (a few percent) is as large
as the difference sought.  This times, inside each step, the two parts where the
variants differ: the loss call (forward) and the loss node's backward (from
``loss.backward()`` until the gradient reaches the model's output, found with a
hook), for npgrad's numpy mode and for a bare hand-rolled ``autograd.Function``
around the same NumPy code.  Steps of the two variants are interleaved, each on a
model of its own from the same seed; the figures are medians after a warm-up.
Outside a training loop the same code costs several times less: the step's
torch work leaves Python's and NumPy's code and data out of the caches.

    python benchmarks/numpy_plain_in_step.py [--steps 150] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from npgrad import bench
from npgrad.experiment.model import Autoencoder


def measure(steps: int, warmup: int = 30) -> dict[str, dict[str, float]]:
    criteria = bench._plain_criteria()  # {"handrolled": ..., "numpy": ...}
    x = torch.rand(256, 784, generator=torch.Generator().manual_seed(0))
    clock = time.perf_counter_ns
    runs = {}
    for name, crit in criteria.items():
        torch.manual_seed(0)
        model = Autoencoder()
        runs[name] = (crit, model, torch.optim.Adam(model.parameters(), lr=1e-3))
    rec: dict[str, dict[str, list[int]]] = {
        n: {"loss call": [], "loss backward": [], "step": []} for n in runs
    }
    for _ in range(steps):
        for name, (crit, model, opt) in runs.items():
            s0 = clock()
            y = model(x)
            s1 = clock()
            loss = crit(y, x)
            s2 = clock()
            reached: list[int] = []
            y.register_hook(lambda g, times=reached: times.append(clock()))  # g reaches y
            opt.zero_grad()
            s3 = clock()
            loss.backward()
            opt.step()
            s4 = clock()
            r = rec[name]
            r["loss call"].append(s2 - s1)
            r["loss backward"].append(reached[0] - s3)
            r["step"].append(s4 - s0)
    return {
        name: {part: statistics.median(v[warmup:]) / 1e3 for part, v in parts.items()}
        for name, parts in rec.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    res = measure(args.steps)
    base = res["handrolled"]
    print(f"torch threads {torch.get_num_threads()}, numpy {np.__version__}; medians in us")
    for name, parts in res.items():
        cells = "  ".join(f"{p} {v:7.1f}" for p, v in parts.items())
        print(f"{name:10s}  {cells}")
    extra = {p: res["numpy"][p] - base[p] for p in base}
    print("numpy mode - handrolled: " + "  ".join(f"{p} {v:+.1f}" for p, v in extra.items()))


if __name__ == "__main__":
    main()
