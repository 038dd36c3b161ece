"""The five problems of ``npgrad bench``'s per-call sections, and two of them.

Each problem is one function written once against a NumPy-like module ``np``, with
its data (the differentiated argument first, integer labels kept integers) and the
same maths written in plain torch:

* "automatic mode vs torch eager" (:func:`run_auto`): ``npgrad.function`` of the
  NumPy code in ``mode="auto"`` on torch tensors, value and gradient, against the
  torch code on the same tensors;
* "NumPy-level API vs HIPS autograd and JAX" (:func:`run_numpy_api`):
  ``npgrad.value_and_grad`` on NumPy arrays against ``autograd.value_and_grad`` and
  ``jax.value_and_grad`` (eager and jitted), each skipped with a note when absent.

Every variant's value and gradient are checked against a reference before timing.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import bench

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")


# ------------------------------------------------------------- the problems
def mse(np):
    def f(x, t):
        return np.mean((x - t) ** 2)

    return f


def logistic(np):
    def f(w, X, y):
        z = np.dot(X, w)
        return np.mean(np.logaddexp(0.0, z) - y * z) + 0.05 * np.sum(w**2)

    return f


def mlp(np):
    def f(p, x, y):
        h = np.tanh(np.dot(x, p["W1"]) + p["b1"])
        h = np.tanh(np.dot(h, p["W2"]) + p["b2"])
        z = np.dot(h, p["W3"]) + p["b3"]
        z = z - np.max(z, axis=1, keepdims=True)
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -np.mean(logp[np.arange(x.shape[0]), y])

    return f


def gp(np):
    def f(theta, x, y):
        length, signal, noise = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
        d2 = (x[:, None] - x[None, :]) ** 2
        K = signal * np.exp(-0.5 * d2 / length**2) + (noise + 1e-6) * np.eye(x.shape[0])
        _, logdet = np.linalg.slogdet(K)
        alpha = np.linalg.solve(K, y)
        return 0.5 * np.dot(y, alpha) + 0.5 * logdet + 0.5 * x.shape[0] * math.log(2 * math.pi)

    return f


# the same maths in torch, operation for operation (no fused kernels the NumPy
# code does not spell: (x - t) ** 2 stays a subtraction and a power)
def _torch_mse(x, t):
    return torch.mean((x - t) ** 2)


def _torch_logistic(w, X, y):
    z = X @ w
    return torch.mean(torch.logaddexp(z.new_zeros(()), z) - y * z) + 0.05 * torch.sum(w**2)


def _torch_mlp(p, x, y):
    h = torch.tanh(x @ p["W1"] + p["b1"])
    h = torch.tanh(h @ p["W2"] + p["b2"])
    z = h @ p["W3"] + p["b3"]
    z = z - torch.amax(z, dim=1, keepdim=True)
    logp = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    return -torch.mean(logp[torch.arange(x.shape[0]), y])


def _torch_gp(theta, x, y):
    length, signal, noise = torch.exp(theta[0]), torch.exp(theta[1]), torch.exp(theta[2])
    d2 = (x[:, None] - x[None, :]) ** 2
    eye = torch.eye(x.shape[0], dtype=x.dtype, device=x.device)
    K = signal * torch.exp(-0.5 * d2 / length**2) + (noise + 1e-6) * eye
    logdet = torch.linalg.slogdet(K)[1]
    alpha = torch.linalg.solve(K, y)
    return 0.5 * torch.dot(y, alpha) + 0.5 * logdet + 0.5 * x.shape[0] * math.log(2 * math.pi)


PROBLEMS: dict[str, tuple[Callable, Callable]] = {
    "mse 256x784 f32": (mse, _torch_mse),
    "logistic 1000x50": (logistic, _torch_logistic),
    "mlp 256x64x128x10": (mlp, _torch_mlp),
    "gp 64 points": (gp, _torch_gp),
    "tiny mse 8x4": (mse, _torch_mse),
}


def data(name: str, tiny: bool = False) -> tuple:
    """The differentiated argument first, then the data (integer labels stay ints);
    ``tiny`` shrinks every size (for the tests)."""
    rng = np.random.default_rng(0)
    n = 4 if tiny else None
    if name == "mse 256x784 f32":
        shape = (n or 256, n or 784)
        return rng.random(shape, dtype=np.float32), rng.random(shape, dtype=np.float32)
    if name == "tiny mse 8x4":
        return rng.random((8, 4)), rng.random((8, 4))
    if name == "logistic 1000x50":
        rows, cols = n or 1000, n or 50
        X = rng.normal(size=(rows, cols))
        return rng.normal(size=cols) * 0.1, X, (rng.random(rows) < 0.5).astype(np.int64)
    if name == "mlp 256x64x128x10":
        d_in, d_h, batch = n or 64, n or 128, n or 256
        p = {}
        for i, (a, b) in enumerate([(d_in, d_h), (d_h, d_h), (d_h, 10)], 1):
            p[f"W{i}"] = (rng.normal(size=(a, b)) / math.sqrt(a)).astype(np.float32)
            p[f"b{i}"] = np.zeros(b, np.float32)
        x = rng.normal(size=(batch, d_in)).astype(np.float32)
        return p, x, rng.integers(0, 10, size=batch)
    if name == "gp 64 points":
        x = np.sort(rng.uniform(-3, 3, size=n or 64))
        return np.array([0.1, -0.2, -2.0]), x, np.sin(2 * x) + 0.1 * rng.normal(size=n or 64)
    raise KeyError(name)


def _tree(x: Any, fn: Callable) -> Any:
    if isinstance(x, dict):
        return {k: _tree(v, fn) for k, v in x.items()}
    return fn(x)


def _flat(tree: Any) -> list:
    if isinstance(tree, dict):
        return [a for k in sorted(tree) for a in _flat(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [a for v in tree for a in _flat(v)]
    return [tree]


def _agree(name: str, variant: str, got: Any, ref: Any) -> None:
    (v, g), (rv, rg) = got, ref
    tol = 1e-4 if "f32" in name or "mlp" in name else 1e-9

    def host(a: Any) -> np.ndarray:
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        return np.asarray(a, np.float64)

    ok = math.isclose(float(host(v)), float(host(rv)), rel_tol=tol, abs_tol=tol)
    pairs = zip(_flat(g), _flat(rg))
    ok = ok and all(np.allclose(host(a), host(b), rtol=tol, atol=tol) for a, b in pairs)
    if not ok:
        raise AssertionError(f"{variant} disagrees with the reference on {name}")


def _inner(fn: Callable, most: int, block_s: float = 0.03) -> int:
    """Calls per timed block: about ``block_s`` seconds' worth, at most ``most``."""
    import time

    start = time.perf_counter()
    fn()
    return max(1, min(most, int(block_s / max(time.perf_counter() - start, 1e-9))))


