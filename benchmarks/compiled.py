"""npgrad under torch.compile and jit=True (``npgrad.bench_compiled``), as a script.

Run ``OMP_NUM_THREADS=1 python benchmarks/compiled.py --threads 1 [--quick] [--json out.json]``;
print a saved run with ``python benchmarks/compiled.py --table-from out.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from npgrad import bench, bench_compiled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch threads (1 also pins XLA's pool)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--table-from", type=Path, help="print the table of a saved run")
    opts = parser.parse_args(argv)
    if opts.table_from is not None:
        print(bench_compiled.format_table(json.loads(opts.table_from.read_text())))
        return 0
    result = bench_compiled.run(quick=opts.quick, device=opts.device, threads=opts.threads)
    if opts.json is not None:
        bench.write_json(result, opts.json)
    print(bench_compiled.format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
