"""Namedtuples are containers for the NumPy-level API, as in JAX's pytrees: an
argument that is one is differentiated leaf by leaf, and the gradient, a Jacobian's
blocks, a vjp's result and aux come back as the same namedtuple class, eager and
with ``jit=True``.  Each answer is checked against the same function written with a
dict (the structure npgrad already took) and against float64 central differences.
Also here: ``vjp``'s ``vjp_fn`` answers for the primal as it was when ``vjp`` ran,
whatever the caller does to that array afterwards."""

from __future__ import annotations

import collections
import typing

import numpy as np
import pytest

import npgrad

Params = collections.namedtuple("Params", "w b")


class Typed(typing.NamedTuple):
    w: np.ndarray
    b: np.ndarray


RNG = np.random.default_rng(3)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=5)
W = RNG.normal(size=3)
B0 = np.array([0.3])
FD = dict(rtol=1e-6, atol=1e-8)  # float64 central differences, h = 1e-6
JIT = [pytest.param(False, id="eager"), pytest.param(True, id="jit")]
KINDS = [pytest.param(Params, id="namedtuple"), pytest.param(Typed, id="typing.NamedTuple")]


def loss(p, X, y):
    return np.mean((np.tanh(X @ p.w + p.b) - y) ** 2) + 0.1 * np.sum(p.w**2)


def loss_dict(p, X, y):
    return loss(Params(p["w"], p["b"]), X, y)


def central(f, leaves, i, h=1e-6):
    """d f / d leaves[i], elementwise, by central differences."""
    out = np.zeros_like(leaves[i])
    for j in np.ndindex(leaves[i].shape):
        up = [a.copy() for a in leaves]
        down = [a.copy() for a in leaves]
        up[i][j] += h
        down[i][j] -= h
        out[j] = (f(*up) - f(*down)) / (2 * h)
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("jit", JIT)
def test_the_gradient_of_a_namedtuple_is_that_namedtuple(kind, jit):
    p = kind(W, B0)
    g = npgrad.grad(loss, jit=jit)(p, X, Y)
    assert type(g) is kind
    ref = npgrad.grad(loss_dict)({"w": W, "b": B0}, X, Y)
    for name in kind._fields:
        got = getattr(g, name)
        assert type(got) is np.ndarray and got.dtype == np.float64
        assert not np.shares_memory(got, getattr(p, name))
        np.testing.assert_allclose(got, ref[name], rtol=1e-14, atol=0)
    leaves = [W, B0]
    for i, name in enumerate(kind._fields):
        numeric = central(lambda w, b: loss(kind(w, b), X, Y), leaves, i)
        np.testing.assert_allclose(getattr(g, name), numeric, **FD)


@pytest.mark.parametrize("jit", JIT)
def test_value_and_grad_and_hessian_keep_the_structure(jit):
    p = Params(W, B0)
    value, g = npgrad.value_and_grad(loss, jit=jit)(p, X, Y)
    assert value == pytest.approx(loss(p, X, Y), rel=1e-14)
    assert type(g) is Params
    h = npgrad.hessian(loss, jit=jit)(p, X, Y)
    assert type(h) is Params and type(h.w) is Params
    assert h.w.w.shape == (3, 3) and h.w.b.shape == (3, 1) and h.b.w.shape == (1, 3)
    ref = npgrad.hessian(loss_dict)({"w": W, "b": B0}, X, Y)
    for r in Params._fields:
        for c in Params._fields:
            np.testing.assert_allclose(getattr(getattr(h, r), c), ref[r][c], rtol=1e-12)
    np.testing.assert_allclose(h.w.b[:, 0], h.b.w[0], rtol=1e-12)  # symmetric


@pytest.mark.parametrize("jit", JIT)
def test_a_namedtuple_result_gives_a_jacobian_of_that_shape(jit):
    def f(x):
        return Params(np.sin(x) * 2, np.sum(x**2, keepdims=True))

    jac = npgrad.jacobian(f, jit=jit)(W)
    assert type(jac) is Params
    np.testing.assert_allclose(jac.w, np.diag(2 * np.cos(W)), rtol=1e-14)
    np.testing.assert_allclose(jac.b, 2 * W[None, :], rtol=1e-14)


def test_hvp_and_vjp_take_and_give_namedtuples():
    p = Params(W, B0)
    v = Params(np.ones(3), np.ones(1))
    hv = npgrad.hvp(loss)(p, v, X, Y)  # scipy's hessp(x, p, *args) order
    assert type(hv) is Params
    h = npgrad.hessian(loss_dict)({"w": W, "b": B0}, X, Y)
    np.testing.assert_allclose(hv.w, h["w"]["w"].sum(1) + h["w"]["b"].sum(1), rtol=1e-12)
    np.testing.assert_allclose(hv.b, h["b"]["w"].sum(1) + h["b"]["b"].sum(1), rtol=1e-12)
    out, vjp_fn = npgrad.vjp(lambda q: Params(q.w * 3, q.b**2), p)
    assert type(out) is Params
    (ct,) = vjp_fn(Params(np.ones(3), np.ones(1)))
    assert type(ct) is Params
    np.testing.assert_allclose(ct.w, np.full(3, 3.0), rtol=0)
    np.testing.assert_allclose(ct.b, 2 * B0, rtol=1e-15)


@pytest.mark.parametrize("jit", JIT)
def test_aux_in_a_namedtuple_keeps_its_class_and_its_python_numbers(jit):
    def f(x):
        return np.sum(x**2), Params(x * 2, 3.0)

    (value, aux), g = npgrad.value_and_grad(f, has_aux=True, jit=jit)(W)
    assert type(aux) is Params and type(aux.w) is np.ndarray
    assert type(aux.b) is float and aux.b == 3.0  # a number as it came, jitted too
    np.testing.assert_allclose(aux.w, 2 * W, rtol=0)
    np.testing.assert_allclose(g, 2 * W, rtol=1e-15)


def test_a_bad_leaf_inside_a_namedtuple_is_named_by_its_field():
    with pytest.raises(TypeError, match=r"argument 0 \(p\)\.b is an array of dtype int64"):
        npgrad.grad(loss)(Params(W, np.array([1])), X, Y)


def test_a_namedtuple_data_argument_is_read_as_it_is():
    Data = collections.namedtuple("Data", "X y")

    def f(w, d):
        return np.sum((d.X @ w - d.y) ** 2)

    g = npgrad.grad(f)(W, Data(X, Y))
    np.testing.assert_allclose(g, 2 * X.T @ (X @ W - Y), rtol=1e-13)


def test_vjp_fn_answers_for_the_primal_as_it_was():
    x = np.array([1.0, 2.0, 3.0])
    out, vjp_fn = npgrad.vjp(lambda x: np.sin(x) * x, x)
    before = vjp_fn(np.ones(3))[0]
    x += 10.0  # the caller moves on, as an optimiser's step does
    (after,) = vjp_fn(np.ones(3))
    want = np.sin([1.0, 2.0, 3.0]) + np.array([1.0, 2.0, 3.0]) * np.cos([1.0, 2.0, 3.0])
    np.testing.assert_allclose(before, want, rtol=1e-15)
    np.testing.assert_allclose(after, want, rtol=1e-15)
    np.testing.assert_array_equal(out, np.sin([1.0, 2.0, 3.0]) * np.array([1.0, 2.0, 3.0]))
