"""The ``npgrad`` command line: ``reproduce`` the founding experiment, ``bench`` it.

Arguments are parsed and checked with the standard library alone; torch and the
``[experiment]`` packages load only once a command runs (``--help``, ``--version``
and argument errors answer at once), and everything that needs torch to check
(``--device``) is checked before any data loads or any file is written.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .experiment.plotter import Plotter

EXTRA = "experiment"
INSTALL_HINT = (
    f'pip install "npgrad[{EXTRA}]" (from a source checkout: pip install -e ".[{EXTRA}]")'
)
# the [experiment] extra's import names, as in pyproject.toml
EXTRA_MODULES = ("torchvision", "matplotlib", "tqdm")


def package_version() -> str:
    """npgrad's version: ``npgrad.__version__``, the one source (``import npgrad`` is
    light: its public names load on first use, so no torch is imported here)."""
    from . import __version__

    return __version__


def _seed(text: str) -> int:
    """A seed every generator takes (NumPy's: 0 to 2**32 - 1), checked while parsing."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1, got {value}")
    return value


def _device_problem(name: str) -> tuple[str, str | None]:
    """``(device, None)`` with "auto" resolved, or ``(name, why it is refused)``."""
    import torch

    if name == "auto":
        return ("cuda" if torch.cuda.is_available() else "cpu"), None
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        return name, f"--device must be auto, cpu, cuda or cuda:N, got {name!r}"
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            return name, f"--device {name} was asked for, but no CUDA device is here"
        if device.index is not None and device.index >= count:
            return name, f"--device {name}: this machine has {count} CUDA device(s)"
    elif device.type != "cpu":
        backend = getattr(torch, device.type, None)
        if not (backend is not None and getattr(backend, "is_available", lambda: False)()):
            return name, f"--device {name} was asked for, but it is not available"
    return name, None


def _device(sub: argparse.ArgumentParser, name: str) -> str:
    device, problem = _device_problem(name)
    if problem:
        sub.error(problem)  # status 2 with the subcommand's usage, like any bad argument
    return device


def _missing_modules(names: Sequence[str]) -> list[str]:
    import importlib.util

    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def _missing_extra(command: str, modules: Sequence[str], why: str) -> str:
    verb = "is" if len(modules) == 1 else "are"
    return (
        f"npgrad {command}: {' and '.join(modules)} {verb} not installed ({why}); "
        f"{'it comes' if len(modules) == 1 else 'they come'} with npgrad's [{EXTRA}] extra: "
        f"{INSTALL_HINT}"
    )


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except ``None`` ones, whose help says what happens instead."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        default=None,
        help="torchvision MNIST root (holds MNIST/raw/); default: $NPGRAD_DATA or ./data",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--seed", type=_seed, default=0, help="seed for random, NumPy and torch")
    p.add_argument("--batch-size", type=int, default=256, help="training batch size")


def _parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each subcommand's (whose ``error`` prints its usage)."""
    fmt = _Help
    parser = argparse.ArgumentParser(
        prog="npgrad",
        description="npgrad: NumPy losses as native PyTorch ops.",
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"npgrad {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    rep = sub.add_parser(
        "reproduce",
        help="train the founding experiment twice (native and NumPy loss) and compare",
        description="Train the MNIST autoencoder with torch.nn.MSELoss and with npgrad's "
        "NumPy MSE, prove the runs identical, and write a report.",
        formatter_class=fmt,
    )
    _add_common(rep)
    rep.add_argument("--epochs", type=int, default=2, help="training epochs")
    rep.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    rep.add_argument(
        "--out", default=None, help="output folder, new or empty (default: runs/<timestamp>)"
    )
    rep.add_argument(
        "--overwrite",
        action="store_true",
        help="allow a non-empty --out: npgrad's own files from an earlier run there are "
        "removed (once training has succeeded), any other file is kept",
    )
    rep.add_argument(
        "--limit", type=int, default=None, help="train on the first N images only (quick checks)"
    )
    rep.add_argument(
        "--loss-impl",
        default="numpy",
        choices=("numpy", "numpy-auto"),
        help="the NumPy loss to compare with torch.nn.MSELoss",
    )
    rep.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    rep.add_argument("--no-download", action="store_true", help="never try to download MNIST")
    rep.add_argument(
        "--jobs",
        type=int,
        default=2 if (os.cpu_count() or 1) >= 2 else 1,
        choices=(1, 2),
        help="CPU only: 2 trains both runs at once, one core and one thread each; "
        "1 trains them one after the other with torch's default threads",
    )
    rep.add_argument(
        "--ddp",
        type=int,
        default=0,
        metavar="N",
        help="train each run under DistributedDataParallel with N CPU processes (gloo; "
        "implies --device cpu)",
    )
    ben = sub.add_parser(
        "bench",
        help="measure npgrad's overhead against native PyTorch",
        description="Time a training step, the loss alone at several batch sizes, and the "
        "data path, side by side with native PyTorch (warm-up, repeats, median); then, per "
        "call, automatic mode against the same maths in torch eager, numpy mode's plain "
        "backward against a hand-rolled autograd.Function, the NumPy-level API against HIPS "
        "autograd and JAX (the bench extra; skipped when absent), SciPy outside a trace and "
        "traced, and torch.compile where npgrad.bench_compiled exists.",
        formatter_class=fmt,
    )
    ben.add_argument(
        "--data-dir",
        default=None,
        help="MNIST root for the data-path benchmark (default: $NPGRAD_DATA or ./data)",
    )
    ben.add_argument(
        "--device",
        default="auto",
        help="auto (the CPU, and CUDA when present), cpu, cuda or cuda:N",
    )
    ben.add_argument("--seed", type=_seed, default=0, help="seed for the synthetic inputs")
    ben.add_argument(
        "--quick",
        action="store_true",
        help="few repeats and 4096 images for the data path (about two minutes)",
    )
    ben.add_argument("--json", default=None, metavar="PATH", help="write every figure as JSON")
    ben.add_argument(
        "--plot",
        default=None,
        metavar="PATH",
        help="write the overhead ratio against batch size as a PNG",
    )
    return parser, {"reproduce": rep, "bench": ben}


def _parser() -> argparse.ArgumentParser:
    return _parsers()[0]


def _output_file_problem(path: Path) -> str | None:
    """Why a file cannot be written at ``path``, or None (checked before the run)."""
    if path.is_dir():
        return "is a folder"
    folder = path.parent
    if not folder.is_dir():
        return f"needs the folder {folder}, which does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"is in the folder {folder}, which is not writable"
    return None


def bench(args: argparse.Namespace, sub: argparse.ArgumentParser) -> int:
    paths = {flag: Path(p) for flag, p in (("--json", args.json), ("--plot", args.plot)) if p}
    for flag, path in paths.items():
        problem = _output_file_problem(path)
        if problem:
            sub.error(f"{flag} {path} {problem}")
    if len(paths) == 2 and paths["--json"].absolute() == paths["--plot"].absolute():
        sub.error(f"--json and --plot name the same file, {paths['--json']}")
    if args.plot and _missing_modules(["matplotlib"]):
        print(_missing_extra("bench", ["matplotlib"], "--plot draws with it"), file=sys.stderr)
        return 2
    import torch

    from . import bench as b
    from .experiment import data

    if args.device == "auto":
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    else:
        devices = [_device(sub, args.device)]
    root = data.resolve_root(args.data_dir)
    if not data.missing_files(root, (True,)) and _missing_modules(["torchvision"]):
        why = "the data-path benchmark compares with its DataLoader"
        print(_missing_extra("bench", ["torchvision"], why), file=sys.stderr)
        return 2
    result = b.run(devices, quick=args.quick, data_dir=str(root), seed=args.seed)
    print(b.table(result))
    if args.json:
        b.write_json(result, paths["--json"])
        print(f"wrote {args.json}")
    if args.plot:
        b.plot(result, paths["--plot"])
        print(f"wrote {args.plot}")
    return 0


def _positive(parser: argparse.ArgumentParser, args: argparse.Namespace, *names: str) -> None:
    for n in names:
        v = getattr(args, n, None)
        if v is not None and v < 1:
            parser.error(f"--{n.replace('_', '-')} must be at least 1, got {v}")


def _unwritable(folder: Path) -> str | None:
    """Why ``folder`` cannot take the run's files, or None. Tried for real (creating it
    and a temporary file), then the folders it had to create are removed again: the
    run creates them when it writes."""
    import tempfile

    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        return e.strerror or str(e)
    finally:
        for p in missing:  # deepest first
            try:
                p.rmdir()
            except OSError:
                pass
    return None


def _check_out(sub: argparse.ArgumentParser, out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        sub.error(f"--out {out} is a file, not a folder")
    entries = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    # a staging folder left by a killed run holds nothing of the user's: the run
    # removes it before writing
    entries = [e for e in entries if not e.startswith(STAGING)]
    if entries and not overwrite:
        shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
        count = f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}"
        sub.error(
            f"--out {out} is not empty ({count}: {shown}); choose a new folder, "
            "or pass --overwrite to replace npgrad's own files there (other files are kept)"
        )


def _resolved(device: str) -> str:
    import torch

    d = torch.device(device)
    if d.type == "cuda" and d.index is None:
        d = torch.device("cuda", torch.cuda.current_device())
    return str(d)


def reproduce(args: argparse.Namespace, sub: argparse.ArgumentParser) -> int:
    t0 = time.perf_counter()
    out = Path(args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S"))
    _check_out(sub, out, args.overwrite)
    if not args.no_plots and _missing_modules(["matplotlib"]):
        why = "the plots are drawn with it; --no-plots skips them"
        print(_missing_extra("reproduce", ["matplotlib"], why), file=sys.stderr)
        return 2
    from .experiment import data

    root = data.resolve_root(args.data_dir)
    splits = (True,) if args.no_plots else (True, False)  # the test split: reconstructions
    if data.missing_files(root, splits) and not args.no_download:
        if _missing_modules(["torchvision"]):
            why = "MNIST is not in the data root and torchvision downloads it"
            print(_missing_extra("reproduce", ["torchvision"], why), file=sys.stderr)
            return 2
    plotter = None
    # the runs train side by side only on the CPU (an explicit cuda skips this; auto is
    # only known after the import, and on a GPU machine the processes merely wait)
    if not args.no_plots and args.jobs == 2 and not args.ddp and args.device in ("auto", "cpu"):
        from .experiment import plotter as drawing  # no torch in it

        if drawing.available():
            # forked before torch is imported: they warm matplotlib up alongside it
            plotter = drawing.Plotter()
    try:
        return _reproduce(args, sub, out, root, splits, plotter, t0)
    finally:
        if plotter is not None:
            plotter.close()


def _reproduce(
    args: argparse.Namespace,
    sub: argparse.ArgumentParser,
    out: Path,
    root: Path,
    splits: tuple[bool, ...],
    plotter: Plotter | None,
    t0: float,
) -> int:
    from .experiment import data

    device = _device(sub, args.device)  # imports torch

    from .experiment import report, train

    problem = _unwritable(out)
    if problem:
        # found now, not after both runs have trained
        print(f"npgrad reproduce: cannot write to --out {out}: {problem}", file=sys.stderr)
        return 2
    try:
        # every file the run needs, before any training: a missing test split found
        # after training would throw the runs away
        data.ensure(root, splits, download=not args.no_download)
        images, labels = data.load(root, train=True, download=False)
        test_images = None if args.no_plots else data.load(root, train=False, download=False)[0]
    except data.DataMissing as e:
        print(f"npgrad reproduce: {e}", file=sys.stderr)
        return 2
    problem = _cannot_draw(plotter) if test_images is not None else None
    if problem:
        # found now, not after both runs have trained
        print(f"npgrad reproduce: the figures cannot be drawn here: {problem}; fix that, "
              "or pass --no-plots", file=sys.stderr)  # fmt: skip
        return 2
    batches = data.Batches(images, labels, args.batch_size, device=device, limit=args.limit)
    # the bars are a convenience: without tqdm the run goes on without them
    progress = sys.stderr.isatty() and not _missing_modules(["tqdm"])
    other_name = args.loss_impl
    impls = ["native", other_name]
    kw = dict(epochs=args.epochs, lr=args.lr, seed=args.seed, device=device)

    def header(impl: str) -> None:
        label = "torch.nn.MSELoss" if impl == "native" else f"npgrad {impl} MSE"
        print(f"--- run '{impl}' ({label}) on {device}, {len(batches)} steps an epoch", flush=True)

    runs = []
    from .experiment import parallel

    if args.jobs == 2 and device == "cpu" and not args.ddp and parallel.available():
        for run, log in parallel.train_side_by_side(impls, batches, progress=progress, **kw):
            header(run.name)
            print("\n".join(log), flush=True)
            runs.append(run)
    else:
        for impl in impls:
            header(impl)
            if args.ddp:
                from .experiment.ddp import train_ddp

                run = train_ddp(impl, batches, world_size=args.ddp, **kw)
            else:
                run = train.train(impl, train.make_loss(impl), batches, progress=progress, **kw)
            runs.append(run)
    native, other = runs
    rep = report.build(native, other, device=_resolved(device), config=vars(args), out=out)
    try:
        _write_outputs(out, rep, native, other, test_images, plotter)
    except _FiguresFailed as e:
        import traceback

        traceback.print_exception(e.error, file=sys.stderr)  # for a bug report
        print(f"npgrad reproduce: the figures could not be drawn ({_brief(e.error)}); "
              f"the report, losses and weights are in {out}/", file=sys.stderr)  # fmt: skip
        return 1
    except OSError as e:
        # a full disk, a folder made read-only meanwhile: the earlier files are intact
        what = f" ({Path(e.filename).name})" if e.filename else ""
        moved = getattr(e, "moved", None)
        mixed = (f"; of this run's files only {', '.join(moved) or 'none'} reached it, the "
                 "rest there are the earlier run's" if moved is not None else "")  # fmt: skip
        print(f"npgrad reproduce: could not write the results into {out}{what}: "
              f"{e.strerror or e}{mixed}", file=sys.stderr)  # fmt: skip
        return 1
    print(report.summary(rep, other_name))
    print(
        f"\nWrote {out}/ (report.json, losses.csv, weights"
        f"{', plots' if not args.no_plots else ''}) in {time.perf_counter() - t0:.1f} s"
    )
    if other_name == "numpy" and not rep["parity"]["params_bitwise_equal"]:
        print(
            "npgrad reproduce: the NumPy run's parameters differ from the native run's",
            file=sys.stderr,
        )
        return 1
    return 0


STAGING = ".npgrad-staging-"  # the folder a reproduction writes its files into first


def _write_outputs(
    out: Path, rep: dict, native, other, test_images, plotter: Plotter | None = None
) -> None:
    """Replace npgrad's earlier files in ``out`` by this run's.

    The new set is written whole into a staging folder inside ``out``, then each
    file is renamed into place (atomically, over the earlier one of its name), and
    only then do earlier files of npgrad's that this run did not write go.  An error
    or an interrupt before the renames leaves the earlier files as they were; one
    during them, a mix of whole earlier and whole new files, never a loss.
    """
    import shutil
    import tempfile

    from .experiment import report

    created = [p for p in (out, *out.parents) if not p.exists()]  # deepest first
    out.mkdir(parents=True, exist_ok=True)
    for left in out.glob(f"{STAGING}*"):  # a run killed while writing
        shutil.rmtree(left, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=STAGING, dir=out))
    failed: Exception | None = None  # a figure that could not be drawn
    try:
        if test_images is not None:
            from .experiment import plots

            identical = rep["parity"]["params_bitwise_equal"]
            figures = [
                ("loss_curves", stage / "loss_curves.png",
                 plots.loss_curves_data(native, other, rep)),
                ("reconstructions", stage / "reconstructions.png",
                 plots.reconstructions_data(other, test_images, identical=identical)),
            ]  # fmt: skip
            if plotter is not None:
                plotter.submit(figures)  # drawn there while the report is written here
            else:
                try:
                    for name, path, kwargs in figures:
                        getattr(plots, name)(path, **kwargs)
                except Exception as e:  # noqa: BLE001 - raised below, with the rest written
                    failed = e
        report.save_outputs(stage, rep, native, other)
        if test_images is not None and plotter is not None:
            try:
                plotter.wait()
            except Exception as e:  # noqa: BLE001 - raised below, with the rest written
                failed = e
        if isinstance(failed, OSError) and failed.errno in _DISK_ERRORS:
            raise failed  # the disk: nothing of this run is kept (PIL's others: a figure's)
        if failed is not None:
            # the training is not thrown away for a figure: the rest goes in, no figure
            for p in stage.iterdir():
                if p.name.endswith(".png"):
                    p.unlink()
        with _signals_deferred():
            # a folder that was not empty was let through by --overwrite: npgrad's files
            # in it are replaced now, with the new set complete
            earlier = report.own_files(out)
            written = sorted(stage.iterdir())
            for i, p in enumerate(written):
                try:
                    os.replace(p, out / p.name)
                except OSError as e:
                    e.moved = [q.name for q in written[:i]]  # the folder is mixed now
                    raise
            names = {p.name for p in written}
            for p in earlier:
                if p.name not in names:
                    p.unlink(missing_ok=True)
            stage.rmdir()
            _COMPLETE.append((out, failed))
    except BaseException:
        # already ending: a second signal (Ctrl-C then SIGTERM) must not leave the
        # staging folder behind
        with _signals_deferred(redeliver=False):
            if plotter is not None:
                # first: a drawing process still at work would write into (and
                # recreate) the staging folder after it is gone
                plotter.close()
            shutil.rmtree(stage, ignore_errors=True)
            for p in created:  # the folders this run made, if nothing else is in them
                try:
                    p.rmdir()
                except OSError:
                    break
        raise
    if failed is not None:
        raise _FiguresFailed(failed)


# errors of the disk itself (a figure's other OSErrors are the figure's)
_DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO})


