"""``npgrad bench``: npgrad's overhead against native PyTorch, measured side by side.

One contract for every figure: warm-up, several repeats interleaved across the
variants being compared (so drift hits all of them alike), the median, a device
synchronisation around each timed block, and the environment recorded.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

LOSS_SIZES = (64, 256, 1024, 4096)


def timeit(
    variants: dict[str, Callable[[], Any]],
    *,
    device: torch.device,
    warmup: int,
    repeats: int,
    inner: int,
    preroll: int = 0,
    preroll_s: float = 0.0,
    settle_s: float = 0.0,
) -> dict[str, dict[str, float]]:
    """Median seconds per call of each variant; repeats interleaved across variants.

    Untimed calls of a variant precede each of its timed blocks, ``preroll`` of them
    and at least ``preroll_s`` seconds' worth: on the 2-core CPU machine, torch code
    timed right after single-threaded NumPy work ran measurably slower for several
    milliseconds, so a variant would partly pay for its neighbour.  A variant's
    after-effects on itself, as in a training loop, stay inside its own timing.
    ``settle_s``: a pause before each block, for a neighbour whose threads keep
    spinning after its work (a BLAS pool beside torch's OpenMP pool on two cores).
    """
    # torch.utils.benchmark.Timer times one statement at a time: interleaving variants
    # block by block (what the paired ratios need) and the untimed preroll are not in it
    from .experiment.train import sync as _sync  # the training loop's, one rule

    for fn in variants.values():
        for _ in range(warmup):
            fn()
    _sync(device)
    samples: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            if settle_s:
                time.sleep(settle_s)
            start = time.perf_counter()
            for _ in range(preroll):
                fn()
            while time.perf_counter() - start < preroll_s:
                fn()
            _sync(device)
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            _sync(device)
            samples[name].append((time.perf_counter() - start) / inner)
    return {k: _summary(v) for k, v in samples.items()}


def _summary(samples: list[float]) -> dict[str, Any]:
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "repeats": len(samples),
        "samples_s": samples,
    }


def compare(
    make: Callable[[str], Callable[[], Any]],
    names: list[str],
    *,
    base: str = "native",
    **timing: Any,
) -> dict[str, Any]:
    """Each variant in ``names`` against ``base``, in an interleaved loop of just the
    two; ``make(name)`` builds a fresh variant for each loop.

    The ratio is paired: the median, over repeats, of the variant's block time over
    the base's block time next to it.  Adjacent blocks share the machine's state,
    so drift (frequency, neighbours) cancels in each ratio.  One loop per pair
    keeps a third variant's after-effects out of the comparison, and fresh
    variants per loop keep both sides at the same point: a training step slows as
    the model trains (denormal numbers appear), so a base reused across loops
    would have trained longer than its partner.
    """
    seconds: dict[str, Any] = {}
    ratio: dict[str, float] = {}
    paired: dict[str, Any] = {}
    base_samples: list[float] = []
    if not any(name != base for name in names):
        # nothing to pair with (the peers are optional extras): the base alone
        base_samples = timeit({base: make(base)}, **timing)[base]["samples_s"]
    for name in names:
        if name == base:
            continue
        res = timeit({base: make(base), name: make(name)}, **timing)
        seconds[name] = res[name]
        paired[name] = res[base]
        base_samples += res[base]["samples_s"]
        pairs = zip(res[name]["samples_s"], res[base]["samples_s"])
        ratio[name] = statistics.median(a / b for a, b in pairs)
    # "seconds"[base] pools the base's blocks from every loop; "base_seconds"[name]
    # holds those of the loop that timed ``name``, which its ratio pairs with
    return {
        "seconds": {base: _summary(base_samples), **seconds},
        "base_seconds": paired,
        "ratio": ratio,
    }


def environment(device: torch.device) -> dict[str, Any]:
    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    return env


VARIANTS = ("numpy", "auto", "handrolled")


def _criteria() -> dict[str, Callable]:
    from .losses import mse, mse_auto

    return {
        "native": torch.nn.functional.mse_loss,
        "numpy": mse,
        "auto": mse_auto,
        "handrolled": _handrolled_mse().apply,
    }


def _handrolled_mse() -> type[torch.autograd.Function]:
    """For reference, the usual way: a bare ``autograd.Function`` around the same NumPy
    forward and backward as ``npgrad.losses.mse``, with none of npgrad's checks (no
    dtype policy, no aliasing or shape checks, a plain host round trip)."""
    from .losses._regression import _mse_backward, _mse_fwd

    class HandRolledMSE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, y, x):  # type: ignore[override]
            a, b = y.detach().cpu().numpy(), x.detach().cpu().numpy()
            value, res = _mse_fwd(a, b)
            ctx.saved = (a, b, res)
            return torch.from_numpy(np.asarray(value)).to(y.device)

        @staticmethod
        def backward(ctx, g):  # type: ignore[override]
            a, b, res = ctx.saved
            grads = _mse_backward(
                g.cpu().numpy(), a, b, None, needs_input_grad=ctx.needs_input_grad, residuals=res
            )
            return tuple(None if d is None else torch.from_numpy(d).to(g.device) for d in grads)

    return HandRolledMSE


def _plain_criteria() -> dict[str, Callable]:
    """A user's MSE as one would write it: plain NumPy forward and backward (no fused
    forward, no residuals), through npgrad's numpy mode and through a bare
    ``autograd.Function`` around the same two functions."""
    from . import _function

    def forward(x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.mean((x - t) ** 2)

    def backward(g: np.ndarray, x: np.ndarray, t: np.ndarray, out: np.ndarray) -> tuple:
        d = np.float32(2 / x.size) * (x - t) * g
        return d, None

    plain = _function.loss(forward, name="plain_mse")
    plain.backward(backward)

    class HandRolledPlain(torch.autograd.Function):
        @staticmethod
        def forward(ctx, y, x):  # type: ignore[override]
            a, b = y.detach().cpu().numpy(), x.detach().cpu().numpy()
            ctx.saved = (a, b)
            return torch.from_numpy(np.asarray(forward(a, b))).to(y.device)

        @staticmethod
        def backward(ctx, g):  # type: ignore[override]
            a, b = ctx.saved
            out = g.new_empty(())  # unused by this backward, as by the user's
            d, _ = backward(g.cpu().numpy(), a, b, out)
            return torch.from_numpy(d).to(g.device), None

    return {"handrolled": HandRolledPlain.apply, "numpy": plain}


def bench_plain(device: torch.device, *, batch: int, **timing: int) -> dict[str, Any]:
    """The training step with the plain NumPy MSE: numpy mode against the bare
    hand-rolled ``autograd.Function`` (the base) around the same NumPy code."""
    return bench_step(device, batch=batch, criteria=_plain_criteria(), base="handrolled",
                      **timing)  # fmt: skip


def bench_step(
    device: torch.device,
    *,
    batch: int,
    criteria: dict[str, Callable] | None = None,
    base: str = "native",
    **timing: int,
) -> dict[str, Any]:
    """One training step of the founding experiment's autoencoder, per loss."""
    from .experiment.model import Autoencoder

    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 784, generator=g).to(device)
    criteria = criteria or _criteria()

    def make(name: str) -> Callable[[], None]:
        crit = criteria[name]
        torch.manual_seed(0)
        model = Autoencoder().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step() -> None:
            loss = crit(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    return compare(make, list(criteria), base=base, device=device, **timing)


def bench_loss(device: torch.device, *, batch: int, **timing: int) -> dict[str, Any]:
    """The loss alone, forward plus backward, on a [batch, 784] input."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 784, generator=g).to(device).requires_grad_()
    t = torch.rand(batch, 784, generator=g).to(device)
    criteria = _criteria()

    def make(name: str) -> Callable[[], None]:
        crit = criteria[name]

        def run() -> None:
            x.grad = None
            crit(x, t).backward()

        return run

    return compare(make, list(criteria), device=device, **timing)


def bench_data(root: Path, device: torch.device, *, limit: int | None, repeats: int):
    """npgrad's data path vs a DataLoader over ``ToTensor`` (the article's path):
    the data alone (load, then one epoch of batches on the device) and one epoch of
    training (native loss) fed by each.  Loading is part of every timing."""
    from torch.utils.data import DataLoader, Subset
    from torchvision.datasets import MNIST
    from torchvision.transforms import ToTensor

    from .experiment import data
    from .experiment.model import Autoencoder

    def epoch(batches) -> None:
        torch.manual_seed(0)
        model = Autoencoder().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        crit = torch.nn.MSELoss()
        for images, _ in batches:
            x = images.to(device, non_blocking=True).view(images.size(0), -1)
            loss = crit(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()

    def consume(batches) -> None:
        for images, _ in batches:
            images.to(device, non_blocking=True)

    def npgrad_batches():
        images, labels = data.load(root, download=False)
        return data.Batches(images, labels, 256, device=str(device), limit=limit)

    def article_batches():
        ds = MNIST(str(root), train=True, download=False, transform=ToTensor())
        if limit is not None:
            ds = Subset(ds, range(limit))
        return DataLoader(ds, batch_size=256, shuffle=False)

    kw = dict(device=device, warmup=0, repeats=repeats, inner=1)
    return {
        "data_only": timeit(
            {"npgrad": lambda: consume(npgrad_batches()),
             "dataloader": lambda: consume(article_batches())}, **kw
        ),
        "with_training": timeit(
            {"npgrad": lambda: epoch(npgrad_batches()),
             "dataloader": lambda: epoch(article_batches())}, **kw
        ),
    }  # fmt: skip


def run(
    devices: list[str],
    *,
    quick: bool,
    data_dir: str | None,
    seed: int = 0,
    config: dict[str, int] | None = None,
    data_limit: int | None = None,
    tiny: bool = False,
) -> dict[str, Any]:
    """Every benchmark on every device in ``devices``; ``config`` overrides the timing
    loop (warmup, repeats, inner) and ``data_limit`` the data path's image count;
    ``tiny`` shrinks the per-call sections' problems and loops (for the tests)."""
    from . import bench_problems as problems

    torch.manual_seed(seed)
    cfg = config or (
        dict(warmup=5, repeats=8, inner=5, preroll=2)
        if quick
        else dict(warmup=20, repeats=60, inner=10, preroll=5, preroll_s=0.02)
    )
    out: dict[str, Any] = {"quick": quick, "config": cfg, "devices": {}}
    for dev in devices:
        device = torch.device(dev)
        res: dict[str, Any] = {"environment": environment(device)}
        res["train_step"] = {"batch": 256, **bench_step(device, batch=256, **cfg)}
        res["numpy_plain"] = {"batch": 256, **bench_plain(device, batch=256, **cfg)}
        res["loss"] = {str(b): bench_loss(device, batch=b, **cfg) for b in LOSS_SIZES}
        res["auto_vs_torch"] = problems.run_auto(quick, device, tiny=tiny)
        res["scipy_traced"] = problems.run_scipy_traced(quick, device, tiny=tiny)
        res["compiled"] = _compiled_section(quick, device, tiny=tiny)
        if data_dir is not None:
            from .experiment import data

            root = data.resolve_root(data_dir)
            try:
                data.load(root, download=False)
            except data.DataMissing as e:
                res["data_path"] = {"skipped": str(e)}
            else:
                limit = data_limit or (4096 if quick else None)
                d = bench_data(root, device, limit=limit, repeats=1 if quick else 3)
                res["data_path"] = {"images": limit or 60000}
                for part, sec in d.items():
                    res["data_path"][part] = {
                        "seconds": sec,
                        "speedup": sec["dataloader"]["median_s"] / sec["npgrad"]["median_s"],
                    }
        out["devices"][dev] = res
    # host-only comparisons, once: NumPy arrays in, NumPy arrays out
    out["numpy_api"] = problems.run_numpy_api_apart(quick, tiny=tiny)
    out["scipy_untouched"] = problems.run_scipy_untouched(quick, tiny=tiny)
    return out