def _config(quick: bool, tiny: bool, few: bool = False) -> dict[str, Any]:
    if tiny:
        return dict(warmup=1, repeats=2, inner=2, preroll=0)
    if quick:  # few: JAX's eager calls and autograd's MLP take milliseconds each
        return dict(warmup=2 if few else 3, repeats=3 if few else 5, inner=10, preroll=1)
    return dict(warmup=10, repeats=21, inner=50, preroll=2, preroll_s=0.01)


# ------------------------------------------------ automatic mode vs torch eager
def _auto_variants(device: torch.device) -> dict[str, Callable]:
    """Name -> ``build(problem name, numpy args)``: a no-argument callable giving the
    value and the gradient (tensors) with respect to the first argument."""
    import npgrad

    def on_device(args: tuple, grad: bool) -> tuple:
        first = _tree(args[0], lambda a: torch.as_tensor(a, device=device).requires_grad_(grad))
        rest = [_tree(a, lambda a: torch.as_tensor(a, device=device)) for a in args[1:]]
        return (first, *rest)

    def leaves(x: Any) -> list:
        return _flat(x)

    def value_and_grad(f: Callable, tensors: tuple) -> Callable:
        wrt = leaves(tensors[0])

        def run() -> tuple:
            value = f(*tensors)
            return value, torch.autograd.grad(value, wrt)

        return run

    def auto(name: str, args: tuple) -> Callable:
        op = npgrad.function(PROBLEMS[name][0](np), name=name.split()[0], mode="auto")
        return value_and_grad(op, on_device(args, True))

    def torch_eager(name: str, args: tuple) -> Callable:
        return value_and_grad(PROBLEMS[name][1], on_device(args, True))

    return {"torch": torch_eager, "auto": auto}


def run_auto(quick: bool, device: torch.device, *, tiny: bool = False) -> dict[str, Any]:
    """Automatic mode against the same maths in torch eager, per problem: the
    median seconds of value + gradient per call and the paired ratio."""
    cfg = _config(quick, tiny)
    variants = _auto_variants(device)
    out: dict[str, Any] = {"config": cfg, "base": "torch", "problems": {}}
    for name in PROBLEMS:
        args = data(name, tiny)
        ref = variants["torch"](name, args)()
        _agree(name, "auto", variants["auto"](name, args)(), ref)
        timing = {**cfg, "inner": _inner(variants["torch"](name, args), cfg["inner"])}
        res = bench.compare(lambda v, n=name, a=args: variants[v](n, a), list(variants),
                            base="torch", device=device, **timing)  # fmt: skip
        out["problems"][name] = {**res, "inner": timing["inner"]}
    return out