class _FiguresFailed(Exception):
    """The figures failed; everything else of the run was written."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _brief(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def _cannot_draw(plotter: Plotter | None) -> str | None:
    """Why matplotlib cannot draw the figures here, or None: its warm-up, in the
    drawing processes (a report they have sent by now) or here."""
    try:
        if plotter is not None:
            plotter.ready()
        else:
            from .experiment import plotter as drawing

            drawing._warm()  # its time is the first figure's, paid before the runs
    except Exception as e:  # noqa: BLE001 - any error would come again when drawing
        return _brief(e)
    return None


# the folders whose results were written in full by this command (an interrupt that
# comes after that says so)
_COMPLETE: list[tuple[Path, Exception | None]] = []  # (folder, the figures' error)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``), raised where the command is, so that its
    cleanup runs as for Ctrl-C: helper processes ended, no staging folder left."""


def _on_sigterm(signum: int, frame: object) -> None:
    import signal

    # already ending: a second one must not cut the cleanup short (SIGKILL still can)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Terminated


class _signals_deferred:
    """Ctrl-C and SIGTERM held while the results are renamed into place (a few
    milliseconds), then acted on: the folder holds the whole new set or none of it.
    (Handlers, not a signal mask: torch's threads would take a masked signal.)"""

    def __init__(self, redeliver: bool = True) -> None:
        self.redeliver = redeliver

    def __enter__(self) -> None:
        import signal
        import threading

        self.got: list[int] = []
        self.saved: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, lambda n, _: self.got.append(n))

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        if self.got and exc[0] is None and self.redeliver:
            handler = self.saved[self.got[0]]
            if callable(handler):
                handler(self.got[0], None)  # raises, as it would have then
            elif handler == signal.SIG_DFL:
                signal.raise_signal(self.got[0])