def _compiled_section(quick: bool, device: torch.device, *, tiny: bool = False) -> dict[str, Any]:
    """The torch.compile section (``npgrad.bench_compiled``), in a process of its own:
    it imports JAX for the jit comparison, whose threads a later ``fork`` (the
    experiment's side-by-side runs) would copy half-alive."""
    import json
    import subprocess
    import sys

    from .bench_problems import _child_env

    if tiny:  # the tests' sizes: compiling every variant would take minutes
        return {"skipped": "not run at the tests' tiny sizes"}
    code = (
        "import json, torch\nfrom npgrad import bench_compiled as b\n"
        f"print(json.dumps(b.run({quick!r}, torch.device({str(device)!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_child_env()
    )
    if done.returncode != 0:
        return {"skipped": f"the compiled section failed: {done.stderr[-1500:]}"}
    return {"result": json.loads(done.stdout.strip().splitlines()[-1])}


def table(result: dict[str, Any]) -> str:
    lines = []
    for dev, res in result["devices"].items():
        env = res["environment"]
        card = env.get("gpu", f"{env['cpu_count']} CPU cores, {env['torch_threads']} threads")
        lines.append(f"== {dev} ({card}; torch {env['torch']}, numpy {env['numpy']})")
        st = res["train_step"]
        lines += [
            "training step, batch 256 (median ms). Each variant ran in a loop of its own that",
            "alternates it with native; 'native' is that loop's native blocks, and the ratio",
            "the median over repeats of (variant block / native block beside it), which is",
            "not the quotient of the two medians.",
            f"  {'':<10} {'variant':>9}    {'native':>9}    ratio",
        ]
        for k in VARIANTS:
            ours = st["seconds"][k]["median_s"] * 1e3
            theirs = st["base_seconds"][k]["median_s"] * 1e3
            lines.append(f"  {k:<10} {ours:9.3f} ms {theirs:9.3f} ms  x{st['ratio'][k]:.3f}")
        lines.append(
            "loss forward+backward, [batch, 784], native = F.mse_loss (median us; the same columns)"
        )
        lines.append(f"  {'':>6}" + "".join(f"  {' ' + k + ' ':-^24}" for k in VARIANTS))
        lines.append(f"  {'batch':>6}" + f"  {'variant':>8} {'native':>8} {'ratio':>6}" * 3)
        for b, v in res["loss"].items():
            cells = "".join(
                f"  {v['seconds'][k]['median_s'] * 1e6:8.1f}"
                f" {v['base_seconds'][k]['median_s'] * 1e6:8.1f} {_ratio(v['ratio'][k]):>6}"
                for k in VARIANTS
            )
            lines.append(f"  {b:>6}{cells}")
        lines += _table_plain(res.get("numpy_plain"))
        lines += _table_sections(res)
        dp = res.get("data_path")
        if dp and "skipped" not in dp:
            lines.append(f"one epoch on {dp['images']} MNIST images (median s)")
            for part in ("data_only", "with_training"):
                s = dp[part]["seconds"]
                ours, theirs = s["npgrad"]["median_s"], s["dataloader"]["median_s"]
                lines.append(
                    f"  {part:<14} npgrad {ours:7.2f} s   DataLoader+ToTensor {theirs:7.2f} s"
                    f"   {_speed(dp[part]['speedup'])}"
                )
        elif dp:
            lines.append(f"data path skipped: {dp['skipped']}")
    from . import bench_problems as problems

    if "numpy_api" in result:
        lines.append(problems.table_numpy_api(result["numpy_api"]))
    if "scipy_untouched" in result:
        lines.append(problems.table_scipy(result["scipy_untouched"], None))
    return "\n".join(lines)


