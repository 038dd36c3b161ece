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
import warnings

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


def test_a_namedtuple_data_argument_is_the_callers_own_object():
    class Data(collections.namedtuple("Data", "X y")):
        pass  # no __slots__: an instance may carry attributes

    d = Data(X, Y)
    d.scale = 3.0
    seen = []

    def f(w, d):
        seen.append(d)
        return np.sum((d.X @ w - d.y) ** 2) * getattr(d, "scale", 1.0)

    g = npgrad.grad(f)(W, d)
    assert seen[0] is d  # not a rebuilt copy without its attribute
    np.testing.assert_allclose(g, 3.0 * 2 * X.T @ (X @ W - Y), rtol=1e-13)
    plain = collections.namedtuple("Plain", "X y")(X, Y)
    npgrad.grad(lambda w, p: seen.append(p) or np.sum(p.X @ w))(W, plain)
    assert seen[-1] is plain


def test_a_namedtuple_with_attributes_is_refused_as_a_differentiated_argument():
    class Params(collections.namedtuple("Params", "w b")):
        pass

    p = Params(W, B0)
    p.lr = 0.1  # a rebuilt Params (the gradient) could not keep it
    with pytest.raises(
        TypeError, match=r"argument 0 \(p\) is a Params \(a tuple subclass with instance attributes"
    ):
        npgrad.grad(lambda p: np.sum(p.w**2))(p)


def test_vjps_value_is_no_view_of_the_kept_primal():
    x = np.array([1.0, 2.0])
    out, vjp_fn = npgrad.vjp(lambda x: (x, np.sin(x)), x)
    out[0][:] = 100.0  # the caller writes into a result
    (g,) = vjp_fn((np.zeros(2), np.ones(2)))
    np.testing.assert_allclose(g, np.cos([1.0, 2.0]), rtol=1e-15)


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


# --- the structure is the one given, matched by key and field ------------------------
def test_vjp_fn_keeps_the_structure_it_was_given():
    params = {"w": np.array([1.0, 2.0]), "b": np.array([10.0, 20.0])}
    layers = [np.array([1.0]), np.array([3.0])]
    out, vjp_fn = npgrad.vjp(
        lambda p, ls: p["w"] * 2.0 + p["b"] * 5.0 + ls[0] * ls[1], params, layers
    )
    params["w"] = params.pop("w") - 0.1  # an optimiser's update that re-inserts a key
    del params["b"]
    layers.append(np.array([9.0]))
    gp, gl = vjp_fn(np.ones(2))
    assert list(gp) == ["w", "b"] and len(gl) == 2
    np.testing.assert_array_equal(gp["w"], [2.0, 2.0])
    np.testing.assert_array_equal(gp["b"], [5.0, 5.0])
    np.testing.assert_array_equal(gl[0], [6.0])  # d/d ls[0] of sum(ls[0] * ls[1] * [1, 1])
    np.testing.assert_array_equal(gl[1], [2.0])


def test_a_function_that_edits_its_argument_gets_the_gradient_of_what_it_was_given():
    def f(p):
        w = p.pop("w")  # the caller's dict, edited in the call
        p["w"] = w
        return np.sum(w**2) + 3 * np.sum(p["b"])

    g = npgrad.grad(f)({"w": np.array([1.0, 2.0]), "b": np.array([1.0])})
    assert list(g) == ["w", "b"]
    np.testing.assert_array_equal(g["w"], [2.0, 4.0])
    np.testing.assert_array_equal(g["b"], [3.0])


def hvp_of_dict():
    return npgrad.hvp(lambda d: np.sum(d["a"] ** 2) + np.sum(d["b"] ** 4))


D = {"a": np.ones(2), "b": np.ones(2)}


def test_a_tangent_dict_is_matched_by_key_not_by_order():
    h = hvp_of_dict()  # the Hessian is diag(2, 2) for a, diag(12, 12) for b
    one = h(D, {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])})
    other = h(D, {"b": np.array([0.0, 1.0]), "a": np.array([1.0, 0.0])})
    for got in (one, other):
        assert list(got) == ["a", "b"]
        np.testing.assert_array_equal(got["a"], [2.0, 0.0])
        np.testing.assert_array_equal(got["b"], [0.0, 12.0])


@pytest.mark.parametrize(
    "bad",
    [{"x": np.ones(2), "y": np.ones(2)}, {"a": np.ones(2)}, [np.ones(2), np.ones(2)], np.ones(4)],
    ids=["other keys", "a key missing", "a list", "an array"],
)
def test_a_tangent_of_another_structure_is_refused_naming_it(bad):
    with pytest.raises(
        ValueError, match=r"npgrad\.hvp\(.*\): v should be a dict with the keys 'a', 'b'"
    ):
        hvp_of_dict()(D, bad)


