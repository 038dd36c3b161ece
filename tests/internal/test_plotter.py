"""The reproduction's drawing processes: the same figures, errors raised in the
parent, a lost process's figure drawn in the parent."""

import os
import signal
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from npgrad.experiment import plots, plotter  # noqa: E402

pytestmark = pytest.mark.skipif(not plotter.available(), reason="needs the fork start method")


def _curves() -> dict:
    rng = np.random.default_rng(0)
    losses = [[float(v) for v in rng.uniform(0.05, 0.1, 6)] for _ in range(2)]
    return {
        "names": ("native", "numpy"),
        "losses": (losses, [[v * (1 + 1e-7) for v in e] for e in losses]),
        "reference": [],
        "verdict": "parameters after 12 steps bit-identical",
    }


def _digits() -> dict:
    rng = np.random.default_rng(1)
    return {
        "digits": rng.uniform(size=(3, 28, 28)).astype(np.float32),
        "outputs": rng.uniform(size=(3, 28, 28)).astype(np.float32),
        "title": "three digits",
    }


@pytest.fixture
def drawer():
    made = []

    def make(count: int) -> plotter.Plotter:
        made.append(plotter.Plotter(count))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_figures_drawn_apart_are_the_figures_drawn_here(tmp_path, drawer):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    jobs = [("loss_curves", "curves.png", _curves()), ("reconstructions", "digits.png", _digits())]
    for name, file, kwargs in jobs:
        getattr(plots, name)(here / file, **kwargs)
    p = drawer(2)
    p.submit([(name, there / file, kwargs) for name, file, kwargs in jobs])
    p.wait()
    for _, file, _ in jobs:
        assert (there / file).read_bytes() == (here / file).read_bytes(), file
    assert sorted(os.listdir(there)) == ["curves.png", "digits.png"]  # no temporary left


def test_an_error_in_a_drawing_process_is_raised_here(tmp_path, drawer):
    p = drawer(1)
    p.submit([("loss_curves", tmp_path / "curves.png", {"names": ("a", "b")})])
    with pytest.raises(TypeError, match="loss_curves") as caught:
        p.wait()
    assert "in the process drawing curves.png" in "".join(caught.value.__notes__)
    assert not (tmp_path / "curves.png").exists()


def test_a_lost_drawing_process_costs_time_not_the_figure(tmp_path, drawer):
    p = drawer(1)
    proc = p._workers[0][1]
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    p.submit([("reconstructions", tmp_path / "digits.png", _digits())])
    p.wait()
    assert (tmp_path / "digits.png").stat().st_size > 0


def test_more_figures_than_processes_are_drawn_here(tmp_path, drawer):
    p = drawer(1)
    p.submit(
        [
            ("loss_curves", tmp_path / "curves.png", _curves()),
            ("reconstructions", tmp_path / "digits.png", _digits()),
        ]
    )
    p.wait()
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "digits.png"]


def test_drawing_imports_neither_torch_nor_the_engine(tmp_path):
    # what a drawing process runs (warm-up, both figures), here in a fresh interpreter:
    # the processes exist to use the core left idle while the parent imports torch
    code = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from npgrad.experiment import plots, plotter\n"
        "plotter._warm()\n"
        f"plots.loss_curves(Path({str(tmp_path / 'c.png')!r}), **{_curves()!r})\n"
        "z = np.zeros((2, 28, 28))\n"
        f"plots.reconstructions(Path({str(tmp_path / 'd.png')!r}), digits=z, outputs=z, "
        "title='t')\n"
        "print([m for m in ('torch', 'npgrad._trace') if m in sys.modules])\n"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "c.png").exists() and (tmp_path / "d.png").exists()


def test_close_ends_every_drawing_process(drawer):
    p = drawer(2)
    procs = [proc for _, proc in p._workers]
    assert all(q.is_alive() for q in procs)  # waiting for a figure
    p.close()
    assert not [q for q in procs if q.is_alive()]


def test_the_mosaic_holds_every_tile_stretched_to_its_range_with_white_between():
    rng = np.random.default_rng(2)
    top = rng.uniform(0.2, 0.7, size=(3, 4, 5))
    bottom = np.stack([np.full((4, 5), 0.3), rng.uniform(size=(4, 5)), rng.uniform(size=(4, 5))])
    m = plots._mosaic([top, bottom])
    gap = plots._GAP
    assert m.shape == (2 * 4 + gap, 3 * 5 + 2 * gap)
    for r, images in enumerate([top, bottom]):
        for i, tile in enumerate(images):
            got = m[r * (4 + gap) : r * (4 + gap) + 4, i * (5 + gap) : i * (5 + gap) + 5]
            span = tile.max() - tile.min()
            want = (tile - tile.min()) / span if span else np.zeros_like(tile)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    assert (m[4 : 4 + gap, :] == 1).all() and (m[:, 5 : 5 + gap] == 1).all()


