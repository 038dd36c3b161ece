"""npgrad under ``torch.compile`` and ``jit=True``, against the same maths in torch and JAX.

Three sections, each measured with :mod:`npgrad.bench`'s contract (warm-up, each
variant timed against its base in an interleaved loop of its own, medians, paired
ratios, a device synchronisation around each timed block, the environment):

* ``train_step``: the founding autoencoder's training step (batch 256, Adam) with
  the model and its loss compiled by inductor; the loss in automatic mode (which
  takes the composite route) against the same loss written in torch;
* ``workloads``: five functions, value and gradient per call, compiled by inductor:
  npgrad ops against the same maths in torch ops;
* ``jit``: ``npgrad.value_and_grad(f, jit=True)`` against ``jax.jit(jax.value_and_grad(f))``
  on the same NumPy function (skipped with a note where JAX is absent).

Every variant's value and gradient are checked against a reference before timing.
``run(quick, device)`` returns JSON-able results; ``format_table`` prints them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from . import bench
from .bench_problems import gp  # the same GP objective as the eager section

EPS = 1e-6


# ------------------------------------------------------------ the maths
def _mse(np):
    def f(x, t):
        return np.mean((x - t) ** 2)

    return f


def _charbonnier(np):
    def f(x, t):
        return np.mean(np.sqrt((x - t) ** 2 + EPS))

    return f


def _logistic(np):
    def f(w, X, y):
        z = X @ w
        return np.mean(np.logaddexp(0.0, z) - y * z) + 0.05 * np.sum(w**2)

    return f


def _mlp(np):
    def f(W1, b1, W2, b2, W3, b3, x, y):
        h = np.tanh(x @ W1 + b1)
        h = np.tanh(h @ W2 + b2)
        z = h @ W3 + b3
        z = z - np.max(z, axis=1, keepdims=True)
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -np.mean(logp[np.arange(x.shape[0]), y])

    return f


def _torch_mse(x, t):
    return ((x - t) ** 2).mean()


def _torch_charbonnier(x, t):
    return torch.sqrt((x - t) ** 2 + EPS).mean()


def _torch_logistic(w, X, y):
    z = X @ w
    zero = torch.zeros((), dtype=z.dtype, device=z.device)
    return (torch.logaddexp(zero, z) - y * z).mean() + 0.05 * (w**2).sum()


def _torch_mlp(W1, b1, W2, b2, W3, b3, x, y):
    h = torch.tanh(x @ W1 + b1)
    h = torch.tanh(h @ W2 + b2)
    z = h @ W3 + b3
    z = z - z.max(dim=1, keepdim=True).values
    logp = z - torch.log(torch.exp(z).sum(dim=1, keepdim=True))
    return -logp[torch.arange(x.shape[0], device=x.device), y].mean()


def _torch_gp(theta, x, y):
    length, signal, noise = torch.exp(theta[0]), torch.exp(theta[1]), torch.exp(theta[2])
    d2 = (x[:, None] - x[None, :]) ** 2
    eye = torch.eye(x.shape[0], dtype=x.dtype, device=x.device)
    K = signal * torch.exp(-0.5 * d2 / length**2) + (noise + 1e-6) * eye
    _, logdet = torch.linalg.slogdet(K)
    alpha = torch.linalg.solve(K, y)
    return 0.5 * (y @ alpha) + 0.5 * logdet + 0.5 * x.shape[0] * math.log(2 * math.pi)


# name -> (NumPy-like maths, torch maths, number of differentiated leading arguments)
WORKLOADS: dict[str, tuple[Callable, Callable, int]] = {
    "mse 256x784 f32": (_mse, _torch_mse, 1),
    "logistic 1000x50": (_logistic, _torch_logistic, 1),
    "mlp 256x64x128x10": (_mlp, _torch_mlp, 6),
    "gp 64 points": (gp, _torch_gp, 1),
    "tiny mse 8x4": (_mse, _torch_mse, 1),
}


def _data(name: str) -> list[np.ndarray]:
    """The differentiated arguments first, then the data (labels stay integers)."""
    rng = np.random.default_rng(0)
    if name == "mse 256x784 f32":
        return [rng.random((256, 784), dtype=np.float32), rng.random((256, 784), dtype=np.float32)]
    if name == "tiny mse 8x4":
        return [rng.random((8, 4)), rng.random((8, 4))]
    if name == "logistic 1000x50":
        X = rng.normal(size=(1000, 50))
        return [rng.normal(size=50) * 0.1, X, (rng.random(1000) < 0.5).astype(np.int64)]
    if name == "mlp 256x64x128x10":
        out = []
        for a, b in [(64, 128), (128, 128), (128, 10)]:
            out += [(rng.normal(size=(a, b)) / math.sqrt(a)).astype(np.float32)]
            out += [np.zeros(b, np.float32)]
        return [*out, rng.normal(size=(256, 64)).astype(np.float32), rng.integers(0, 10, 256)]
    if name == "gp 64 points":
        x = np.sort(rng.uniform(-3, 3, size=64))
        return [np.array([0.1, -0.2, -2.0]), x, np.sin(2 * x) + 0.1 * rng.normal(size=64)]
    raise KeyError(name)


def _tolerance(name: str) -> dict[str, float]:
    return (
        dict(rtol=1e-4, atol=1e-5) if "f32" in name or "mlp" in name else dict(rtol=1e-9, atol=1e-9)
    )


def _check(name: str, variant: str, got: list, ref: list) -> None:
    """Never time a wrong answer: value and every gradient against the reference."""
    for a, b in zip(got, ref, strict=True):
        if not np.allclose(
            np.asarray(a, np.float64), np.asarray(b, np.float64), **_tolerance(name)
        ):
            raise AssertionError(f"{variant} disagrees with the reference on {name}")


def _compile(fn: Callable) -> Callable:
    return torch.compile(fn, backend="inductor", fullgraph=True)


def _settle() -> None:
    # each variant compiles afresh; the default limit of eight would stop compiling
    torch._dynamo.reset()
    for knob in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, knob):
            setattr(torch._dynamo.config, knob, 64)


def _inner(fn: Callable, most: int, block_s: float = 0.03) -> int:
    """Calls per timed block: about ``block_s`` seconds' worth, at most ``most``."""
    fn()
    start = time.perf_counter()
    fn()
    return max(1, min(most, int(block_s / max(time.perf_counter() - start, 1e-9))))


