"""How compiled code finds what a function captures, beyond plain closures and
globals: views of a captured array, bound methods, callable instances, partials,
decorated functions, class attributes, string and tuple options, and values NumPy
computes from a captured array. After a change each compiled answer equals the
eager one (``jit="strict"`` raises where it would fall back)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import npgrad

X = np.ones((3, 2))
MODE = "l2"
TUP = (1.0, 2.0)
W = np.ones((2, 2))


def _same_after(f, change, w):
    """jit's gradient before and after ``change()`` equals the eager one, both times
    on the fast path's second call too."""
    g, eager = npgrad.grad(f, jit="strict"), npgrad.grad(f)
    for _ in range(2):
        np.testing.assert_allclose(g(w), eager(w))
    change()
    for _ in range(2):
        np.testing.assert_allclose(g(w), eager(w))
    return g


@pytest.mark.parametrize(
    "expr", ["w @ X.T", "w @ X[:, 0:2].T", "X[:, 0] * w[0]", "X[1] * w", "w @ X[::1].T"]
)
def test_jit_views_of_a_captured_array_stay_live(expr):
    global X
    X = np.ones((3, 2))
    f = eval(f"lambda w: np.sum(({expr}) ** 2)")
    w = np.array([1.0, 2.0])

    def write():
        X[:] = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]

    _same_after(f, write, w)

    def rebind():
        global X
        X = np.full((3, 2), -2.0)

    _same_after(f, rebind, w)
    X = np.ones((3, 2))


class _Model:
    lam = 0.5  # a class attribute, read through self

    def __init__(self) -> None:
        self.X = np.ones(2)

    def loss(self, w):
        return np.sum(self.X * w**2) + self.lam * np.sum(w)

    def __call__(self, w):
        return np.sum(self.X * w**3)


def test_jit_bound_method_and_callable_instance():
    m = _Model()
    w = np.array([1.0, 2.0])

    def change():
        m.X = np.array([3.0, -1.0])
        m.lam = 2.0

    _same_after(m.loss, change, w)
    m = _Model()
    _same_after(m, lambda: m.X.__setitem__(slice(None), 4.0), w)


def test_jit_attribute_read_by_a_helper_method():
    # self.loss calls self.predict, which reads self.Y: the loss reads it too
    class Model:
        def __init__(self):
            self.Y, self.Z = np.ones(2), np.ones(2)

        def predict(self, w):
            return w * self.Y

        def loss(self, w):
            return np.sum(self.predict(w) ** 2 * self.Z)

    m, w = Model(), np.array([0.5, 1.5])

    def write():
        m.Y[:] = 3.0

    _same_after(m.loss, write, w)


def test_jit_partial_arguments_and_a_wraps_decorated_function():
    def base(w, A, scale=1.0):
        return scale * np.sum(A * w**2)

    A = np.ones(2)
    w = np.array([1.0, 2.0])
    _same_after(functools.partial(base, A=A), lambda: A.__setitem__(slice(None), 5.0), w)

    def first(A, w):
        return np.sum(A * w**2)

    B = np.ones(2)
    _same_after(functools.partial(first, B), lambda: B.__setitem__(0, 3.0), w)

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*a):
            return fn(*a)

        return wrapper

    _same_after(deco(lambda v: np.sum(X * v)), lambda: X.__setitem__(0, 7.0), np.ones(2))
    X[:] = 1.0


class _Consts:
    A = np.ones(2)


def test_jit_class_attribute():
    w = np.array([1.0, 2.0])

    def change():
        _Consts.A = np.array([2.0, 3.0])

    _same_after(lambda v: np.sum(_Consts.A * v**2), change, w)


def test_jit_string_and_tuple_options():
    global MODE, TUP
    w = np.array([1.0, -2.0])

    def mode():
        global MODE
        MODE = "l1"

    _same_after(lambda v: np.sum(v**2) if MODE == "l2" else np.sum(np.abs(v)), mode, w)

    def tup():
        global TUP
        TUP = (5.0, 6.0)

    _same_after(lambda v: TUP[0] * v[0] + TUP[1] * v[1] ** 2, tup, w)
    MODE, TUP = "l2", (1.0, 2.0)


def test_jit_a_derived_array_recompiles_then_warns_never_stale():
    A = np.ones(2)
    w = np.array([1.0, 2.0])
    f = lambda v: np.sum((A * 2) * v**2)  # noqa: E731 - NumPy computes A * 2 at trace
    _same_after(f, lambda: A.__setitem__(slice(None), 3.0), w)
    g = npgrad.grad(f, jit=True)
    with pytest.warns(npgrad.JitFallbackWarning, match="arrays it captures changed"):
        for i in range(12):
            A[:] = float(i)
            np.testing.assert_allclose(g(w), 4 * i * w)


# ---------------------------------------------------------------- torch.compile
def _compiled_matches_eager(op, *args):
    cs = torch.compile(lambda *a: op(*a), fullgraph=True)
    xs = [a.detach().clone().requires_grad_(a.requires_grad) for a in args]
    ys = [a.detach().clone().requires_grad_(a.requires_grad) for a in args]
    got, want = cs(*xs), op(*ys)
    torch.testing.assert_close(got, want)
    got.backward()
    want.backward()
    for x, y in zip(xs, ys):
        if x.requires_grad:
            torch.testing.assert_close(x.grad, y.grad)
    return cs


def test_compiled_view_of_a_captured_array_and_a_bound_method():
    global W
    W = np.ones((2, 2))

    @npgrad.loss
    def loss(p, t):
        return np.mean((p @ W.T - t) ** 2)

    p = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)
    t = torch.zeros(3, 2, dtype=torch.float64)
    cs = _compiled_matches_eager(loss, p, t)
    W[:] = [[1.0, 2.0], [3.0, 4.0]]
    torch.testing.assert_close(cs(p, t), loss(p, t))
    assert loss.compiled_route == "composite"
    W = np.ones((2, 2))

    m = _Model()
    op = npgrad.function(m.loss)
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    cs = _compiled_matches_eager(op, x)
    m.X, m.lam = np.array([3.0, -1.0]), 2.0
    torch.testing.assert_close(cs(x), op(x))


def test_compiled_string_and_tuple_options():
    global MODE, TUP
    op = npgrad.function(
        lambda x: (np.sum(x**2) if MODE == "l2" else np.sum(np.abs(x))) + TUP[0] * x[0],
        name="options",
    )
    x = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    cs = _compiled_matches_eager(op, x)
    MODE, TUP = "l1", (5.0, 6.0)
    torch.testing.assert_close(cs(x), op(x))
    MODE, TUP = "l2", (1.0, 2.0)


def test_compiled_a_derived_array_takes_the_opaque_route():
    A = np.ones(2)
    op = npgrad.function(lambda x: np.sum((A * 2) * x**2), name="derived")
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    cs = _compiled_matches_eager(op, x)
    assert op.compiled_route == "opaque"
    A[:] = 3.0
    torch.testing.assert_close(cs(x), op(x))
