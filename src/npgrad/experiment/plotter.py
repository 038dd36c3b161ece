"""The reproduction's figures, drawn in forked processes that warmed up early.

``npgrad reproduce`` forks one drawing process per figure before it imports torch:
while the parent spends about 1.5 s importing torch on one core, they import
matplotlib and render a throwaway figure (fonts, the Agg canvas, the PNG writer)
on the other.  The training processes then have both cores to themselves, and at
the end both figures are drawn at once, warm, while the parent writes the report.

A drawing process imports neither torch nor npgrad's engine: it gets each figure as
plain values (see :mod:`.plots`).  Whatever it raises is raised in the parent; if it
is gone (killed, out of memory), the parent draws the figure itself.  Each reports
its warm-up, so that a matplotlib that cannot draw here (a broken install, a bad
``MPLBACKEND``) is found before the runs train, not after.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import traceback
from pathlib import Path
from typing import Any

from . import plots
from .processes import end, forking, started

Job = tuple[str, Path, dict[str, Any]]  # (plots function, path, its keyword arguments)


def available() -> bool:
    return "fork" in mp.get_all_start_methods()


def _warm() -> None:
    """Pay matplotlib's first-figure costs now: its import, the font cache, text
    layout, a log axis's tick machinery, the Agg canvas and the PNG encoder."""
    fig = plots._figure(figsize=(3, 1.5))
    curve, image = fig.subplots(1, 2)
    curve.plot([1, 2, 3], [1.0, 0.1, 0.01], label="warm")
    curve.set_yscale("log")
    curve.yaxis.set_major_formatter(plots._plain_labels())
    curve.set_title("warm", fontsize=9)
    curve.legend(loc="best")
    image.imshow([[0.0, 1.0], [1.0, 0.0]], cmap="gray")
    image.axis("off")
    fig.savefig(io.BytesIO(), format="png", dpi=40, pil_kwargs={"compress_level": 1})


def _serve(conn: Any, parents: list[Any]) -> None:
    """A drawing process: warm up and say how it went, then draw the one figure the
    parent sends."""
    started()
    for theirs in parents:
        # the parent's ends, copied by the fork: while one is open here, the parent's
        # death (SIGTERM, SIGKILL) never reaches recv() below as an EOF
        theirs.close()
    try:
        _warm()
        warm: Any = None
    except BaseException as e:  # noqa: BLE001 - the parent raises it, before training
        warm = (e, traceback.format_exc())
    if not _send(conn, warm) or warm is not None:
        return
    try:
        job = conn.recv()
    except (EOFError, OSError):  # the parent is done without figures (an error upstream)
        return
    name, path, kwargs = job
    if not path.parent.is_dir():
        return  # the parent gave up on this folder: recreating it would leave it behind
    try:
        getattr(plots, name)(path, **kwargs)
        reply: Any = None
    except BaseException as e:  # noqa: BLE001 - the parent raises it
        reply = (e, traceback.format_exc())
    _send(conn, reply)


def _send(conn: Any, reply: Any) -> bool:
    """Send ``reply`` (None, or an error and its traceback); False if the parent is gone."""
    try:
        conn.send(reply)
    except (OSError, ValueError):  # the parent is gone
        return False
    except Exception:  # noqa: BLE001 - an exception that does not pickle
        error, where = reply
        with contextlib.suppress(OSError, ValueError):
            conn.send((RuntimeError(f"drawing failed: {error!r}"), where))
    return True


class Plotter:
    """``count`` drawing processes, forked now; :meth:`ready`, :meth:`submit`, then
    :meth:`wait`.

    Fork it before torch is imported (its point is the warm-up alongside that
    import) and close it in a ``finally``; it ignores Ctrl-C, which the parent
    alone reports, as the training processes do.
    """

    def __init__(self, count: int = 2) -> None:
        ctx = mp.get_context("fork")
        self._workers: list[tuple[Any, Any]] = []  # (the parent's pipe end, the process)
        self._warm: list[bool] = []  # per worker: its warm-up report read
        self._jobs: list[tuple[Job, Any, Any]] = []
        try:
            with forking():
                for _ in range(count):
                    mine, theirs = ctx.Pipe()
                    parents = [mine, *(end for end, _ in self._workers)]
                    proc = ctx.Process(target=_serve, args=(theirs, parents), daemon=True)
                    try:
                        proc.start()
                    finally:
                        theirs.close()
                    self._workers.append((mine, proc))
                    self._warm.append(False)
        except BaseException:
            self.close()  # the ones already started
            raise

    def ready(self, timeout: float = 60.0) -> None:
        """Raise the first warm-up error (matplotlib cannot draw here: the figures
        would fail after training).  A process that died or has not warmed up within
        ``timeout`` seconds is left out: its figure is drawn here."""
        for i in range(len(self._workers)):
            self._read_warm(i, timeout)

    def _read_warm(self, i: int, timeout: float) -> None:
        conn, proc = self._workers[i]
        if self._warm[i] or conn is None:
            return
        self._warm[i] = True
        reply = _receive(conn, timeout, "warming up matplotlib")
        if reply is None:
            return
        conn.close()
        self._workers[i] = (None, proc)
        end([proc])
        if reply is not _LOST:
            error, where = reply
            if where:
                error.add_note(f"(in the process warming up matplotlib)\n{where}")
            raise error

    def submit(self, jobs: list[Job]) -> None:
        """Hand each job to a drawing process (at most one each; the rest, and any
        whose process is gone, are drawn by :meth:`wait` here)."""
        self.ready()
        free = [w for w in self._workers if w[0] is not None]
        for job in jobs:
            conn, proc = free.pop(0) if free else (None, None)
            if conn is not None:
                try:
                    conn.send(job)
                except (OSError, ValueError):  # gone: drawn here instead
                    conn = None
            self._jobs.append((job, conn, proc))

    def wait(self, timeout: float = 120.0) -> None:
        """Every submitted figure written; the first error a drawing raised, raised.

        A drawing process that died, or that has not answered within ``timeout``
        seconds (stopped, swapping), is ended and its figure drawn here instead."""
        errors = []
        for (name, path, kwargs), conn, proc in self._jobs:
            if conn is not None:
                reply = _receive(conn, timeout, f"drawing {path.name}")
                if reply is _LOST:
                    conn = None
                elif reply is not None:
                    error, where = reply
                    if where:
                        error.add_note(f"(in the process drawing {path.name})\n{where}")
                    errors.append(error)
            if conn is None:
                if proc is not None:
                    end([proc])
                # a process killed while writing leaves its temporary file behind
                for left in path.parent.glob(f".{path.name}.*"):
                    left.unlink(missing_ok=True)
                getattr(plots, name)(path, **kwargs)
        self._jobs = []
        if errors:
            raise errors[0]

    def close(self) -> None:
        """End the drawing processes (at once: a figure not waited for is not wanted).
        Once they are reaped nothing more is written; a second call does nothing.  A
        second Ctrl-C must not cut this short (see :func:`.processes.end`)."""
        for conn, _ in self._workers:
            if conn is not None:
                conn.close()
        end([proc for _, proc in self._workers])
        self._workers, self._warm, self._jobs = [], [], []


def _receive(conn: Any, timeout: float, what: str) -> Any:
    """A process's answer; ``_LOST`` if it died or said nothing within ``timeout`` s."""
    try:
        return conn.recv() if conn.poll(timeout) else _LOST
    except (EOFError, OSError):
        return _LOST
    except Exception as e:  # noqa: BLE001 - a reply that does not unpickle
        return (RuntimeError(f"{what} failed: {e!r}"), "")


_LOST = object()  # the marker of no answer from a process