def table_auto(result: dict[str, Any]) -> str:
    lines = [
        "automatic mode vs the same maths in torch eager: value + gradient per call",
        "(median us; x = the paired ratio of blocks, below 1: npgrad faster)",
        f"  {'problem':<20} {'torch':>9} {'auto':>9} {'ratio':>7}",
    ]
    ratios = []
    for prob, res in result["problems"].items():
        s = res["seconds"]
        ratios.append(res["ratio"]["auto"])
        lines.append(
            f"  {prob:<20} {res['base_seconds']['auto']['median_s'] * 1e6:9.1f}"
            f" {s['auto']['median_s'] * 1e6:9.1f}  x{res['ratio']['auto']:.3f}"
        )
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        lines.append(f"  {'geometric mean':<40}  x{geo:.3f}")
    return "\n".join(lines)


# ------------------------------------------- NumPy-level API vs autograd and JAX
def _api_variants() -> tuple[dict[str, Callable], dict[str, str]]:
    """Name -> ``build(problem, args)`` returning a no-argument callable that gives
    ``(value, gradient)`` as NumPy; and a note for each library that is absent."""
    import npgrad

    out: dict[str, Callable] = {}
    notes: dict[str, str] = {}

    def npgrad_variant(problem, args):
        vg = npgrad.value_and_grad(problem(np))
        return lambda: vg(*args)

    out["npgrad"] = npgrad_variant
    try:
        import autograd
        import autograd.numpy as anp

        def autograd_variant(problem, args):
            vg = autograd.value_and_grad(problem(anp))
            return lambda: vg(*args)

        out["autograd"] = autograd_variant
    except ImportError as e:
        notes["autograd"] = f"HIPS autograd not installed ({e}); pip install autograd"
    try:
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 where NumPy has float64
        jax.config.update("jax_platforms", "cpu")
        import jax.numpy as jnp

        def to_numpy(tree):
            return jax.tree_util.tree_map(np.asarray, tree)

        def jax_variant(jit: bool):
            def build(problem, args):
                vg = jax.value_and_grad(problem(jnp))
                vg = jax.jit(vg) if jit else vg
                jargs = jax.tree_util.tree_map(jnp.asarray, args)  # on the device, once
                return lambda: to_numpy(vg(*jargs))

            return build

        out["jax"] = jax_variant(False)
        out["jax-jit"] = jax_variant(True)
    except ImportError as e:
        notes["jax"] = f"JAX not installed ({e}); pip install jax"
    return out, notes


def run_numpy_api(
    quick: bool, threads: int | None = None, *, tiny: bool = False, settle_s: float = 0.0
):
    """npgrad's NumPy-level API against HIPS autograd and JAX on the same problems
    (``settle_s``: a pause before each timed block, see ``bench.timeit``)."""
    cfg = {**_config(quick, tiny, few=True), "settle_s": settle_s}
    if threads is not None:
        torch.set_num_threads(threads)
        # XLA's CPU pool, read when JAX starts (below)
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        if threads == 1:
            os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    variants, notes = _api_variants()
    device = torch.device("cpu")
    env = bench.environment(device)
    for lib in ("autograd", "jax", "jaxlib"):
        if lib in sys.modules:
            try:
                env[lib] = importlib.metadata.version(lib)
            except importlib.metadata.PackageNotFoundError:
                env[lib] = "?"
    # NumPy's BLAS reads these when it loads: set them in the shell to pin its threads
    env["thread_env"] = {k: os.environ.get(k) for k in THREAD_ENV}
    result: dict[str, Any] = {"quick": quick, "config": cfg, "environment": env,
                              "notes": notes, "problems": {}}  # fmt: skip
    base = "autograd" if "autograd" in variants else "npgrad"
    for name, (problem, _) in PROBLEMS.items():
        args = data(name, tiny)
        ref = variants["npgrad"](problem, args)()
        for v, build in variants.items():
            _agree(name, v, build(problem, args)(), ref)
        timing = {**cfg, "inner": _inner(variants[base](problem, args), cfg["inner"])}
        res = bench.compare(lambda v, p=problem, a=args: variants[v](p, a), list(variants),
                            base=base, device=device, **timing)  # fmt: skip
        result["problems"][name] = {**res, "inner": timing["inner"]}
    result["base"] = base
    return result


