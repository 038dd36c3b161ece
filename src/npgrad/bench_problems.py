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


def _config(quick: bool, tiny: bool) -> dict[str, Any]:
    if tiny:
        return dict(warmup=1, repeats=2, inner=2, preroll=0)
    if quick:
        return dict(warmup=3, repeats=5, inner=10, preroll=1)
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


def run_numpy_api(quick: bool, threads: int | None = None, *, tiny: bool = False):
    """npgrad's NumPy-level API against HIPS autograd and JAX on the same problems."""
    cfg = _config(quick, tiny)
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


def table_numpy_api(result: dict[str, Any]) -> str:
    env = result["environment"]
    base = result["base"]
    lines = [
        f"value+gradient of plain NumPy functions, median us per call; x = paired ratio to "
        f"{base} (below 1: faster)",
        f"({env['cpu_count']} CPU cores, {env['torch_threads']} torch threads, "
        f"{env.get('thread_env', {})}; torch "
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
