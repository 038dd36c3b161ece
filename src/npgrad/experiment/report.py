"""The reference log, the parity verdict, and the files a reproduction writes."""

from __future__ import annotations

import csv
import io
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..cli import package_version
from .files import atomic_write
from .train import LOG_EVERY, Run

# The article's published log (facts from shared/reference/seed-experiment.md)
REFERENCE = {
    1: [
        0.2321,
        0.1319,
        0.0835,
        0.0688,
        0.0700,
        0.0665,
        0.0625,
        0.0624,
        0.0649,
        0.0608,
        0.0668,
        0.0600,
        0.0611,
    ],
    2: [
        0.0598,
        0.0625,
        0.0619,
        0.0565,
        0.0585,
        0.0550,
        0.0537,
        0.0538,
        0.0573,
        0.0545,
        0.0595,
        0.0555,
        0.0578,
    ],
}
REFERENCE_TOLERANCE = 1e-4


def reference_keys() -> list[tuple[int, int | str]]:
    keys: list[tuple[int, int | str]] = []
    for epoch in REFERENCE:
        keys += [(epoch, s) for s in range(1, 12 * LOG_EVERY, LOG_EVERY)] + [(epoch, "end")]
    return keys


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text))


def parity(a: Run, b: Run) -> dict[str, Any]:
    pa, pb = list(a.model.parameters()), list(b.model.parameters())
    equal = len(pa) == len(pb) and all(torch.equal(x, y) for x, y in zip(pa, pb))
    la, lb = np.array(sum(a.losses, [])), np.array(sum(b.losses, []))
    return {
        "params_bitwise_equal": bool(equal and a.params_sha256 == b.params_sha256),
        "max_abs_loss_diff": float(np.max(np.abs(la - lb))) if la.size else 0.0,
        "steps": int(la.size),
    }


REFERENCE_SETUP = {"seed": 0, "lr": 1e-3, "batch_size": 256}
REFERENCE_STEPS = 235
REFERENCE_IMAGES = 60000


def comparable(epoch: int, step: int | str, steps_per_epoch: int, full: bool = True) -> bool:
    """Whether a run saw the same history as the reference up to (epoch, step): a
    ``--limit`` run shares only the steps of its first epoch whose batches are whole."""
    if full and steps_per_epoch == REFERENCE_STEPS:
        return True
    whole_steps = steps_per_epoch if full else steps_per_epoch - 1
    return epoch == 1 and step != "end" and step <= whole_steps


def reference_rows(native: Run, other: Run, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The 26 logged values beside the reference: those a run of this setup can match."""
    if any(config.get(k, v) != v for k, v in REFERENCE_SETUP.items()):
        return []
    got_n, got_o = native.logged(), other.logged()
    steps = len(native.losses[0]) if native.losses else 0
    limit = config.get("limit")
    full = limit is None or limit >= REFERENCE_IMAGES
    rows = []
    for epoch, step in reference_keys():
        if (epoch, step) not in got_n or not comparable(epoch, step, steps, full):
            continue
        idx = 12 if step == "end" else (step - 1) // LOG_EVERY
        rows.append(
            {
                "epoch": epoch,
                "step": step,
                "reference": REFERENCE[epoch][idx],
                "native": got_n[(epoch, step)],
                "numpy": got_o[(epoch, step)],
            }
        )
    return rows


def git_state(folder: Path | None = None) -> tuple[str | None, bool | None]:
    """``(commit, has uncommitted changes)`` of the git checkout that holds npgrad's
    source, or ``(None, None)``: not a checkout (an installed wheel), no git, or a
    checkout of something else that merely contains the installed package."""
    import subprocess

    pkg = (folder or Path(__file__).resolve().parents[1]).resolve()

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(pkg), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or (Path(top) / "src" / "npgrad").resolve() != pkg:
        return None, None
    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, (None if status is None else bool(status))


def versions() -> dict[str, str]:
    return {
        "npgrad": package_version(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def build(
    native: Run, other: Run, *, device: str, config: dict[str, Any], out: Path | None = None
) -> dict[str, Any]:
    import datetime

    commit, dirty = git_state()
    return {
        "reference": reference_rows(native, other, config),
        "parity": parity(native, other),
        "runs": {
            r.name: {"seconds": round(r.seconds, 4), "params_sha256": r.params_sha256}
            for r in (native, other)
        },
        "device": device,
        "out": None if out is None else str(out.resolve()),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "git_commit": commit,
        "git_dirty": dirty,
        "config": config,
    }


def losses_csv(native: Run, other: Run) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["epoch", "step", native.name, other.name])
    for e, (ln, lo) in enumerate(zip(native.losses, other.losses), 1):
        for s, (a, b) in enumerate(zip(ln, lo), 1):
            w.writerow([e, s, repr(a), repr(b)])
    return buf.getvalue()


PLOTS = ("loss_curves.png", "reconstructions.png")


def own_files(out: Path) -> list[Path]:
    """The files in ``out`` that a reproduction writes (whatever its options), and
    the temporary files an interrupted atomic write of one of them could leave."""
    from .train import LOSS_IMPLS

    names = {"report.json", "losses.csv", *PLOTS, *(f"{impl}.pt" for impl in LOSS_IMPLS)}
    found = []
    for p in out.iterdir() if out.is_dir() else ():
        temp = any(p.name.startswith(f".{n}.") and p.name.endswith(Path(n).suffix) for n in names)
        if (p.name in names or temp) and (p.is_file() or p.is_symlink()):
            found.append(p)
    return sorted(found)


def save_outputs(out: Path, report: dict[str, Any], native: Run, other: Run) -> None:
    write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    write_text(out / "losses.csv", losses_csv(native, other))
    for r in (native, other):
        sd = {k: v.detach().cpu() for k, v in r.model.state_dict().items()}
        # through memory: torch.save's own file writer reports a full disk as a
        # RuntimeError ("unexpected pos"), Python's write as the OSError it is
        atomic_write(out / f"{r.name}.pt", lambda p, sd=sd: p.write_bytes(_saved(sd)))


def _saved(state: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def summary(report: dict[str, Any], other: str) -> str:
    par = report["parity"]
    rows = report["reference"]
    lines = [
        "",
        f"Parity (native vs {other}, {par['steps']} steps): parameters bitwise equal: "
        f"{'yes' if par['params_bitwise_equal'] else 'NO'}; "
        f"max |loss difference| {par['max_abs_loss_diff']:.3g}",
    ]
    for name, r in report["runs"].items():
        lines.append(
            f"  {name:<10} {r['seconds']:7.2f} s  params sha256 {r['params_sha256'][:16]}…"
        )
    if rows:
        lines.append("")
        lines.append("Against the reference log (tolerance 1e-4):")
        lines.append(f"  {'epoch':>5} {'step':>5} {'reference':>10} {'native':>10} {other:>10}")
        worst = 0.0
        for row in rows:
            d = max(abs(row["native"] - row["reference"]), abs(row["numpy"] - row["reference"]))
            worst = max(worst, d)
            flag = "" if d <= REFERENCE_TOLERANCE + 1e-12 else "  <-- off"
            lines.append(
                f"  {row['epoch']:>5} {row['step']!s:>5} {row['reference']:>10.4f} "
                f"{row['native']:>10.6f} {row['numpy']:>10.6f}{flag}"
            )
        lines.append(f"  {len(rows)} values, worst distance {worst:.2e}")
    return "\n".join(lines)