def _check_numbers(sub: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    _positive(sub, args, "epochs", "batch_size", "limit")
    lr = getattr(args, "lr", 1.0)
    if not (math.isfinite(lr) and lr > 0):
        sub.error(f"--lr must be a positive number, got {lr}")
    if getattr(args, "ddp", 0) < 0:
        sub.error(f"--ddp must be 0 (off) or a number of processes, got {args.ddp}")
    if getattr(args, "ddp", 0):
        # the DDP runs use gloo on CPU processes: "auto" means the CPU here, and a
        # device asked for by name is refused before any data is loaded
        if args.device == "auto":
            args.device = "cpu"
        elif args.device != "cpu":
            sub.error(f"--ddp trains with gloo on CPU processes, got --device {args.device}")


def entry() -> None:
    """The ``npgrad`` command and ``python -m npgrad``: :func:`main`, then the exit.

    The exit skips the interpreter's teardown, which with torch and matplotlib
    loaded took 0.9 s here after ``reproduce`` had finished: every output is
    written, renamed into place and closed by then, and the streams are flushed
    here.  An exception takes the normal path (its traceback, the usual exit).
    """
    sys.stdout = _Tolerant(sys.stdout)
    rc = main()
    import logging
    import multiprocessing

    # what the skipped teardown would have done: no child outlives the command
    for child in multiprocessing.active_children():
        child.terminate()
        child.join()
    logging.shutdown()
    sys.stdout.flush()
    try:
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(rc)


class _Tolerant:
    """stdout that outlives its reader: after ``npgrad reproduce | head`` closes the
    pipe, the run goes on (its files are the point) and what it prints goes nowhere,
    where a print would otherwise raise BrokenPipeError and end the run."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # the buffer's rest too goes nowhere
        os.close(devnull)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    parser, subs = _parsers()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2  # a command is required, as for any other usage error
    sub = subs[args.command]
    _check_numbers(sub, args)
    command = {"reproduce": reproduce, "bench": bench}[args.command]
    import signal
    import threading

    _COMPLETE.clear()
    own = threading.current_thread() is threading.main_thread() and (
        signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # an embedding program's stays
    )
    try:
        if own:  # inside the try: a SIGTERM right after it is this command's too
            signal.signal(signal.SIGTERM, _on_sigterm)
        return command(args, sub)
    except KeyboardInterrupt as e:
        # one line, not a traceback per process; 128 + the signal, as shells report it
        how, rc = ("terminated", 143) if isinstance(e, _Terminated) else ("interrupted", 130)
        done = ""
        if _COMPLETE:
            where, failed = _COMPLETE[-1]
            done = (f" after its results were written in full to {where}/" if failed is None
                    else f" after its report, losses and weights (not the figures: "
                    f"{_brief(failed)}) were written to {where}/")  # fmt: skip
        print(f"npgrad {args.command}: {how}{done}", file=sys.stderr)
        return rc
    except ModuleNotFoundError as e:
        if e.name not in EXTRA_MODULES:
            raise
        # a path the checks above did not foresee: the same advice, not a traceback
        print(_missing_extra(args.command, [e.name], "this command uses it"), file=sys.stderr)
        return 2
    finally:
        if own:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


if __name__ == "__main__":
    entry()
