"""The eager fast route of automatic mode gives exactly what the general route gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad
from npgrad import _dtypes
from npgrad._call import Call
from npgrad._modes.auto import run_fast, run_traced
from npgrad._trace import _state

from ..conftest import FLOAT32_VS_FLOAT64
from ..test_trace import EXPRESSIONS, _inputs

ROUTE_CASES = {
    "mse-loss": npgrad.loss(lambda a, b: np.mean((a - b) ** 2), name="mse_r"),
    "huber-loss": npgrad.loss(
        lambda a, b: np.mean(np.where(np.abs(a - b) < 1, 0.5 * (a - b) ** 2, np.abs(a - b) - 0.5))
    ),
    "array": npgrad.function(lambda a, b: np.tanh(a) * b, name="arr"),
    "tuple-with-int": npgrad.function(lambda a, b: (a * b, np.argmax(a, axis=1)), name="tup"),
    "float64-result": npgrad.function(lambda a, b: np.sum(a.astype(np.float64) * b), name="f64"),
    "constant": npgrad.function(lambda a, b: 1.5, name="const"),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", sorted(ROUTE_CASES))
def test_fast_route_gives_what_the_general_route_gives(name, dtype):
    f = ROUTE_CASES[name]
    g = torch.Generator().manual_seed(0)
    a, b = (torch.rand(3, 4, generator=g).to(dtype).requires_grad_() for _ in range(2))
    fast = run_fast(f, (a, b))
    general = run_traced(Call.build(f, (a, b), {}))
    assert fast is not None  # the plain call takes the fast route
    fast, general = (r if isinstance(r, tuple) else (r,) for r in (fast, general))
    for x, y in zip(fast, general):
        assert x.dtype == y.dtype and torch.equal(x, y)
    diff = [o for o in fast if o.requires_grad]
    if diff:
        grads = torch.autograd.grad(sum(o.sum() for o in diff), (a, b), allow_unused=True)
        ref = torch.autograd.grad(
            sum(o.sum() for o in general if o.requires_grad), (a, b), allow_unused=True
        )
        for x, y in zip(grads, ref):
            assert (x is None and y is None) or torch.equal(x, y)


@pytest.mark.parametrize("kind", ["dict", "list", "tuple"])
def test_fast_route_with_containers_gives_what_the_general_route_gives(kind):
    def mlp(p, x, y):
        w, b = (p["w"], p["b"]) if kind == "dict" else p
        z = np.dot(x, w) + b
        return np.mean((z - np.max(z, axis=1, keepdims=True))[np.arange(len(y)), y])

    f = npgrad.function(mlp, name="mlp")
    g = torch.Generator().manual_seed(0)
    w, b = torch.rand(3, 4, generator=g), torch.rand(4, generator=g)
    x, y = torch.rand(5, 3, generator=g), torch.tensor([0, 1, 2, 3, 0])
    grads = []
    for route in ("fast", "general"):
        leaves = [w.clone().requires_grad_(), b.clone().requires_grad_()]
        p = {"w": leaves[0], "b": leaves[1]} if kind == "dict" else leaves
        p = tuple(p) if kind == "tuple" else p
        out = (
            run_fast(f, (p, x, y)) if route == "fast" else run_traced(Call.build(f, (p, x, y), {}))
        )
        assert out is not None  # the fast route takes parameters in a container
        grads.append((out, *torch.autograd.grad(out, leaves)))
    for a, b in zip(*grads):
        assert a.dtype == b.dtype and torch.equal(a, b)
    # what the fast route declines there: mixed float dtypes, a nested container
    assert run_fast(f, ({"w": w, "b": b.double()}, x, y)) is None
    assert run_fast(f, ([[w], b], x, y)) is None


def test_calls_the_fast_route_declines_take_the_general_route():
    f = ROUTE_CASES["array"]
    x = torch.rand(3)
    for args in [
        (x, 2.0),  # a non-tensor argument
        (x, x.double()),  # mixed dtypes
        (torch.arange(3), x),  # an integer first argument
    ]:
        assert run_fast(f, args) is None
        assert torch.is_tensor(f(*args))
    loss = ROUTE_CASES["mse-loss"]
    assert run_fast(loss, (x, x[:2])) is None  # shapes differ: the general route refuses
    with pytest.raises(ValueError, match="has shape"):
        loss(x, x[:2])
    assert run_fast(loss, (x[:0], x[:0])) is None
    with pytest.raises(ValueError, match="is empty"):
        loss(x[:0], x[:0])


# every expression but two: "methods" asks for float64 by name (astype), and
# torch.quantile ("median-quantile") computes its ranks in float64 on the CPU itself
@pytest.mark.parametrize("name", sorted(set(EXPRESSIONS) - {"methods", "median-quantile"}))
def test_no_float64_appears_on_a_device_without_it(name, monkeypatch):
    # MPS has no float64: NumPy's float64 constants and integer promotions must come
    # as float32 there. The CPU stands in for such a device; every op's results are
    # watched, and the value must still be NumPy's to float32 accuracy.
    from torch.utils._python_dispatch import TorchDispatchMode

    class Dtypes(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for r in out if isinstance(out, (tuple, list)) else (out,):
                if isinstance(r, torch.Tensor):
                    self.seen.add(r.dtype)
            return out

    for module in (_state, _dtypes):
        monkeypatch.setattr(module, "NO_FLOAT64", frozenset({"cpu"}))
    monkeypatch.setattr(_dtypes, "_RESULT", {})  # promotions cached for the real CPU
    expr = EXPRESSIONS[name]
    x, y = (v.float().requires_grad_() for v in _inputs())
    with Dtypes() as watch:
        got = npgrad.function(expr, name=name)(x, y)
        got.backward()
    assert not watch.seen & {torch.float64, torch.complex128}, watch.seen
    want = expr(x.detach().double().numpy(), y.detach().double().numpy())
    torch.testing.assert_close(got.double(), torch.as_tensor(want), **FLOAT32_VS_FLOAT64)


_OPERANDS = {
    "f16": torch.float16, "f32": torch.float32, "f64": torch.float64,
    "i8": torch.int8, "u8": torch.uint8, "i64": torch.int64, "bool": torch.bool,
}  # fmt: skip


@pytest.mark.parametrize("ufunc", [np.add, np.subtract, np.multiply, np.true_divide, np.power])
@pytest.mark.parametrize("left", sorted(_OPERANDS))
@pytest.mark.parametrize("right", sorted(_OPERANDS))
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((), (3,)), ((3,), ())], ids=str)
@pytest.mark.parametrize("numpy_right", [False, True], ids=["traced", "ndarray"])
def test_the_quick_ufunc_gives_what_the_ufunc_core_gives(ufunc, left, right, shapes, numpy_right):
    """quick_ufunc skips promotion work (an integer tensor beside a float one goes to
    torch uncast, a NumPy array is taken as a tensor): dtypes and values as the
    general core's, for 0-d arrays too (torch promotes a 0-d float more weakly)."""
    from npgrad._trace._array import TracedArray, apply_ufunc, quick_ufunc
    from npgrad._trace._engine import tracing
    from npgrad._trace._registry import UFUNCS

    g = torch.Generator().manual_seed(0)
    a, b = (
        (torch.rand(s, generator=g) * 3 + 1).to(_OPERANDS[d]) for s, d in zip(shapes, (left, right))
    )
    x = TracedArray(a)
    y = b.numpy() if numpy_right else TracedArray(b)
    row = UFUNCS[ufunc]
    with tracing("q", torch.device("cpu")):
        try:
            want = apply_ufunc(row, (x, y), {})
        except (TypeError, ValueError, RuntimeError):
            return  # NumPy or torch refuses the pair: the quick route declines it too
        for inputs in ((x, y), (y, x)):
            ref = want if inputs[0] is x else apply_ufunc(row, inputs, {})
            got = quick_ufunc(row, inputs)
            if got is not None:
                assert got.t.dtype == ref.t.dtype
                torch.testing.assert_close(got.t, ref.t, rtol=0, atol=0, equal_nan=True)


def test_the_quick_ufunc_takes_the_common_cases():
    # the comparison above holds only where quick_ufunc answers: it must answer here
    from npgrad._trace._array import TracedArray, quick_ufunc
    from npgrad._trace._engine import tracing
    from npgrad._trace._registry import UFUNCS

    x = TracedArray(torch.rand(3, 4))
    y = TracedArray(torch.rand(3, 4))
    with tracing("q", torch.device("cpu")):
        for ufunc in (np.add, np.subtract, np.multiply, np.true_divide):
            for inputs in ((x, y), (x, 2.0), (x, y.t.numpy())):
                assert quick_ufunc(UFUNCS[ufunc], inputs) is not None, (ufunc, inputs)