def run_numpy_api_apart(quick: bool, *, tiny: bool = False) -> dict[str, Any]:
    """:func:`run_numpy_api` in a process of its own, every library on one thread.

    Its own process: JAX starts threads that a later ``fork`` (the experiment's
    side-by-side runs) would copy half-alive, and neither its threads nor autograd's
    state should linger beside the other sections.  One thread each, NumPy's BLAS
    included: on a small machine the libraries' pools, timed in turn, spin on after
    their block and slow the next library's (on 2 cores npgrad's MLP measured x1.09
    autograd with two threads each, x0.52-0.57 with one or with a pause per block)."""
    import json
    import subprocess

    code = (
        "import json, sys\nfrom npgrad import bench_problems as bp\n"
        f"print(json.dumps(bp.run_numpy_api({quick!r}, 1, tiny={tiny!r})))"
    )
    env = {**_child_env(), **{k: "1" for k in THREAD_ENV if k != "XLA_FLAGS"}}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the NumPy-level API section failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child_env() -> dict[str, str]:
    """The environment of a child process that imports this npgrad, wherever it is."""
    here = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}


def table_numpy_api(result: dict[str, Any]) -> str:
    env = result["environment"]
    base = result["base"]
    lines = [
        f"value+gradient of plain NumPy functions, median us per call; x = paired ratio to "
        f"{base} (below 1: faster)",
        f"({env['cpu_count']} CPU cores, {env['torch_threads']} torch threads, "
        f"{env.get('thread_env', {})}, pause before each block "
        f"{result.get('config', {}).get('settle_s', 0.0)} s; torch "
        f"{env['torch']}, numpy {env['numpy']}, autograd {env.get('autograd', '-')}, "
        f"jax {env.get('jax', '-')})",
    ]
    names = list(next(iter(result["problems"].values()))["seconds"])
    others = [n for n in names if n != base]
    lines.append(f"  {'problem':<20}" + "".join(f" {n:>10}" for n in names)
                 + "".join(f" {'x ' + n:>10}" for n in others))  # fmt: skip
    for prob, res in result["problems"].items():
        lines.append(
            f"  {prob:<20}"
            + "".join(f" {res['seconds'][n]['median_s'] * 1e6:10.1f}" for n in names)
            + "".join(f" {res['ratio'][n]:10.3f}" for n in others)
        )
    for lib, note in result["notes"].items():
        lines.append(f"  skipped {lib}: {note}")
    return "\n".join(lines)


# ------------------------------------------------------------------- SciPy
_SCIPY_TIMER = """
import sys, time, statistics
import numpy as np
if sys.argv[1] == "torch":
    import torch  # noqa: F401
if sys.argv[1] == "npgrad":
    import torch, npgrad  # noqa: F401
    import scipy.special as sp
    # a traced call first: npgrad's SciPy rows are resolved, as in a user's process
    x = torch.ones(3, dtype=torch.float64, requires_grad=True)
    for f in (lambda x: np.sum(sp.xlogy(x, x)), lambda x: sp.logsumexp(x)):
        try:
            npgrad.function(f, mode="auto")(x)
        except npgrad.TraceError:
            pass  # not followed on this build: npgrad is imported all the same
import scipy.special as sp
from scipy.stats import norm
a = np.random.default_rng(0).normal(size=(64, 100))
calls = {"logsumexp": lambda: sp.logsumexp(a, axis=1), "norm.logpdf": lambda: norm.logpdf(a)}
inner, out = int(sys.argv[2]), {}
for name, f in calls.items():
    for _ in range(inner):
        f()
    blocks = []
    for _ in range(int(sys.argv[3])):
        start = time.perf_counter()
        for _ in range(inner):
            f()
        blocks.append((time.perf_counter() - start) / inner)
    out[name] = statistics.median(blocks)
print(repr(out))
"""


