"""The README's table from several ``npgrad bench --json`` files: one row per
measurement, each cell the runs' paired ratios to native in the order given.

    python benchmarks/summarize.py results/cpu-2core.json results/cpu-2core-repeat.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VARIANTS = ("numpy", "auto", "handrolled")
HEADER = (
    "| measurement | native (first run) | NumPy MSE | automatic MSE | hand-rolled Function |\n"
    "|---|---|---|---|---|"
)


def _cells(values: list[float], fmt: str) -> str:
    return " / ".join(fmt.format(v) for v in values)


def summarize(paths: list[Path], device: str = "cpu") -> str:
    runs = [json.loads(Path(p).read_text())["devices"][device] for p in paths]
    rows = [HEADER]
    steps = [r["train_step"] for r in runs]
    native = steps[0]["seconds"]["native"]["median_s"] * 1e3
    ratios = [_cells([s["ratio"][k] for s in steps], "x{:.3f}") for k in VARIANTS]
    rows.append(f"| training step, batch 256 | {native:.2f} ms | " + " | ".join(ratios) + " |")
    for batch in runs[0]["loss"]:
        loss = [r["loss"][batch] for r in runs]
        native = loss[0]["seconds"]["native"]["median_s"] * 1e6
        ratios = [_cells([x["ratio"][k] for x in loss], "x{:.2f}") for k in VARIANTS]
        rows.append(f"| loss fwd+bwd, batch {batch} | {native:.0f} us | " + " | ".join(ratios))
        rows[-1] += " |"
    data = [r.get("data_path", {}) for r in runs]
    if all("data_only" in d for d in data):
        rows.append("")
        for part in ("data_only", "with_training"):
            npg = _cells([d[part]["seconds"]["npgrad"]["median_s"] for d in data], "{:.2f}")
            ref = _cells([d[part]["seconds"]["dataloader"]["median_s"] for d in data], "{:.2f}")
            fast = _cells([d[part]["speedup"] for d in data], "x{:.1f}")
            rows.append(f"data path, {part}: npgrad {npg} s, DataLoader {ref} s ({fast})")
    rows += per_call(runs)
    return "\n".join(rows)


def per_call(runs: list[dict]) -> list[str]:
    """The per-call sections' rows, where the runs have them: automatic mode over
    torch eager per problem, and numpy mode's plain backward over the hand-rolled
    Function in the training step (paired ratios, run by run)."""
    rows: list[str] = []
    if all("auto_vs_torch" in r for r in runs):
        rows += ["", "| automatic mode / torch eager, value + gradient | torch (first run) | "
                 "ratio |", "|---|---|---|"]  # fmt: skip
        for name, first in runs[0]["auto_vs_torch"]["problems"].items():
            torch_us = first["base_seconds"]["auto"]["median_s"] * 1e6
            ratios = _cells([r["auto_vs_torch"]["problems"][name]["ratio"]["auto"] for r in runs],
                            "x{:.3f}")  # fmt: skip
            rows.append(f"| {name} | {torch_us:.0f} us | {ratios} |")
    if all("numpy_plain" in r for r in runs):
        ratios = _cells([r["numpy_plain"]["ratio"]["numpy"] for r in runs], "x{:.3f}")
        rows.append(f"| training step, plain NumPy backward / hand-rolled Function | | {ratios} |")
    return rows


if __name__ == "__main__":
    print(summarize([Path(p) for p in sys.argv[1:]]))
