"""What is left of the per-call sections' gaps once npgrad's Python is cut: the floor.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/per_call_floor.py [--json F]

Four tables, on the five problems of ``npgrad.bench_problems``:

* per problem, the NumPy-level calls its code makes on traced arrays (ufuncs,
  functions, operators, indexing) and the torch ops of its forward and backward in
  automatic mode and in plain torch: the graphs are the same, so automatic mode's
  excess over torch eager is Python per NumPy call (plus one finiteness check);
* the kernels where torch's CPU implementation and NumPy's differ most at these
  problems' shapes: the NumPy-level API runs torch's kernels, HIPS autograd
  NumPy's, so these bound the API's ratio to autograd whatever npgrad's overhead;
* the floor of the design: the same plain NumPy code on ``_Bare``, an array type
  with nothing but the NumPy protocols (each call goes straight to one torch op: no
  promotion, no checks, no aliasing rules, none of NumPy's edge cases), value and
  gradient per call against automatic mode and torch eager. What ``_Bare`` costs
  over torch is what any array that NumPy code dispatches to pays, per call, and
  torch's kernels then run slower after the Python between them;
* the ufuncs ``npgrad._mappings.host`` can hand to NumPy's own kernels, NumPy's
  time against torch's at 256x784, and whether this machine's NumPy has the loops
  that make them worth it (``host.ENABLED``).

Times are each thread's CPU time (``time.thread_time``), medians of interleaved
blocks, so a loaded machine's descheduling does not count; torch on one thread.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import npgrad
from npgrad import bench_problems as bp


class _Ops(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.n += 1
        return func(*args, **(kwargs or {}))


_ENTRIES = {"__array_ufunc__", "__array_function__", "__getitem__", "op"}


def _numpy_calls(op, tensors) -> collections.Counter:
    seen: collections.Counter = collections.Counter()

    def hook(frame, event, arg):
        name = frame.f_code.co_name
        if event == "call" and name in _ENTRIES and "npgrad/_trace" in frame.f_code.co_filename:
            seen["operator" if name == "op" else name] += 1

    sys.setprofile(hook)
    try:
        op(*tensors)
    finally:
        sys.setprofile(None)
    return seen


def counts() -> list[str]:
    lines = ["NumPy-level calls per forward; torch ops forward/backward, auto vs torch"]
    for name, (problem, torch_fn) in bp.PROBLEMS.items():
        args = bp.data(name)
        first = bp._tree(args[0], lambda a: torch.as_tensor(a).requires_grad_())
        tensors = (first, *[bp._tree(a, torch.as_tensor) for a in args[1:]])
        wrt = bp._flat(first)
        op = npgrad.function(problem(np), name=name.split()[0], mode="auto")
        op(*tensors)
        calls = _numpy_calls(op, tensors)
        row = []
        for f in (op, torch_fn):
            with _Ops() as fwd:
                value = f(*tensors)
            with _Ops() as bwd:
                torch.autograd.grad(value, wrt)
            row.append(f"{fwd.n}/{bwd.n}")
        detail = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
        lines.append(
            f"  {name:<20} {sum(calls.values()):3d} calls ({detail}); ops auto {row[0]}, "
            f"torch {row[1]}"
        )
    return lines


def _median_us(f, blocks: int = 9) -> float:
    f()
    start = time.thread_time()
    f()
    inner = max(1, int(0.01 / max(time.thread_time() - start, 1e-7)))
    out = []
    for _ in range(blocks):
        start = time.thread_time()
        for _ in range(inner):
            f()
        out.append((time.thread_time() - start) / inner * 1e6)
    return statistics.median(out)


def kernels() -> list[str]:
    rng = np.random.default_rng(0)
    h = rng.random((256, 128), dtype=np.float32)
    w = rng.random((128, 128), dtype=np.float32)
    k = rng.random((64, 64)) + 64 * np.eye(64)
    v = rng.random(64)
    x, beta = rng.random((1000, 50)), rng.random(50)
    z = x @ beta
    cases = {
        "tanh 256x128 f32 (mlp)": (lambda: np.tanh(h), torch.tanh, (h,)),
        "matmul 256x128x128 f32 (mlp)": (lambda: h @ w, torch.matmul, (h, w)),
        "slogdet 64x64 (gp)": (lambda: np.linalg.slogdet(k), torch.linalg.slogdet, (k,)),
        "solve 64x64 (gp)": (lambda: np.linalg.solve(k, v), torch.linalg.solve, (k, v)),
        "exp 64x64 (gp)": (lambda: np.exp(k), torch.exp, (k,)),
        "mv 1000x50 (logistic)": (lambda: x @ beta, torch.mv, (x, beta)),
        "logaddexp 1000 (logistic)": (
            lambda: np.logaddexp(0.0, z),
            lambda t: torch.logaddexp(t.new_zeros(()), t),
            (z,),
        ),
    }
    lines = ["kernels, median us per call: NumPy, torch (one thread), torch/NumPy"]
    for name, (numpy_fn, torch_fn, arrays) in cases.items():
        tensors = [torch.from_numpy(a) for a in arrays]

        def in_torch(f=torch_fn, ts=tensors):
            return f(*ts)

        pairs = [(_median_us(numpy_fn), _median_us(in_torch)) for _ in range(3)]
        a, b = (statistics.median(p[i] for p in pairs) for i in (0, 1))
        lines.append(f"  {name:<30} {a:8.1f} {b:8.1f}   x{b / a:.2f}")
    return lines


def _torch_of(x):
    if type(x) is _Bare:
        return x.t
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    return x


def _bare_tree(x):
    return {k: _Bare(v) for k, v in x.items()} if isinstance(x, dict) else _Bare(x)


def _sum(a, axis=None, keepdims=False):
    return torch.sum(a) if axis is None else torch.sum(a, dim=axis, keepdim=keepdims)


def _max(a, axis=None, keepdims=False):
    return torch.amax(a) if axis is None else torch.amax(a, dim=axis, keepdim=keepdims)


def _logaddexp(a, b):
    other = b if isinstance(b, torch.Tensor) else a
    return torch.logaddexp(*(torch.as_tensor(v, dtype=other.dtype) for v in (a, b)))


_UFUNCS = {
    np.add: torch.add, np.subtract: torch.sub, np.multiply: torch.mul,
    np.true_divide: torch.div, np.power: torch.pow, np.negative: torch.neg,
    np.exp: torch.exp, np.log: torch.log, np.tanh: torch.tanh, np.logaddexp: _logaddexp,
}  # fmt: skip
_FUNCTIONS = {
    np.dot: torch.matmul, np.mean: lambda a, axis=None: torch.mean(a), np.sum: _sum,
    np.max: _max, np.linalg.slogdet: torch.linalg.slogdet, np.linalg.solve: torch.linalg.solve,
}  # fmt: skip


class _Bare:
    """Only the NumPy protocols, each call one torch op (the five problems' calls)."""

    __slots__ = ("t",)
    __array_priority__ = 1000

    def __init__(self, t):
        self.t = t

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _Bare(_UFUNCS[ufunc](*map(_torch_of, inputs)))

    def __array_function__(self, func, types, args, kwargs):
        r = _FUNCTIONS[func](*map(_torch_of, args), **kwargs)
        return tuple(map(_Bare, r)) if isinstance(r, tuple) else _Bare(r)

    def __getitem__(self, key):
        key = tuple(map(_torch_of, key)) if isinstance(key, tuple) else _torch_of(key)
        return _Bare(self.t[key])

    @property
    def shape(self):
        return tuple(self.t.shape)

    def __neg__(self):
        return _Bare(-self.t)


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("truediv", np.true_divide), ("pow", np.power)]:  # fmt: skip

    def _forward(self, other, u=_ufunc):
        return self.__array_ufunc__(u, "__call__", self, other)

    def _reflected(self, other, u=_ufunc):
        return self.__array_ufunc__(u, "__call__", other, self)

    setattr(_Bare, f"__{_name}__", _forward)
    setattr(_Bare, f"__r{_name}__", _reflected)


