"""Two checkouts of npgrad side by side on the NumPy-level API's problems.

    python benchmarks/numpy_api_against.py --against ../wt-base/src --rounds 6 \
        --problems "tiny mse 8x4,logistic 1000x50" --json out.json

Each round runs one fresh process per checkout, in alternating order, every library
on one thread (NumPy's BLAS too).  A process times ``npgrad.value_and_grad`` and HIPS
autograd's on each problem in interleaved blocks and reports the median of the
paired ratios npgrad / autograd and npgrad's fastest block.  The machine's speed
drifts between processes, so the ratio, measured inside one process against the
same yardstick, is the figure to compare; a change of a few per cent shows in it
over a handful of rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import json, statistics, sys, time
import numpy as np, torch
torch.set_num_threads(1)
import autograd, autograd.numpy as anp
import npgrad
from npgrad import bench_problems as bp

out = {}
for name in sys.argv[1].split(","):
    problem = bp.PROBLEMS[name][0]
    args = bp.data(name)
    ours = npgrad.value_and_grad(problem(np))
    theirs = autograd.value_and_grad(problem(anp))
    calls = {"npgrad": lambda: ours(*args), "autograd": lambda: theirs(*args)}
    for f in calls.values():
        for _ in range(200):
            f()
    start = time.perf_counter()
    calls["npgrad"]()
    inner = max(5, int(0.02 / (time.perf_counter() - start)))
    blocks = {k: [] for k in calls}
    for _ in range(15):
        for k, f in calls.items():
            start = time.perf_counter()
            for _ in range(inner):
                f()
            blocks[k].append((time.perf_counter() - start) / inner * 1e6)
    out[name] = {
        "ratio": statistics.median(a / b for a, b in zip(blocks["npgrad"], blocks["autograd"])),
        "npgrad_min_us": min(blocks["npgrad"]),
        "autograd_min_us": min(blocks["autograd"]),
    }
print(json.dumps(out))
"""

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(src: str, problems: str) -> dict:
    env = dict(os.environ, PYTHONPATH=src, **ONE_THREAD)
    done = subprocess.run([sys.executable, "-c", _CHILD, problems], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("--against", required=True, help="the other checkout's src folder")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--problems", default="tiny mse 8x4,logistic 1000x50,gp 64 points")
    p.add_argument("--json", type=Path, help="write every figure here")
    opts = p.parse_args()
    here = str(Path(__file__).resolve().parents[1] / "src")
    srcs = {"this": here, "against": opts.against}
    runs: dict[str, list] = {k: [] for k in srcs}
    for r in range(opts.rounds):
        for k in list(srcs) if r % 2 == 0 else list(srcs)[::-1]:
            runs[k].append(_run(srcs[k], opts.problems))
    for name in opts.problems.split(","):
        for k in srcs:
            ratios = [run[name]["ratio"] for run in runs[k]]
            print(f"{name:22s} {k:8s} npgrad/autograd median x{statistics.median(ratios):.3f}"
                  f"  runs {' '.join(f'{x:.3f}' for x in ratios)}")  # fmt: skip
    if opts.json is not None:
        result = {"srcs": srcs, "runs": runs, "python": platform.python_version(),
                  "machine": platform.machine(), "cpus": os.cpu_count()}  # fmt: skip
        tmp = opts.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        tmp.replace(opts.json)


if __name__ == "__main__":
    main()