# ------------------------------------------------------------ (a) the training step
def bench_train_step(device: torch.device, **timing: Any) -> dict[str, Any]:
    import npgrad

    from .experiment.model import Autoencoder

    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 784, generator=g).to(device)
    losses = {
        "mse": (npgrad.loss(_mse(np), name="mse-auto"), _torch_mse),
        "charbonnier": (npgrad.loss(_charbonnier(np), name="charbonnier-auto"), _torch_charbonnier),
    }
    out: dict[str, Any] = {"batch": 256, "losses": {}}
    for loss_name, (ours, theirs) in losses.items():
        _settle()

        def make(name: str, ours=ours, theirs=theirs) -> Callable[[], torch.Tensor]:
            crit = ours if name == "npgrad" else theirs
            torch.manual_seed(0)
            model = Autoencoder().to(device)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            forward = _compile(lambda batch: crit(model(batch), batch))

            def step() -> torch.Tensor:
                loss = forward(x)
                opt.zero_grad()
                loss.backward()
                opt.step()
                return loss

            return step

        # the same first steps from the same start: the routes agree before timing
        a, b = make("npgrad"), make("torch")
        for _ in range(3):
            la, lb = a(), b()
            if not torch.allclose(la.detach(), lb.detach(), rtol=1e-4, atol=1e-6):
                raise AssertionError(f"the compiled npgrad {loss_name} step disagrees with torch's")
        res = bench.compare(make, ["torch", "npgrad"], base="torch", device=device, **timing)
        out["losses"][loss_name] = {**res, "route": ours.compiled_route}
    return out