def _table_plain(st: dict[str, Any] | None) -> list[str]:
    if not st:
        return []
    ours = st["seconds"]["numpy"]["median_s"] * 1e3
    theirs = st["base_seconds"]["numpy"]["median_s"] * 1e3
    return [
        "training step with a plain NumPy MSE (forward and a hand-written backward): numpy",
        "mode vs a bare hand-rolled autograd.Function around the same two functions",
        f"  {'numpy mode':<10} {ours:9.3f} ms {theirs:9.3f} ms  x{st['ratio']['numpy']:.3f}",
    ]


def _table_sections(res: dict[str, Any]) -> list[str]:
    from . import bench_problems as problems

    lines = []
    if "auto_vs_torch" in res:
        lines.append(problems.table_auto(res["auto_vs_torch"]))
    if "scipy_traced" in res:
        lines.append(problems.table_scipy(None, res["scipy_traced"]))
    comp = res.get("compiled")
    if comp and "skipped" in comp:
        lines.append(f"torch.compile section skipped: {comp['skipped']}")
    elif comp:
        from . import bench_compiled

        lines.append(bench_compiled.format_table(comp["result"]))
    return lines


def _speed(speedup: float) -> str:
    if speedup >= 1:
        return f"npgrad x{speedup:.1f} faster"
    return f"npgrad x{1 / speedup:.1f} slower"


def _ratio(r: float) -> str:
    return f"x{r:.2f}"


def plot(result: dict[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure

    from .experiment.files import atomic_write

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for dev, res in result["devices"].items():
        sizes = [int(b) for b in res["loss"]]
        for k, style in (("numpy", "o-"), ("auto", "s--"), ("handrolled", "^:")):
            ax.plot(sizes, [res["loss"][str(b)]["ratio"][k] for b in sizes], style,
                    label=f"{k} ({dev})")  # fmt: skip
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size ([batch, 784] inputs)")
    ax.set_ylabel("time ratio to F.mse_loss (fwd+bwd)")
    ax.set_title("npgrad loss overhead")
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))


def write_json(result: dict[str, Any], path: Path) -> None:
    from .experiment.files import atomic_write

    atomic_write(path, lambda p: p.write_text(json.dumps(result, indent=2) + "\n"))
