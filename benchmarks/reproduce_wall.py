"""Wall time of the whole ``npgrad reproduce`` command, with its floor beside it.

Each round runs, in turn and each in a fresh interpreter: ``import torch``, ``import
torch; import torch._dynamo`` (what ``torch.optim`` would import in each run), and the
whole command (both runs, report, plots, files).  The machine's speed drifts over
minutes, so the floor is timed next to every command, not once.

    python benchmarks/reproduce_wall.py --data-dir ../shared/data --rounds 5 --json out.json

``--against DIR`` adds another checkout's ``src`` (say, a worktree of an earlier
commit) to every round, in alternating order, and prints the paired differences:
a change worth a few tenths of a second shows there long before in the medians.
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


def _wall(cmd: list[str], src: str | None = None) -> float:
    env = None if src is None else dict(os.environ, PYTHONPATH=src)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("--data-dir", default=os.environ.get("NPGRAD_DATA", "data"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json", help="write every figure here")
    p.add_argument("--against", metavar="DIR", help="another checkout's src, timed beside")
    args = p.parse_args()
    py = sys.executable
    floors = {
        "import torch": [py, "-c", "import torch"],
        "import torch + torch._dynamo": [py, "-c", "import torch, torch._dynamo"],
    }
    variants = {"npgrad reproduce": None}
    if args.against:
        variants[f"npgrad reproduce ({args.against})"] = args.against
    times: dict[str, list[float]] = {k: [] for k in [*floors, *variants]}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        command = [py, "-m", "npgrad", "reproduce", "--data-dir", args.data_dir,
                   "--device", "cpu", "--out", out, "--overwrite"]  # fmt: skip
        for src in variants.values():
            _wall(command, src)  # warm the page cache and the imports' files
        for r in range(args.rounds):
            for name, cmd in floors.items():
                times[name].append(_wall(cmd))
            order = list(variants.items())
            for name, src in order if r % 2 == 0 else order[::-1]:
                times[name].append(_wall(command, src))
    result = {
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },  # fmt: skip
        "seconds": {k: {"median": statistics.median(v), "all": v} for k, v in times.items()},
    }
    if args.against:
        here, there = (times[k] for k in variants)
        diffs = [a - b for a, b in zip(here, there)]
        result["paired_difference_s"] = {"median": statistics.median(diffs), "all": diffs}
    for name, v in times.items():
        print(f"  {name:32s} median {statistics.median(v):5.2f} s   "
              f"({', '.join(f'{s:.2f}' for s in v)})")  # fmt: skip
    if args.against:
        d = result["paired_difference_s"]
        print(f"  this checkout minus the other: median {d['median']:+.2f} s   "
              f"({', '.join(f'{s:+.2f}' for s in d['all'])})")  # fmt: skip
    if args.json:
        tmp_path = args.json + ".tmp"
        with open(tmp_path, "w") as f:
            json.dump(result, f, indent=1)
        os.replace(tmp_path, args.json)


if __name__ == "__main__":
    main()
