"""Value and gradient of plain NumPy functions: npgrad against HIPS autograd and JAX.

    python benchmarks/numpy_api.py [--quick] [--threads N] [--settle S] [--json out.json]
    python benchmarks/numpy_api.py --table-from out.json

The same section as ``npgrad bench`` prints ("NumPy-level API vs HIPS autograd and
JAX"), run on its own; the problems and variants live in ``npgrad.bench_problems``.
On a small shared machine pin every library to one thread, NumPy's BLAS included:
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/numpy_api.py --threads 1``.
HIPS autograd and JAX are the optional extra ``bench`` (``pip install -e ".[bench]"``);
an absent one is skipped with a note.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from npgrad import bench, bench_problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--table-from", type=Path, help="print the table of a saved run")
    parser.add_argument("--threads", type=int, help="torch threads (1 also pins XLA's pool)")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds of pause before each timed block (default: %(default)s): on two "
        "cores NumPy's BLAS threads keep spinning after autograd's block and slow the "
        "torch block that follows",
    )
    opts = parser.parse_args(argv)
    if opts.table_from is not None:
        print(bench_problems.table_numpy_api(json.loads(opts.table_from.read_text())))
        return 0
    result = bench_problems.run_numpy_api(opts.quick, opts.threads, settle_s=opts.settle)
    if opts.json is not None:
        bench.write_json(result, opts.json)
    print(bench_problems.table_numpy_api(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