# ------------------------------------------------------------ (b) the five workloads
def bench_workloads(device: torch.device, **timing: Any) -> dict[str, Any]:
    import npgrad

    out: dict[str, Any] = {}
    for name, (maths, torch_maths, n_diff) in WORKLOADS.items():
        _settle()
        data = [torch.from_numpy(a).to(device) for a in _data(name)]
        op = npgrad.function(maths(np), name=f"bench-{name}")

        def make(variant: str, op=op, torch_maths=torch_maths, n_diff=n_diff, data=data):
            fn = _compile(op if variant == "npgrad" else torch_maths)
            leaves = [t.clone().requires_grad_() for t in data[:n_diff]]
            rest = data[n_diff:]

            def run() -> list:
                for t in leaves:
                    t.grad = None
                value = fn(*leaves, *rest)
                value.backward()
                return [value.detach(), *(t.grad for t in leaves)]

            return run

        ref = _eager_reference(torch_maths, data, n_diff)
        for variant in ("npgrad", "torch"):
            got = make(variant)()
            _check(name, variant, [t.cpu().numpy() for t in got], ref)
        timing_here = {**timing, "inner": _inner(make("torch"), timing["inner"])}
        res = bench.compare(make, ["torch", "npgrad"], base="torch", device=device, **timing_here)
        out[name] = {**res, "inner": timing_here["inner"], "route": op.compiled_route}
    return out


def _eager_reference(torch_maths: Callable, data: list, n_diff: int) -> list:
    leaves = [t.detach().clone().double().requires_grad_() for t in data[:n_diff]]
    rest = [t.double() if t.is_floating_point() else t for t in data[n_diff:]]
    value = torch_maths(*leaves, *rest)
    value.backward()
    return [value.detach().cpu().numpy(), *(t.grad.cpu().numpy() for t in leaves)]


# ------------------------------------------------------------ (c) the jit against JAX
def bench_jit(device: torch.device, **timing: Any) -> dict[str, Any]:
    import npgrad

    try:
        import jax
        import jax.numpy as jnp
    except ImportError as e:
        return {"skipped": f"JAX is not installed ({e}); pip install jax"}
    jax.config.update("jax_enable_x64", True)  # float64 where NumPy has float64
    jax.config.update("jax_platforms", "cpu")
    out: dict[str, Any] = {"jax": jax.__version__, "problems": {}}
    for name, (maths, _, n_diff) in WORKLOADS.items():
        _settle()
        args = _data(name)
        nums = tuple(range(n_diff))

        def make(variant: str, maths=maths, args=args, nums=nums) -> Callable[[], Any]:
            if variant == "jax-jit":
                vg = jax.jit(jax.value_and_grad(maths(jnp), argnums=nums))
                jargs = [jnp.asarray(a) for a in args]  # on the device, once

                def run_jax() -> Any:
                    v, g = vg(*jargs)
                    return [np.asarray(v), *(np.asarray(t) for t in g)]

                return run_jax
            vg = npgrad.value_and_grad(maths(np), argnums=nums, jit=variant == "npgrad-jit",
                                       device=device)  # fmt: skip

            def run_npgrad() -> Any:
                v, g = vg(*args)
                return [v, *g]

            return run_npgrad

        ref = make("npgrad")()
        for variant in ("npgrad-jit", "jax-jit"):
            _check(name, variant, make(variant)(), ref)
        timing_here = {**timing, "inner": _inner(make("jax-jit"), timing["inner"])}
        names = ["jax-jit", "npgrad-jit", "npgrad"]
        res = bench.compare(make, names, base="jax-jit", device=device, **timing_here)
        out["problems"][name] = {**res, "inner": timing_here["inner"]}
    return out


