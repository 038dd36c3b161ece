"""Value and gradient of plain NumPy functions: npgrad against HIPS autograd and JAX.

    python benchmarks/numpy_api.py [--quick] [--threads N] [--json out.json]
    python benchmarks/numpy_api.py --table-from out.json

On a small shared machine pin every library to one thread, NumPy's BLAS included:
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/numpy_api.py --threads 1``.

Each problem is one function written once against a NumPy-like module ``np``:
npgrad runs it with NumPy itself (``npgrad.value_and_grad``), HIPS autograd with
``autograd.numpy`` (``autograd.value_and_grad``), JAX with ``jax.numpy``
(``jax.value_and_grad``, eager and under ``jax.jit``).  Every variant returns NumPy
arrays (JAX's results are copied to NumPy, as npgrad's are), and every variant's
value and gradient are checked against npgrad's before any timing.

The contract of ``npgrad bench`` (``npgrad.bench.compare``): warm-up, each variant
timed against HIPS autograd in an interleaved loop of its own, the median, the
paired ratio (a block's time over the autograd block next to it), the environment
recorded, JSON out, the table printed from the JSON.  Absent autograd or JAX are
skipped with a note.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import npgrad
from npgrad import bench

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


def _data(name: str) -> tuple:
    """The differentiated argument first, then the data (integer labels stay ints)."""
    rng = np.random.default_rng(0)
    if name == "mse 256x784 f32":
        return (rng.random((256, 784), dtype=np.float32), rng.random((256, 784), dtype=np.float32))
    if name == "tiny mse 8x4":
        return rng.random((8, 4)), rng.random((8, 4))
    if name == "logistic 1000x50":
        X = rng.normal(size=(1000, 50))
        return rng.normal(size=50) * 0.1, X, (rng.random(1000) < 0.5).astype(np.int64)
    if name == "mlp 256x64x128x10":
        sizes = [(64, 128), (128, 128), (128, 10)]
        p = {}
        for i, (a, b) in enumerate(sizes, 1):
            p[f"W{i}"] = (rng.normal(size=(a, b)) / math.sqrt(a)).astype(np.float32)
            p[f"b{i}"] = np.zeros(b, np.float32)
        x = rng.normal(size=(256, 64)).astype(np.float32)
        return p, x, rng.integers(0, 10, size=256)
    if name == "gp 64 points":
        x = np.sort(rng.uniform(-3, 3, size=64))
        return np.array([0.1, -0.2, -2.0]), x, np.sin(2 * x) + 0.1 * rng.normal(size=64)
    raise KeyError(name)


PROBLEMS: dict[str, Callable] = {
    "mse 256x784 f32": mse,
    "logistic 1000x50": logistic,
    "mlp 256x64x128x10": mlp,
    "gp 64 points": gp,
    "tiny mse 8x4": mse,
}


# ------------------------------------------------------------- the variants
def _variants() -> tuple[dict[str, Callable], dict[str, str]]:
    """Name -> ``build(problem, args)`` returning a no-argument callable that gives
    ``(value, gradient)`` as NumPy; and a note for each library that is absent."""
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


def _flat(tree: Any) -> list[np.ndarray]:
    if isinstance(tree, dict):
        return [a for k in sorted(tree) for a in _flat(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [a for v in tree for a in _flat(v)]
    return [np.asarray(tree, np.float64)]


def _agree(name: str, variant: str, got: Any, ref: Any) -> None:
    (v, g), (rv, rg) = got, ref
    tol = 1e-4 if "f32" in name or "mlp" in name else 1e-9
    ok = math.isclose(float(v), float(rv), rel_tol=tol, abs_tol=tol)
    ok = ok and all(np.allclose(a, b, rtol=tol, atol=tol) for a, b in zip(_flat(g), _flat(rg)))
    if not ok:
        raise AssertionError(f"{variant} disagrees with npgrad on {name}")


def _inner(fn: Callable, most: int, block_s: float = 0.03) -> int:
    """Calls per timed block: about ``block_s`` seconds' worth, at most ``most``."""
    import time

    start = time.perf_counter()
    fn()
    return max(1, min(most, int(block_s / max(time.perf_counter() - start, 1e-9))))


def run(quick: bool, threads: int | None = None) -> dict[str, Any]:
    cfg = (
        dict(warmup=3, repeats=5, inner=10, preroll=1)
        if quick
        else dict(warmup=10, repeats=15, inner=50, preroll=2, preroll_s=0.01)
    )
    if threads is not None:
        torch.set_num_threads(threads)
        # XLA's CPU pool, read when JAX starts (below)
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        if threads == 1:
            os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    variants, notes = _variants()
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
    for name, problem in PROBLEMS.items():
        args = _data(name)
        ref = variants["npgrad"](problem, args)()
        for v, build in variants.items():
            _agree(name, v, build(problem, args)(), ref)
        timing = {**cfg, "inner": _inner(variants[base](problem, args), cfg["inner"])}
        res = bench.compare(lambda v, p=problem, a=args: variants[v](p, a), list(variants),
                            base=base,
                            device=device, **timing)  # fmt: skip
        result["problems"][name] = {**res, "inner": timing["inner"]}
    result["base"] = base
    return result


def table(result: dict[str, Any]) -> str:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--table-from", type=Path, help="print the table of a saved run")
    parser.add_argument("--threads", type=int, help="torch threads (1 also pins XLA's pool)")
    opts = parser.parse_args(argv)
    if opts.table_from is not None:
        print(table(json.loads(opts.table_from.read_text())))
        return 0
    result = run(opts.quick, opts.threads)
    if opts.json is not None:
        bench.write_json(result, opts.json)
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