def floor() -> dict:
    """Value and gradient per call: torch eager, ``_Bare``, automatic mode."""
    out = {}
    for name, (problem, torch_fn) in bp.PROBLEMS.items():
        args = bp.data(name)
        first = bp._tree(args[0], lambda a: torch.as_tensor(a).requires_grad_())
        tensors = (first, *[bp._tree(a, torch.as_tensor) for a in args[1:]])
        wrt = bp._flat(first)
        fn = problem(np)
        op = npgrad.function(fn, name=name.split()[0], mode="auto")

        def bare(*ts, fn=fn):
            return fn(*map(_bare_tree, ts)).t

        variants = {"torch": torch_fn, "bare": bare, "auto": op}
        values = {k: f(*tensors) for k, f in variants.items()}
        for k, v in values.items():  # the same maths, or the floor measures nothing
            torch.testing.assert_close(v, values["torch"], msg=f"{name}: {k}")

        def step(f, ts=tensors, wrt=wrt):
            return lambda: torch.autograd.grad(f(*ts), wrt)

        steps = {k: step(f) for k, f in variants.items()}
        samples = {k: [] for k in steps}
        for _ in range(5):  # interleaved, so that the machine's drift is shared
            for k, f in steps.items():
                samples[k].append(_median_us(f, blocks=3))
        out[name] = {k: statistics.median(v) for k, v in samples.items()}
    return out


