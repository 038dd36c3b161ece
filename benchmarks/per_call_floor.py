"""What is left of the per-call sections' gaps once npgrad's Python is cut: the floor.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/per_call_floor.py

Two tables, on the five problems of ``npgrad.bench_problems``:

* per problem, the NumPy-level calls its code makes on traced arrays (ufuncs,
  functions, operators, indexing) and the torch ops of its forward and backward in
  automatic mode and in plain torch: the graphs are the same, so automatic mode's
  excess over torch eager is Python per NumPy call (plus one finiteness check);
* the kernels where torch's CPU implementation and NumPy's differ most at these
  problems' shapes: the NumPy-level API runs torch's kernels, HIPS autograd
  NumPy's, so these bound the API's ratio to autograd whatever npgrad's overhead.

Times are each thread's CPU time (``time.thread_time``), medians of interleaved
blocks, so a loaded machine's descheduling does not count; torch on one thread.
"""

from __future__ import annotations

import collections
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


def main() -> int:
    torch.set_num_threads(1)
    print("\n".join(counts() + kernels()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
