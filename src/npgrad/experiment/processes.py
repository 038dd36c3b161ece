"""Ending forked helper processes (the training runs, the drawing processes)."""

from __future__ import annotations

import signal
from typing import Any


def end(procs: list[Any]) -> None:
    """Terminate and reap ``procs`` (killing any that ignore it).  A second Ctrl-C (a
    double press, or ``timeout`` signalling the process and then its group) must not
    cut this short: a process left running would write into a folder that is gone."""
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
    finally:
        signal.signal(signal.SIGINT, handler)
