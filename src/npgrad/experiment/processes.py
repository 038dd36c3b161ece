"""Starting and ending forked helper processes (the training runs, the drawing
processes), and the signals around them."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any

_TERM = {signal.SIGTERM}


@contextlib.contextmanager
def forking() -> Iterator[None]:
    """While helper processes are forked here.

    Ctrl-C reaches the whole process group: the children ignore it (inherited from
    here, so none can catch it before it is set) and the parent, which alone reports
    it, stops them.  SIGTERM is held back meanwhile, so that a child cannot get it
    before :func:`started` restores its default action: the parent's own handler,
    inherited by the fork, would raise in the child instead of ending it."""
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the mask holds it back from this thread only: another one (torch's) takes it,
    # and a Python handler would then raise here in the middle of a fork or a spawn's
    # write of its arguments; so a Python handler is deferred too
    got: list[int] = []
    term = signal.getsignal(signal.SIGTERM)
    if callable(term):
        signal.signal(signal.SIGTERM, lambda n, _: got.append(n))
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _TERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        if callable(term):
            signal.signal(signal.SIGTERM, term)
        if signal.SIGTERM not in held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _TERM)  # a pending one lands here
        if got and callable(term):
            term(signal.SIGTERM, None)


def started() -> None:
    """A forked helper's first step: SIGTERM (``terminate()``) ends it at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _TERM)


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
