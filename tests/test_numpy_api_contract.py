"""The NumPy-level API's contract at its edges, as users' programs meet them: copies
of traced arrays, npgrad ops on plain arrays, traced arrays that escape the call,
what ``has_aux`` returns, and the errors for bad inputs and devices.  Every gradient
is checked against one derived by hand."""

from __future__ import annotations

import collections
import copy
import dataclasses
import pickle
import types

import numpy as np
import pytest
import torch

import npgrad

X = np.array([0.5, 1.5, -2.0])


# --- copies of a traced array -----------------------------------------------------
@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_a_copy_keeps_the_gradient_and_is_a_copy(how):
    def f(p):
        q = how(p)
        q[0] = 10.0  # a write into the copy must not reach p
        return np.sum(q**2) + np.sum(p**3)

    value, g = npgrad.value_and_grad(f)(X)
    expect = 2 * X + 3 * X**2
    expect[0] = 3 * X[0] ** 2
    np.testing.assert_allclose(g, expect, rtol=1e-15)
    assert value == pytest.approx(100 + X[1] ** 2 + X[2] ** 2 + np.sum(X**3), rel=1e-15)


def test_a_deep_copy_of_parameters_keeps_the_gradient_and_shared_arrays():
    def f(P):
        Q = copy.deepcopy({**P, "again": P["w"]})
        assert Q["again"] is Q["w"]  # one array referenced twice stays one array
        Q["w"] = Q["w"] * 2.0
        return np.sum(Q["w"] ** 2) + np.sum(Q["again"]) + np.sum(P["b"])

    g = npgrad.grad(f)({"w": X, "b": X})
    np.testing.assert_allclose(g["w"], 8 * X + 1, rtol=1e-15)
    np.testing.assert_allclose(g["b"], np.ones(3), rtol=1e-15)


def test_pickling_a_traced_array_is_refused_not_detached():
    with pytest.raises(npgrad.TraceError, match=r"grad\(.*<lambda>\).*pickling a traced array"):
        npgrad.grad(lambda p: np.sum(pickle.loads(pickle.dumps(p)) ** 2))(X)


# --- an npgrad op meeting plain NumPy values -----------------------------------------
@npgrad.function
def _softplus(z):
    return np.logaddexp(0.0, z)


@_softplus.backward
def _(g, z, out):
    return g / (1 + np.exp(-z))


def test_an_op_on_a_constant_inside_grad_is_a_constant():
    # softplus's input does not depend on the differentiated argument
    A = np.arange(6.0).reshape(2, 3) / 6

    def f(w, prior):
        return np.sum(_softplus(A @ w)) + np.sum((w - prior) ** 2)

    w, prior = np.array([0.1, -0.2, 0.3]), np.zeros(3)
    g_prior = npgrad.grad(f, argnums=1)(w, prior)
    np.testing.assert_allclose(g_prior, -2 * (w - prior), rtol=1e-15)
    g_w = npgrad.grad(f)(w, prior)
    expect = A.T @ (1 / (1 + np.exp(-(A @ w)))) + 2 * (w - prior)
    np.testing.assert_allclose(g_w, expect, rtol=1e-14)


def test_an_op_called_on_numpy_values_returns_numpy():
    out = _softplus(np.array([0.0, 1.0]))
    assert type(out) is np.ndarray
    np.testing.assert_allclose(out, np.log1p(np.exp([0.0, 1.0])), rtol=1e-15)


# --- a traced array that escapes the call --------------------------------------------
@pytest.mark.parametrize(
    "use",
    [np.mean, np.asarray, lambda z: z + 1.0, lambda z: z.sum(), lambda z: np.exp(z)],
    ids=["function", "asarray", "operator", "method", "ufunc"],
)
def test_a_traced_array_used_after_the_call_is_refused(use):
    kept = []

    def f(x):
        z = x * 2.0
        kept.append(z)  # a global list, an object's attribute, a closure...
        return np.sum(z)

    np.testing.assert_allclose(npgrad.grad(f)(X), 2.0 * np.ones(3), rtol=1e-15)
    with pytest.raises(npgrad.TraceError, match="used after the call that traced it"):
        use(kept[0])