def test_a_cotangent_is_matched_by_field_and_key():
    Out = collections.namedtuple("Out", "u v")
    Swapped = collections.namedtuple("Swapped", "v u")
    out, vjp_fn = npgrad.vjp(lambda x: Out(x * 1.0, {"p": x * 10.0, "q": x}), np.ones(2))
    assert type(out) is Out
    want = 1.0 * 1 + 10.0 * 2 + 3.0  # cotangents u = 1, v["p"] = 2, v["q"] = 3
    for ct in (
        Out(np.ones(2), {"p": np.full(2, 2.0), "q": np.full(2, 3.0)}),
        Swapped(v={"q": np.full(2, 3.0), "p": np.full(2, 2.0)}, u=np.ones(2)),
        (np.ones(2), {"q": np.full(2, 3.0), "p": np.full(2, 2.0)}),  # a plain tuple: by position
    ):
        (g,) = vjp_fn(ct)
        np.testing.assert_array_equal(g, [want, want])
    with pytest.raises(
        ValueError, match=r"the cotangent\.v should be a dict with the keys 'p', 'q'"
    ):
        vjp_fn(Out(np.ones(2), {"p": np.ones(2), "r": np.ones(2)}))
    with pytest.raises(ValueError, match=r"the cotangent should be an Out with the fields u, v"):
        vjp_fn(collections.namedtuple("Other", "a b")(np.ones(2), np.ones(2)))


def test_a_list_of_numbers_is_a_cotangent_for_an_array():
    _, vjp_fn = npgrad.vjp(lambda x: x * 2.0, np.ones(3))
    np.testing.assert_array_equal(vjp_fn([1.0, 2.0, 3.0])[0], [2.0, 4.0, 6.0])


def test_a_namedtuple_class_that_converts_its_fields_is_rebuilt_without_them():
    class Checked(collections.namedtuple("Checked", "w b")):
        def __new__(cls, w, b):  # np.asarray would drop a traced array's gradient
            return super().__new__(cls, np.asarray(w, float), np.asarray(b, float))

    g = npgrad.grad(lambda p: np.sum(p.w**2) + np.sum(p.b))(Checked([1.0, 2.0], [0.0]))
    assert type(g) is Checked
    np.testing.assert_array_equal(g.w, [2.0, 4.0])
    np.testing.assert_array_equal(g.b, [1.0])


# --- jit: a number argument that changes ----------------------------------------------
def test_jit_runs_a_function_of_a_changing_number_eagerly_past_a_few_values_naming_it():
    def f(x, step):
        return np.sum(np.sin(x)) * step

    g = npgrad.grad(f, jit=True)
    x = np.array([0.5, 1.0])
    got = []
    with pytest.warns(
        npgrad.JitFallbackWarning,
        match=r"argument 1 \(step\) took more than 8 values.*np\.asarray",
    ):
        for i in range(10):
            got.append(g(x, 1.0 + i))
    for i, r in enumerate(got):  # every answer right, compiled or eager
        np.testing.assert_allclose(r, np.cos(x) * (1.0 + i), rtol=1e-14)

    def by_name(x, mode="sin"):
        return np.sum(getattr(np, mode)(x))

    h = npgrad.grad(by_name, jit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a string option: a kernel each, no float advice
        for mode in ["sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "arctan", "log1p"]:
            np.testing.assert_allclose(
                h(x, mode=mode), npgrad.grad(by_name)(x, mode=mode), rtol=1e-14
            )
    strict = npgrad.grad(f, jit="strict")
    for i in range(8):
        strict(x, 1.0 + i)
    with pytest.raises(npgrad.NpgradError, match=r"argument 1 \(step\) took more than 8"):
        strict(x, 99.0)


def test_jit_says_why_a_data_arrays_value_cannot_be_read_and_runs_it_eagerly():
    def f(x, y):
        return np.sum(x * y), float(np.mean(y))  # y: data, read as a number for aux

    eager = npgrad.value_and_grad(f, has_aux=True)(np.ones(3), np.arange(3.0))
    g = npgrad.value_and_grad(f, has_aux=True, jit=True)
    with pytest.warns(
        npgrad.JitFallbackWarning,
        match=r"float\(\) on a traced array .* reads its value, which a compiled trace",
    ):
        got = g(np.ones(3), np.arange(3.0))
    assert got[0] == eager[0] and type(got[0][1]) is float
    np.testing.assert_array_equal(got[1], eager[1])


def test_jit_bounds_an_int_argument_too_naming_it():
    def f(x, n):
        return np.sum(x**n)

    g = npgrad.grad(f, jit=True)
    x = np.array([0.5, 2.0])
    with pytest.warns(npgrad.JitFallbackWarning, match=r"argument 1 \(n\) took more than 8 values"):
        for n in range(1, 11):
            np.testing.assert_allclose(g(x, n), n * x ** (n - 1), rtol=1e-14)