# ------------------------------------------------------------ entry points
def run(quick: bool, device: Any = "cpu", threads: int | None = None) -> dict[str, Any]:
    """Every section on ``device``; JSON-able (``bench.write_json`` writes it).

    ``threads`` pins torch (and so inductor's kernels, built for the count at compile
    time) and, for 1, XLA's pool: on a small shared machine a parallel region waits
    on a busy core, and single threads give steadier figures for both libraries.
    """
    device = torch.device(device)
    if threads is not None:
        import os

        torch.set_num_threads(threads)
        if threads == 1:  # read when JAX starts
            flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    cfg = (
        dict(warmup=3, repeats=5, inner=5, preroll=1)
        if quick
        else dict(warmup=10, repeats=21, inner=20, preroll=2, preroll_s=0.01)
    )
    torch.manual_seed(0)
    result: dict[str, Any] = {
        "quick": quick,
        "config": cfg,
        "environment": bench.environment(device),
        "threads": threads,
    }
    result["train_step"] = bench_train_step(device, **cfg)
    result["workloads"] = bench_workloads(device, **cfg)
    result["jit"] = (
        bench_jit(device, **cfg)
        if device.type == "cpu"
        else {"skipped": "JAX runs on the CPU here; the jit section is measured on the CPU"}
    )
    return result


def format_table(result: dict[str, Any]) -> str:
    env = result["environment"]
    card = env.get("gpu", f"{env['cpu_count']} CPU cores, {env['torch_threads']} threads")
    lines = [
        f"== torch.compile (inductor) on {env['device']} ({card}; torch {env['torch']}, "
        f"numpy {env['numpy']}){' [quick]' if result['quick'] else ''}",
        "ratio: median over repeats of (variant block / base block beside it), not the",
        "quotient of the medians; below 1 the variant is faster.",
        "training step of the founding autoencoder, batch 256, Adam (median ms)",
        f"  {'loss':<12} {'npgrad':>9}    {'torch':>9}    ratio  route",
    ]
    for loss, r in result["train_step"]["losses"].items():
        ours = r["seconds"]["npgrad"]["median_s"] * 1e3
        theirs = r["base_seconds"]["npgrad"]["median_s"] * 1e3
        ratio = r["ratio"]["npgrad"]
        lines.append(f"  {loss:<12} {ours:9.3f} ms {theirs:9.3f} ms  x{ratio:.3f}  {r['route']}")
    lines.append(
        "value + gradient per call, npgrad op vs the torch maths, both compiled (median us)"
    )
    lines.append(f"  {'workload':<20} {'npgrad':>10} {'torch':>10}  ratio  route")
    for name, r in result["workloads"].items():
        ours = r["seconds"]["npgrad"]["median_s"] * 1e6
        theirs = r["base_seconds"]["npgrad"]["median_s"] * 1e6
        lines.append(
            f"  {name:<20} {ours:10.1f} {theirs:10.1f}  x{r['ratio']['npgrad']:.3f}  {r['route']}"
        )
    jit = result["jit"]
    if "skipped" in jit:
        lines.append(f"jit section skipped: {jit['skipped']}")
        return "\n".join(lines)
    lines.append(
        f"npgrad.value_and_grad(f, jit=True) vs jax.jit(jax.value_and_grad(f)), NumPy in and "
        f"out (median us; jax {jit['jax']})"
    )
    lines.append(
        f"  {'problem':<20} {'npgrad-jit':>10} {'jax-jit':>10} {'npgrad':>10}  "
        f"{'x jit':>7} {'x eager':>7}"
    )
    for name, r in jit["problems"].items():
        s = r["seconds"]
        lines.append(
            f"  {name:<20} {s['npgrad-jit']['median_s'] * 1e6:10.1f}"
            f" {r['base_seconds']['npgrad-jit']['median_s'] * 1e6:10.1f}"
            f" {s['npgrad']['median_s'] * 1e6:10.1f}"
            f"  {r['ratio']['npgrad-jit']:7.3f} {r['ratio']['npgrad']:7.3f}"
        )
    return "\n".join(lines)
