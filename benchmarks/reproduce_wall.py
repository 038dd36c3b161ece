"""Wall time of the whole ``npgrad reproduce`` command, with its floor beside it.

Each round runs, in turn and each in a fresh interpreter: ``import torch``, ``import
torch; import torch._dynamo`` (what ``torch.optim`` would import in each run), and the
whole command (both runs, report, plots, files).  The machine's speed drifts over
minutes, so the floor is timed next to every command, not once.

    python benchmarks/reproduce_wall.py --data-dir ../shared/data --rounds 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("--data-dir", default=os.environ.get("NPGRAD_DATA", "data"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json", help="write every figure here")
    args = p.parse_args()
    py = sys.executable
    floors = {
        "import torch": [py, "-c", "import torch"],
        "import torch + torch._dynamo": [py, "-c", "import torch, torch._dynamo"],
    }
    times: dict[str, list[float]] = {k: [] for k in [*floors, "npgrad reproduce"]}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        command = [py, "-m", "npgrad", "reproduce", "--data-dir", args.data_dir,
                   "--device", "cpu", "--out", out, "--overwrite"]  # fmt: skip
        _wall(command)  # warm the page cache and the imports' files
        for _ in range(args.rounds):
            for name, cmd in floors.items():
                times[name].append(_wall(cmd))
            times["npgrad reproduce"].append(_wall(command))
    result = {
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },  # fmt: skip
        "seconds": {k: {"median": statistics.median(v), "all": v} for k, v in times.items()},
    }
    for name, v in times.items():
        print(f"  {name:32s} median {statistics.median(v):5.2f} s   "
              f"({', '.join(f'{s:.2f}' for s in v)})")  # fmt: skip
    if args.json:
        tmp_path = args.json + ".tmp"
        with open(tmp_path, "w") as f:
            json.dump(result, f, indent=1)
        os.replace(tmp_path, args.json)


if __name__ == "__main__":
    main()