def table_floor(result: dict) -> list[str]:
    lines = ["value and gradient, median us per call: torch, bare protocols, auto (x torch)"]
    for name, r in result.items():
        t = r["torch"]
        lines.append(
            f"  {name:<20} {t:8.1f} {r['bare']:8.1f} (x{r['bare'] / t:.3f}) "
            f"{r['auto']:8.1f} (x{r['auto'] / t:.3f})"
        )
    return lines


def host_kernels() -> dict:
    from npgrad._mappings import host

    rng = np.random.default_rng(0)
    out = {"enabled": host.ENABLED, "numpy_fast_loops": host.numpy_has_fast_loops()}
    pairs = [(np.tanh, torch.tanh), (np.arctan, torch.atan), (np.log1p, torch.log1p),
             (np.expm1, torch.expm1), (np.exp, torch.exp), (np.log, torch.log)]  # fmt: skip
    for dtype in (np.float32, np.float64):
        a = rng.uniform(0.1, 2.0, size=(256, 784)).astype(dtype)
        t = torch.from_numpy(a.copy())
        for numpy_fn, torch_fn in pairs:

            def in_numpy(f=numpy_fn, a=a):
                return f(a)

            def in_torch(f=torch_fn, t=t):
                return f(t)

            times = [(_median_us(in_numpy), _median_us(in_torch)) for _ in range(3)]
            n, m = (statistics.median(p[i] for p in times) for i in (0, 1))
            out[f"{numpy_fn.__name__} {np.dtype(dtype).name}"] = {"numpy": n, "torch": m}
    return out


def table_host(result: dict) -> list[str]:
    lines = [
        "ufuncs at 256x784, median us per call: NumPy, torch, torch/NumPy; NumPy's fast "
        f"loops here: {result['numpy_fast_loops']}, host rows on: {result['enabled']}"
    ]
    for name, r in result.items():
        if isinstance(r, dict):
            lines.append(f"  {name:<16} {r['numpy']:8.1f} {r['torch']:8.1f}   "
                         f"x{r['torch'] / r['numpy']:.2f}")  # fmt: skip
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the timed tables' results here")
    options = parser.parse_args()
    torch.set_num_threads(1)
    print("\n".join(counts() + kernels()), flush=True)
    result = {"floor": floor(), "host": host_kernels(), "torch": torch.__version__,
              "numpy": np.__version__}  # fmt: skip
    print("\n".join(table_floor(result["floor"]) + table_host(result["host"])))
    if options.json:
        with open(options.json + ".tmp", "w") as f:
            json.dump(result, f, indent=1)
        import os

        os.replace(options.json + ".tmp", options.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