def run_scipy_untouched(quick: bool, *, tiny: bool = False) -> dict[str, Any]:
    """SciPy on NumPy arrays outside a trace, in a process that imported npgrad and
    traced a SciPy call against one that never imported npgrad.  Processes cannot be
    interleaved block by block: the two kinds alternate, process by process, and
    the ratio is the median over those pairs."""
    import ast
    import subprocess

    pairs = 1 if tiny else (2 if quick else 5)
    inner, blocks = (5, 2) if tiny else (50, 10 if quick else 30)
    # "torch" imports torch alone: what npgrad itself changes is npgrad over torch
    runs: dict[str, list] = {"npgrad": [], "torch": [], "plain": []}
    env = _child_env()
    for _ in range(pairs):
        for kind in runs:
            cmd = [sys.executable, "-c", _SCIPY_TIMER, kind, str(inner), str(blocks)]
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                raise RuntimeError(f"the SciPy timing process failed: {done.stderr[-2000:]}")
            runs[kind].append(ast.literal_eval(done.stdout.strip().splitlines()[-1]))
    names = list(runs["plain"][0])
    return {
        "pairs": pairs,
        "seconds": {k: {n: [r[n] for r in v] for n in names} for k, v in runs.items()},
        "ratio": {n: _pair_ratio(runs["npgrad"], runs["plain"], n) for n in names},
        "ratio_to_torch": {n: _pair_ratio(runs["npgrad"], runs["torch"], n) for n in names},
    }


def _pair_ratio(ours: list, theirs: list, name: str) -> float:
    import statistics

    return statistics.median(a[name] / b[name] for a, b in zip(ours, theirs))


def _scipy_problems() -> dict[str, tuple[Callable, Callable, tuple]]:
    import scipy.special as sp
    from scipy.stats import norm

    rng = np.random.default_rng(0)
    z = rng.normal(size=(256, 10))
    x, mu, s = rng.normal(size=1000), 0.3, 1.7

    def lse(z):
        return np.mean(sp.logsumexp(z, axis=1))

    def lse_torch(z):
        return torch.mean(torch.logsumexp(z, dim=1))

    def logpdf(x):
        return np.sum(norm.logpdf(x, mu, s))

    def logpdf_torch(x):
        return torch.sum(-0.5 * ((x - mu) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi))

    return {
        "logsumexp 256x10": (lse, lse_torch, (z,)),
        "norm.logpdf 1000": (logpdf, logpdf_torch, (x,)),
    }


def run_scipy_traced(quick: bool, device: torch.device, *, tiny: bool = False):
    """Traced SciPy calls (automatic mode) against the same maths in torch."""
    import npgrad

    cfg = _config(quick, tiny)
    out: dict[str, Any] = {"config": cfg, "base": "torch", "problems": {}}
    for name, (f, ft, args) in _scipy_problems().items():
        op = npgrad.function(f, name=name.split()[0], mode="auto")
        x = torch.as_tensor(args[0], device=device)

        def build(v: str, op=op, ft=ft, x=x) -> Callable:
            leaf = x.clone().requires_grad_()
            fn = op if v == "auto" else ft

            def run() -> tuple:
                value = fn(leaf)
                return value, torch.autograd.grad(value, [leaf])

            return run

        try:
            got = build("auto")()
        except npgrad.TraceError as e:
            out["problems"][name] = {"skipped": f"not followed on this build: {e}"}
            continue
        _agree(name, "auto", got, build("torch")())
        timing = {**cfg, "inner": _inner(build("torch"), cfg["inner"])}
        res = bench.compare(build, ["torch", "auto"], base="torch", device=device, **timing)
        out["problems"][name] = {**res, "inner": timing["inner"]}
    return out


def table_scipy(untouched: dict[str, Any] | None, traced: dict[str, Any] | None) -> str:
    lines = []
    if untouched is not None:
        lines.append(
            "SciPy on NumPy arrays outside a trace, npgrad imported (and a SciPy call traced) "
            f"vs never imported: median of {untouched['pairs']} process pairs, not interleaved"
        )
        lines.append(
            "(x npgrad: over a process with neither; x torch: over one that imported torch)"
        )
        for n, r in untouched["ratio"].items():
            us = statistics_median(untouched["seconds"]["plain"][n]) * 1e6
            rt = untouched["ratio_to_torch"][n]
            lines.append(
                f"  {n:<20} {us:9.1f} us without npgrad   x npgrad {r:.3f}   x torch {rt:.3f}"
            )
    if traced is not None:
        skipped = {n: r for n, r in traced["problems"].items() if "skipped" in r}
        timed = {n: r for n, r in traced["problems"].items() if "skipped" not in r}
        for n, r in skipped.items():
            lines.append(f"  traced {n}: skipped, {r['skipped'][:160]}")
        traced = {**traced, "problems": timed}
    if traced is not None and traced["problems"]:
        lines.append(table_auto(traced).replace(
            "automatic mode vs the same maths in torch eager",
            "traced SciPy calls vs the same maths in torch eager"))  # fmt: skip
    return "\n".join(lines)


def statistics_median(values: list) -> float:
    import statistics

    return statistics.median(values)
