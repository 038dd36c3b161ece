"""Both runs of the experiment at once, one CPU core each.

On a 2-core machine two single-threaded runs side by side finish sooner than two
two-threaded runs in a row.  Each run is a forked child (``fork`` shares the
loaded data and skips a second ``import torch``); the parent forks before torch has
run any op, so no thread pool is copied half-alive.  Both runs use one thread, so
they stay comparable bit for bit; each child's log is printed by the parent after
both finish, run by run, so the two logs never interleave.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import torch

from .processes import end, forking, started
from .train import Run, load_run, make_loss, save_run, train


def available() -> bool:
    return "fork" in mp.get_all_start_methods()


def _child(impl: str, criterion, batches, kw: dict, out: str, counter) -> None:
    started()
    torch.set_num_threads(1)
    lines: list[str] = []

    def tick() -> None:
        with counter.get_lock():
            counter.value += 1

    # a child only trains, eagerly: the optimizer need not import the compiler
    run = train(impl, criterion, batches, log=lines.append, on_step=tick, eager_only=True, **kw)
    save_run(run, out, log=lines)


def train_side_by_side(
    impls: list[str], batches, *, progress: bool, **kw
) -> list[tuple[Run, list[str]]]:
    """Train each of ``impls`` in its own forked process; return runs and their logs.

    The parent only waits meanwhile: with two cores, any work here would slow the
    runs (the figures' matplotlib warms up earlier, see :mod:`.plotter`).
    """
    ctx = mp.get_context("fork")
    total = len(batches) * kw.get("epochs", 2)
    with tempfile.TemporaryDirectory() as tmp:
        counters = [ctx.Value("i", 0) for _ in impls]
        # made here, before the fork: npgrad's imports are then paid once, on the
        # parent's clock, instead of on one run's, which the command waits for
        criteria = [make_loss(impl) for impl in impls]
        outs = [str(Path(tmp) / f"{impl}.pt") for impl in impls]
        procs = [
            ctx.Process(target=_child, args=(impl, f, batches, kw, out, c), daemon=True)
            for impl, f, out, c in zip(impls, criteria, outs, counters)
        ]
        bars: list = []  # the current progress bar, closed however the wait ends
        running: list = []  # started ones only: a SIGTERM held back lands as forking ends
        try:
            with forking():  # Ctrl-C and SIGTERM: see there
                for p in procs:
                    p.start()
                    running.append(p)
            _wait(procs, counters, impls, len(batches), total, progress, bars)
        finally:
            for bar in bars[-1:]:
                bar.close()
            end(running)
        results = []
        for impl, p, out in zip(impls, procs, outs):
            if p.exitcode != 0:
                raise RuntimeError(f"the '{impl}' run failed (exit code {p.exitcode})")
            run, extra = load_run(impl, out)
            results.append((run, extra["log"]))
    return results


def _wait(procs, counters, impls: list[str], steps: int, total: int, progress: bool, bars: list):
    """Poll until every child is done, showing both runs' progress in ``bars[-1]``."""
    shown = 0
    while any(p.is_alive() for p in procs):
        if progress:
            # one bar per epoch, counting both runs' steps in it
            epoch = min(min(c.value for c in counters) // steps + 1, total // steps)
            if epoch != shown:
                from tqdm import tqdm

                for bar in bars[-1:]:
                    bar.close()
                desc = f"{' + '.join(impls)} epoch {epoch}/{total // steps}"
                bars.append(tqdm(total=steps * len(impls), desc=desc, leave=False, file=sys.stderr))
                shown = epoch
            bar = bars[-1]
            bar.n = sum(min(max(c.value - (epoch - 1) * steps, 0), steps) for c in counters)
            bar.refresh()
        time.sleep(0.05)