def test_a_failed_write_leaves_nothing_even_while_figures_are_drawn(tmp_path, monkeypatch):
    # the report fails while both figures are still being drawn: the drawing processes
    # must be gone before the staging folder is, or they would write (and recreate) it
    import time

    from npgrad import cli
    from npgrad.experiment import files, report

    def slow(path, **kwargs):
        time.sleep(0.5)
        files.atomic_write(path, lambda p: p.write_bytes(b"png"))

    for name in ("loss_curves", "reconstructions"):
        monkeypatch.setattr(plots, name, slow)
        monkeypatch.setattr(plots, f"{name}_data", lambda *a, **k: {})
    p = plotter.Plotter(2)  # forked after the patches: the processes draw slowly too

    def fails(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report, "save_outputs", fails)
    out = tmp_path / "run"
    rep = {"parity": {"params_bitwise_equal": True}}
    try:
        with pytest.raises(OSError, match="disk full"):
            cli._write_outputs(out, rep, None, None, np.zeros((1, 28, 28)), p)
        time.sleep(1.0)  # past the drawings' end, had they gone on
        assert not out.exists(), list(out.rglob("*"))
    finally:
        p.close()


def _in_children_only(monkeypatch, name: str, misbehave) -> None:
    """``plots.<name>`` misbehaves in a drawing process and draws in this one."""
    parent, draw = os.getpid(), getattr(plots, name)

    def patched(path, **kwargs):
        if os.getpid() == parent:
            return draw(path, **kwargs)
        misbehave(path)

    monkeypatch.setattr(plots, name, patched)


def test_a_process_killed_while_writing_leaves_no_temporary_file(tmp_path, monkeypatch, drawer):
    def killed(path):
        (path.parent / f".{path.name}.x1y2z3.png").write_bytes(b"half a png")
        os.kill(os.getpid(), signal.SIGKILL)

    _in_children_only(monkeypatch, "reconstructions", killed)
    p = drawer(1)
    p.submit([("reconstructions", tmp_path / "digits.png", _digits())])
    p.wait()
    assert os.listdir(tmp_path) == ["digits.png"]


def test_a_hung_drawing_process_is_ended_and_its_figure_drawn_here(tmp_path, monkeypatch, drawer):
    import time

    _in_children_only(monkeypatch, "loss_curves", lambda path: time.sleep(60))
    p = drawer(1)
    proc = p._workers[0][1]
    p.submit([("loss_curves", tmp_path / "curves.png", _curves())])
    start = time.monotonic()
    p.wait(timeout=1.0)
    assert time.monotonic() - start < 30
    assert not proc.is_alive()
    assert os.listdir(tmp_path) == ["curves.png"]


@pytest.mark.skipif(not os.path.exists("/proc/self"), reason="needs Linux's /proc")
def test_drawing_processes_end_when_the_parent_is_killed(tmp_path):
    # a SIGTERM or SIGKILL to the command alone must not leave them waiting forever
    import subprocess
    import time

    code = (
        "import os, signal, time\n"
        "from npgrad.experiment import plotter\n"
        "p = plotter.Plotter(2)\n"
        "print(' '.join(str(q.pid) for _, q in p._workers), flush=True)\n"
        "time.sleep(1.5)\n"  # past their warm-up: waiting for a figure
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # orphans holding the output pipe would keep this waiting: the timeout fails it
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    pids = [int(v) for v in done.stdout.split()]
    assert len(pids) == 2, done.stderr
    deadline = time.monotonic() + 20
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [q for q in pids if os.path.exists(f"/proc/{q}") and _running(q)]
    for q in alive:
        os.kill(q, signal.SIGKILL)
    assert alive == [], "drawing processes outlived their parent"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_a_failed_warm_up_is_raised_by_ready_before_any_figure(monkeypatch, drawer):
    # matplotlib that cannot draw here (a bad MPLBACKEND, a broken install) is found
    # before the runs train, not when their figures are drawn
    def broken():
        raise RuntimeError("no backend here")

    monkeypatch.setattr(plotter, "_warm", broken)  # inherited by the fork
    p = drawer(2)
    procs = [proc for _, proc in p._workers]
    with pytest.raises(RuntimeError, match="no backend here") as caught:
        p.ready(timeout=30)
    assert "in the process warming up matplotlib" in "".join(caught.value.__notes__)
    assert not procs[0].is_alive()


def test_ready_passes_when_the_warm_up_worked_and_figures_follow(tmp_path, drawer):
    p = drawer(1)
    p.ready(timeout=60)
    p.ready(timeout=0)  # read once: a second call waits for nothing
    p.submit([("loss_curves", tmp_path / "curves.png", _curves())])
    p.wait()
    assert os.listdir(tmp_path) == ["curves.png"]


def test_drawing_processes_end_at_sigterm_despite_the_parents_handler(tmp_path):
    # the parent raises on SIGTERM (npgrad's command line does); inherited by the fork,
    # that handler would make terminate() raise inside a child instead of ending it
    import subprocess

    code = (
        "import signal, time\n"
        "def raising(*a):\n"
        "    raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGTERM, raising)\n"
        "from npgrad.experiment import plotter\n"
        "p = plotter.Plotter(2)\n"
        "time.sleep(1.0)\n"
        "procs = [q for _, q in p._workers]\n"
        "from npgrad.experiment.processes import end\n"
        "end(procs)\n"  # while they wait for a figure, their pipes open
        "print([q.exitcode for q in procs], flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"[{-signal.SIGTERM}, {-signal.SIGTERM}]"
    assert "Traceback" not in done.stderr