# --- what has_aux returns, and containers the API does not walk ------------------
@dataclasses.dataclass
class _Out:
    pred: object


@pytest.mark.parametrize(
    "wrap", [_Out, lambda a: types.SimpleNamespace(pred=a)], ids=["dataclass", "namespace"]
)
def test_aux_holding_a_traced_array_in_an_object_is_refused(wrap):
    f = npgrad.value_and_grad(lambda x: (np.sum(x**2), wrap(x * 2)), has_aux=True)
    with pytest.raises(TypeError, match=r"has_aux=True.*attribute 'pred' of a"):
        f(X)


def test_aux_in_namedtuples_and_dicts_comes_back_as_numpy():
    Pair = collections.namedtuple("Pair", "a b")
    f = npgrad.value_and_grad(lambda x: (np.sum(x**2), {"p": Pair(x * 2, 3.0)}), has_aux=True)
    (value, aux), g = f(X)
    a, b = aux["p"]
    assert type(a) is np.ndarray and b == 3.0
    np.testing.assert_allclose(a, 2 * X, rtol=0)
    np.testing.assert_allclose(g, 2 * X, rtol=1e-15)


def test_a_tuple_subclass_without_fields_is_refused_with_what_to_pass():
    class Pair(tuple):
        pass

    with pytest.raises(TypeError, match=r"is a Pair \(a tuple subclass with no fields.*namedtuple"):
        npgrad.grad(lambda p: np.sum(p[0] ** 2))(Pair((X, X)))


# --- the errors for bad devices and integer inputs ---------------------------------
BAD_DEVICES = ["gpu", None, 3.5, "meta"] + ([] if torch.cuda.is_available() else ["cuda"])


@pytest.mark.parametrize("device", BAD_DEVICES, ids=repr)
@pytest.mark.parametrize(
    "transform", [npgrad.grad, npgrad.value_and_grad, npgrad.jacobian, npgrad.hessian, npgrad.hvp]
)
def test_a_bad_device_is_refused_when_the_transform_is_made(transform, device):
    name = transform.__name__
    with pytest.raises(ValueError, match=rf"npgrad\.{name}\(.*<lambda>\): device="):
        transform(lambda x: np.sum(x**2), device=device)


def test_vjp_refuses_a_bad_device_naming_itself():
    with pytest.raises(ValueError, match=r"npgrad\.vjp\(.*<lambda>\): device= takes"):
        npgrad.vjp(lambda x: x * 2, X, device="gpu")


@pytest.mark.parametrize("transform", [npgrad.grad, npgrad.jacobian, npgrad.hessian])
def test_an_integer_input_error_names_the_argument(transform):
    def loss(w):
        return np.sum(w**2)

    with pytest.raises(TypeError, match=r"argument 0 \(w\) is an array of dtype int64"):
        transform(loss)(np.arange(3))


# --- jacobians: batched backward passes, or one pass a row where a node cannot batch
def test_a_tall_jacobian_matches_the_derivative_by_hand():
    t = np.linspace(0.0, 5.0, 700)  # more rows than one batch
    p = np.array([2.0, 0.7, 1.3, 0.2])

    def r(p):
        return p[0] * np.exp(-p[1] * t) * np.cos(p[2] * t + p[3])

    e, c, s = np.exp(-p[1] * t), np.cos(p[2] * t + p[3]), np.sin(p[2] * t + p[3])
    expect = np.stack([e * c, -p[0] * t * e * c, -p[0] * t * e * s, -p[0] * e * s], axis=1)
    np.testing.assert_allclose(npgrad.jacobian(r)(p), expect, rtol=1e-13, atol=1e-15)


def test_a_jacobian_through_an_op_with_a_numpy_backward_is_right():
    # the op's NumPy backward cannot run batched: the rows come one pass each
    x = np.array([0.3, -1.2, 2.0])
    J = npgrad.jacobian(lambda v: _softplus(v * 2.0))(x)
    np.testing.assert_allclose(J, np.diag(2.0 / (1 + np.exp(-2.0 * x))), rtol=1e-15)
