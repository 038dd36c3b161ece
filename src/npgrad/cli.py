"""The ``npgrad`` command line: ``reproduce`` the founding experiment, ``bench`` it.

Only argparse is imported up front; torch and friends load when a command runs.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise SystemExit(
            f"npgrad: --device must be auto, cpu, cuda or cuda:N, got {name!r}"
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise SystemExit(f"npgrad: --device {name} was asked for, but no CUDA device is here")
        if device.index is not None and device.index >= count:
            raise SystemExit(f"npgrad: --device {name}: this machine has {count} CUDA device(s)")
    elif device.type != "cpu":
        backend = getattr(torch, device.type, None)
        if not (backend is not None and getattr(backend, "is_available", lambda: False)()):
            raise SystemExit(f"npgrad: --device {name} was asked for, but it is not available")
    return name


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
    p.add_argument("--seed", type=int, default=0, help="seed for random, NumPy and torch")
    p.add_argument("--batch-size", type=int, default=256, help="training batch size")


def _parser() -> argparse.ArgumentParser:
    fmt = _Help
    parser = argparse.ArgumentParser(
        prog="npgrad",
        description="npgrad: NumPy losses as native PyTorch ops.",
        formatter_class=fmt,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"npgrad {__version__}")
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
    rep.add_argument("--out", default=None, help="output folder (default: runs/<timestamp>)")
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
        "data path, side by side with native PyTorch (warm-up, repeats, median).",
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
    ben.add_argument("--seed", type=int, default=0, help="seed for the synthetic inputs")
    ben.add_argument(
        "--quick",
        action="store_true",
        help="few repeats and 4096 images for the data path (under a minute)",
    )
    ben.add_argument("--json", default=None, metavar="PATH", help="write every figure as JSON")
    ben.add_argument(
        "--plot",
        default=None,
        metavar="PATH",
        help="write the overhead ratio against batch size as a PNG",
    )
    return parser


def bench(args: argparse.Namespace) -> int:
    import torch

    from . import bench as b

    if args.device == "auto":
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    else:
        devices = [_device(args.device)]
    result = b.run(devices, quick=args.quick, data_dir=args.data_dir or "", seed=args.seed)
    print(b.table(result))
    if args.json:
        b.write_json(result, Path(args.json))
        print(f"wrote {args.json}")
    if args.plot:
        b.plot(result, Path(args.plot))
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


def reproduce(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    import torch

    from .experiment import data, report, train

    device = _device(args.device)
    out = Path(args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S"))
    problem = _unwritable(out)
    if problem:
        # found now, not after both runs have trained
        print(f"npgrad reproduce: cannot write to --out {out}: {problem}", file=sys.stderr)
        return 2
    root = data.resolve_root(args.data_dir)
    try:
        images, labels = data.load(root, train=True, download=not args.no_download)
    except data.DataMissing as e:
        print(f"npgrad reproduce: {e}", file=sys.stderr)
        return 2
    batches = data.Batches(images, labels, args.batch_size, device=device, limit=args.limit)
    progress = sys.stderr.isatty()
    other_name = args.loss_impl
    impls = ["native", other_name]
    kw = dict(epochs=args.epochs, lr=args.lr, seed=args.seed, device=device)

    def header(impl: str) -> None:
        label = "torch.nn.MSELoss" if impl == "native" else f"npgrad {impl} MSE"
        print(f"--- run '{impl}' ({label}) on {device}, {len(batches)} steps an epoch", flush=True)

    runs = []
    from .experiment import parallel

    if args.jobs == 2 and device == "cpu" and not args.ddp and parallel.available():

        def prepare_plots() -> None:
            if not args.no_plots:
                import matplotlib.figure  # noqa: F401 - warm the import while children train

        for run, log in parallel.train_side_by_side(
            impls, batches, progress=progress, meanwhile=prepare_plots, **kw
        ):
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
    config = {k: v for k, v in vars(args).items() if k != "func"}
    rep = report.build(native, other, device=str(torch.device(device)), config=config)
    report.save_outputs(out, rep, native, other)
    if not args.no_plots:
        from .experiment import plots

        plots.loss_curves(out / "loss_curves.png", native, other)
        test_images, _ = data.load(root, train=False, download=not args.no_download)
        plots.reconstructions(out / "reconstructions.png", other.model, test_images)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2  # a command is required, as for any other usage error
    _positive(parser, args, "epochs", "batch_size", "limit")
    lr = getattr(args, "lr", 1.0)
    if not (math.isfinite(lr) and lr > 0):
        parser.error(f"--lr must be a positive number, got {lr}")
    if getattr(args, "ddp", 0) < 0:
        parser.error(f"--ddp must be 0 (off) or a number of processes, got {args.ddp}")
    if getattr(args, "ddp", 0):
        # the DDP runs use gloo on CPU processes: "auto" means the CPU here, and a
        # device asked for by name is refused before any data is loaded
        if args.device == "auto":
            args.device = "cpu"
        elif args.device != "cpu":
            parser.error(f"--ddp trains with gloo on CPU processes, got --device {args.device}")
    if args.command == "reproduce":
        return reproduce(args)
    if args.command == "bench":
        return bench(args)
    raise AssertionError(args.command)  # argparse refuses unknown commands


if __name__ == "__main__":
    sys.exit(main())
