"""npgrad.grad and friends: NumPy in, NumPy out, exact derivatives.

Every derivative is compared with an independent reference: a gradient derived by
hand and written in NumPy, float64 central differences (scipy.optimize.check_grad /
approx_fprime), SciPy's own Rosenbrock derivatives, or torch.func on the same
maths written in torch.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.optimize as so
import scipy.special
import torch

import npgrad

from .conftest import CUDA, DEVICES, REPO

RNG = np.random.default_rng(0)
A = RNG.normal(size=(4, 4))
B = RNG.normal(size=4)
X5 = RNG.uniform(0.2, 1.2, size=5)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# name: (f, gradient derived by hand, input)
ANALYTIC = {
    "quadratic-form": (
        lambda x: 0.5 * x @ A @ x + B @ x,
        lambda x: 0.5 * (A + A.T) @ x + B,
        RNG.normal(size=4),
    ),
    "logsumexp": (
        lambda x: np.log(np.sum(np.exp(x - np.max(x)))) + np.max(x),
        lambda x: np.exp(x) / np.sum(np.exp(x)),
        RNG.normal(size=6),
    ),
    "sin-cos": (
        lambda x: np.sum(np.sin(x) * np.cos(x)),
        lambda x: np.cos(2 * x),
        RNG.normal(size=(2, 3)),
    ),
    "power-log": (
        lambda x: np.sum(x**3 * np.log(x)),
        lambda x: 3 * x**2 * np.log(x) + x**2,
        X5,
    ),
    "softplus-mean": (
        lambda x: np.mean(np.logaddexp(0.0, x)),
        lambda x: _sigmoid(x) / x.size,
        RNG.normal(size=7),
    ),
}


@pytest.mark.parametrize("name", list(ANALYTIC))
def test_grad_matches_the_hand_derived_gradient(name):
    f, df, x = ANALYTIC[name]
    g = npgrad.grad(f)(x)
    assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == x.shape
    np.testing.assert_allclose(g, df(x), rtol=1e-12, atol=1e-12)
    flat = lambda v: f(v.reshape(x.shape))  # noqa: E731
    assert so.check_grad(flat, lambda v: npgrad.grad(f)(v.reshape(x.shape)).ravel(),
                         x.ravel()) < 1e-6  # fmt: skip


@pytest.mark.parametrize("name", list(ANALYTIC))
def test_value_and_grad_gives_numpys_value(name):
    f, df, x = ANALYTIC[name]
    value, g = npgrad.value_and_grad(f)(x)
    assert isinstance(value, np.float64)
    assert value == pytest.approx(float(f(x)), rel=1e-14)
    np.testing.assert_allclose(g, df(x), rtol=1e-12, atol=1e-12)


def test_logistic_regression_with_integer_labels():
    X = RNG.normal(size=(30, 4))
    y = (RNG.uniform(size=30) < 0.5).astype(np.int64)
    w = RNG.normal(size=4)

    def loss(w, X, y, lam):
        z = X @ w
        return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(w**2)

    g = npgrad.grad(loss)(w, X, y, 0.3)
    expected = X.T @ (_sigmoid(X @ w) - y) / len(y) + 0.3 * w
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------ types and shapes
@pytest.mark.parametrize(
    "x, kind, dtype",
    [
        pytest.param(np.array([0.5, 1.5], np.float32), np.ndarray, np.float32, id="float32-array"),
        pytest.param(np.array([0.5, 1.5]), np.ndarray, np.float64, id="float64-array"),
        pytest.param(np.array(0.5), np.ndarray, np.float64, id="0d-array"),
        pytest.param(0.5, np.float64, np.float64, id="python-float"),
        pytest.param(np.float64(0.5), np.float64, np.float64, id="numpy-float64"),
        pytest.param(np.float32(0.5), np.float32, np.float32, id="numpy-float32"),
        pytest.param(np.array([0.5, 1.5], np.float16), np.ndarray, np.float16, id="float16-array"),
    ],
)
def test_gradient_has_the_inputs_type_and_dtype(x, kind, dtype):
    g = npgrad.grad(lambda v: np.sum(v**2))(x)
    assert type(g) is kind and g.dtype == dtype
    np.testing.assert_allclose(np.asarray(g, np.float64), 2 * np.asarray(x, np.float64), rtol=1e-3)


def test_nested_lists_tuples_and_dicts_keep_their_structure():
    params = {"w": RNG.normal(size=(3, 2)), "b": [0.5, (RNG.normal(size=2),)]}
    x = RNG.normal(size=3)

    def f(p, x):
        h = x @ p["w"] + p["b"][1][0]
        return np.sum(np.tanh(h)) * p["b"][0] ** 2

    g = npgrad.grad(f)(params, x)
    assert set(g) == {"w", "b"} and type(g["b"]) is list and type(g["b"][1]) is tuple
    h = x @ params["w"] + params["b"][1][0]
    c = params["b"][0]
    dh = (1 - np.tanh(h) ** 2) * c**2
    np.testing.assert_allclose(g["w"], np.outer(x, dh), rtol=1e-12)
    np.testing.assert_allclose(g["b"][1][0], dh, rtol=1e-12)
    assert isinstance(g["b"][0], np.float64)
    assert g["b"][0] == pytest.approx(2 * c * np.sum(np.tanh(h)), rel=1e-12)


@pytest.mark.parametrize("argnums", [pytest.param((0, 1), id="tuple"),
                                     pytest.param((-1, 0), id="negative")])  # fmt: skip
def test_argnums_tuple_gives_a_tuple_of_gradients(argnums):
    x, y = RNG.normal(size=3), RNG.normal(size=3)
    f = lambda x, y: np.sum(x**2 * y)  # noqa: E731
    g = npgrad.grad(f, argnums)(x, y)
    expected = {0: 2 * x * y, 1: x**2}
    assert type(g) is tuple and len(g) == 2
    for gi, n in zip(g, argnums):
        np.testing.assert_allclose(gi, expected[n % 2], rtol=1e-12)


def test_has_aux_returns_aux_as_numpy():
    x = RNG.normal(size=4)

    def f(x):
        r = x - 1
        return np.sum(r**2), {"residual": r, "count": x.shape[0], "tag": "fit"}

    g, aux = npgrad.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * (x - 1), rtol=1e-12)
    assert type(aux["residual"]) is np.ndarray
    np.testing.assert_allclose(aux["residual"], x - 1, rtol=0, atol=0)
    assert aux["count"] == 4 and aux["tag"] == "fit"
    (value, aux2), g2 = npgrad.value_and_grad(f, has_aux=True)(x)
    assert value == pytest.approx(np.sum((x - 1) ** 2), rel=1e-14)
    np.testing.assert_array_equal(g2, g)


def test_inputs_are_never_modified_and_results_are_never_views():
    x = RNG.normal(size=5)
    c = RNG.normal(size=5)
    x_before, c_before = x.copy(), c.copy()
    (value, aux), g = npgrad.value_and_grad(lambda x, c: (np.sum(x * c), c), has_aux=True)(x, c)
    out, vjp_fn = npgrad.vjp(lambda x: x, x)
    ct = RNG.normal(size=5)
    (back,) = vjp_fn(ct)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(c, c_before)
    np.testing.assert_array_equal(back, ct)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(aux, c)
    for r in (g, aux, out, back):
        for inp in (x, c, ct):
            assert not np.shares_memory(r, inp)


@pytest.mark.parametrize("read_only", [pytest.param(False, id="writeable"),
                                       pytest.param(True, id="read-only")])  # fmt: skip
def test_reversed_fortran_and_read_only_inputs_work(read_only):
    x = np.arange(10.0)[::-2]
    m = np.asfortranarray(RNG.normal(size=(3, 2)))
    x.flags.writeable = m.flags.writeable = not read_only
    gx, gm = npgrad.grad(lambda v, m: np.sum(v**2) + np.sum(m**3), (0, 1))(x, m)
    np.testing.assert_allclose(gx, 2 * x)
    np.testing.assert_allclose(gm, 3 * m**2)


def test_a_constant_result_has_a_zero_gradient():
    g = npgrad.grad(lambda x, y: np.sum(y**2), argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(g[0], np.zeros(2))
    np.testing.assert_array_equal(g[1], np.full(3, 2.0))


def test_grad_works_under_torch_no_grad():
    x = RNG.normal(size=3)
    with torch.no_grad():
        g = npgrad.grad(lambda v: np.sum(v**3))(x)
        h = npgrad.hessian(lambda v: np.sum(v**3))(x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-12)
    np.testing.assert_allclose(h, np.diag(6 * x), rtol=1e-12)


# ---------------------------------------------------------------------- errors
def test_non_scalar_result_is_refused_with_its_shape():
    def vector(x):
        return x * 2

    with pytest.raises(TypeError, match=r"npgrad\.grad\(.*vector\).*scalar.*shape \(3,\)"):
        npgrad.grad(vector)(np.ones(3))


@pytest.mark.parametrize(
    "x, received",
    [
        pytest.param(np.arange(3), "array of dtype int64", id="int-array"),
        pytest.param(3, "integer 3", id="python-int"),
        pytest.param(np.array([True, False]), "bool array", id="bool-array"),
        pytest.param(np.ones(2, complex), "dtype complex128", id="complex-array"),
        pytest.param("abc", "str 'abc'", id="string"),
        pytest.param(torch.ones(2), "torch.Tensor", id="tensor"),
    ],
)
def test_an_input_that_has_no_gradient_is_refused_by_name(x, received):
    def loss(weights):
        return np.sum(weights * 1.0)

    with pytest.raises(TypeError) as info:
        npgrad.grad(loss)(x)
    msg = str(info.value)
    assert "npgrad.grad(" in msg and "loss" in msg and "argument 0 (weights)" in msg
    assert received in msg


@pytest.mark.parametrize(
    "result, words",
    [
        pytest.param(lambda x: "done", "must be a float array or number, got str", id="string"),
        pytest.param(lambda x: None, "got NoneType", id="none"),
        pytest.param(lambda x: np.sum(np.fft.fft(x)), "is complex (complex128)", id="complex"),
        pytest.param(lambda x: np.argmax(x), "integer dtype int64", id="integer"),
        # a (value, aux) pair without has_aux: the hint, and no torch types in the words
        pytest.param(
            lambda x: (np.sum(x), {"n": 1}),
            "got a tuple of 2 (a scalar, a dict); if its second item is auxiliary "
            "data, pass has_aux=True",
            id="aux-without-has-aux",
        ),
    ],
)
def test_a_result_that_cannot_be_differentiated_is_refused(result, words):
    with pytest.raises(TypeError, match=r"npgrad\.grad\(.*\): the function's result") as info:
        npgrad.grad(result)(np.array([1.0, 2.0]))
    assert words in str(info.value)


def test_trace_errors_name_the_call():
    def leaky(x):
        return np.sum(np.asarray(x))

    with pytest.raises(npgrad.TraceError, match=r"npgrad\.grad\(.*leaky\).*NumPy array"):
        npgrad.grad(leaky)(np.ones(3))
    with pytest.raises(npgrad.TraceError, match=r"npgrad\.hessian\(.*leaky\)"):
        npgrad.hessian(leaky)(np.ones(3))


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(lambda x: np.sum(np.ldexp(x, 2)), id="no-mapping"),
        pytest.param(lambda x: float(np.sum(x)) * x, id="dropped"),
        pytest.param(lambda a: np.sum(scipy.special.gammainc(a, 1.0)), id="refused-in-backward"),
    ],
)
def test_trace_errors_give_the_remedies_of_this_level(f):
    """The engine's refusals name npgrad.function's mode= and backward, which these
    transforms do not take: their words say what applies here, nested too."""
    for call in (
        npgrad.grad(lambda x: np.sum(f(x))),
        npgrad.grad(npgrad.grad(lambda x: np.sum(f(x)))),
    ):
        with pytest.raises(npgrad.TraceError) as e:
            call(np.array([0.5, 1.5]))
        text = str(e.value)
        assert "mode='numeric'" not in text and "@op.backward" not in text, text
        assert "@npgrad.implements" in text, text


@pytest.mark.parametrize(
    "call, words",
    [
        pytest.param(lambda: npgrad.grad(np.sum, 2)(np.ones(2)), "argnums=2 but the call passed 1",
                     id="argnums-out-of-range"),
        pytest.param(lambda: npgrad.grad(np.sum, "x")(np.ones(2)), "argnums must be an int",
                     id="argnums-not-int"),
        pytest.param(lambda: npgrad.grad(np.sum, (0, 0))(np.ones(2)), "names an argument twice",
                     id="argnums-repeated"),
        pytest.param(lambda: npgrad.grad(np.sum, has_aux=True)(np.ones(2)),
                     "has_aux=True needs the function to return a pair (value, aux), got a "
                     "scalar", id="aux-not-a-pair"),
        pytest.param(lambda: npgrad.grad(np.sum)(np.array([True, False])),
                     "is an array of dtype bool: an integer or bool array has no gradient",
                     id="bool-input"),
        pytest.param(lambda: npgrad.vjp(lambda x: 2 * x, np.ones(2))[1](np.ones(3)),
                     "cotangent has shape (3,), expected (2,)", id="cotangent-shape"),
        pytest.param(lambda: npgrad.hvp(np.sum)(np.ones(2), np.ones(3)),
                     "v has shape (3,), expected (2,)", id="hvp-tangent-shape"),
        pytest.param(lambda: npgrad.hvp(np.sum)(np.ones(2)), "a vector v", id="hvp-no-vector"),
    ],
)  # fmt: skip
def test_bad_calls_say_what_was_wrong(call, words):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    assert words in str(info.value) and "npgrad." in str(info.value)


# ------------------------------------------------------------ higher order
CUBIC_SIN = (
    lambda x: x**3 * np.sin(x),
    lambda x: 3 * x**2 * np.sin(x) + x**3 * np.cos(x),
    lambda x: 6 * x * np.sin(x) + 6 * x**2 * np.cos(x) - x**3 * np.sin(x),
)


@pytest.mark.parametrize("x", [pytest.param(0.7, id="float"), pytest.param(-1.3, id="negative")])
def test_grad_of_grad_is_the_second_derivative(x):
    f, df, d2f = CUBIC_SIN
    assert npgrad.grad(f)(x) == pytest.approx(df(x), rel=1e-13)
    assert npgrad.grad(npgrad.grad(f))(x) == pytest.approx(d2f(x), rel=1e-13)
    third = npgrad.grad(npgrad.grad(npgrad.grad(f)))(x)
    central = (d2f(x + 1e-5) - d2f(x - 1e-5)) / 2e-5
    assert third == pytest.approx(central, rel=1e-6)


def test_grad_of_a_function_of_a_gradient():
    # f(x) = sum(x^3)/3 has gradient x^2; sum(grad^2) = sum(x^4) has gradient 4 x^3
    f = lambda x: np.sum(x**3) / 3  # noqa: E731
    outer = npgrad.grad(lambda x: np.sum(npgrad.grad(f)(x) ** 2))
    x = RNG.normal(size=4)
    np.testing.assert_allclose(outer(x), 4 * x**3, rtol=1e-12)


def test_inner_grad_treats_a_closure_as_a_constant():
    # d/dx [ d/dy (x y) at y=x ] = d/dx x = 1 (JAX's answer; perturbations stay apart)
    g = npgrad.grad(lambda x: npgrad.grad(lambda y: x * y)(x))(2.0)
    assert g == pytest.approx(1.0, abs=0)


def _rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


@pytest.mark.parametrize("n", [pytest.param(2, id="n2"), pytest.param(6, id="n6")])
def test_hessian_and_hvp_match_scipys_rosenbrock(n):
    x = RNG.normal(size=n)
    v = RNG.normal(size=n)
    np.testing.assert_allclose(npgrad.grad(_rosen)(x), so.rosen_der(x), rtol=1e-12)
    H = npgrad.hessian(_rosen)(x)
    assert H.shape == (n, n) and H.dtype == np.float64
    np.testing.assert_allclose(H, so.rosen_hess(x), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(npgrad.hvp(_rosen)(x, v), so.rosen_hess_prod(x, v), rtol=1e-12)


def test_hessian_against_torch_func_on_the_same_maths():
    W = RNG.normal(size=(3, 4))
    x = RNG.normal(size=(2, 3))

    def f_np(x, W):
        return np.sum(np.tanh(x @ W) ** 2) + np.sum(np.exp(-x))

    def f_torch(x, W):
        return torch.sum(torch.tanh(x @ W) ** 2) + torch.sum(torch.exp(-x))

    # reverse over reverse: torch.func.hessian's forward mode warns on this torch
    hess = torch.func.jacrev(torch.func.jacrev(f_torch, argnums=(0, 1)), argnums=(0, 1))
    ref = hess(torch.tensor(x), torch.tensor(W))
    H = npgrad.hessian(f_np, argnums=(0, 1))(x, W)
    assert H[0][1].shape == (2, 3, 3, 4)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(H[i][j], ref[i][j].numpy(), rtol=1e-11, atol=1e-12)


def test_hvp_with_a_later_argnum_and_extra_arguments():
    X = RNG.normal(size=(6, 3))
    w, v = RNG.normal(size=3), RNG.normal(size=3)

    def f(X, w, scale):
        return scale * np.sum(np.exp(X @ w))

    hv = npgrad.hvp(f, argnums=1)(X, w, v, 2.0)
    expected = 2.0 * X.T @ (np.exp(X @ w) * (X @ v))  # H = scale X' diag(e^{Xw}) X
    np.testing.assert_allclose(hv, expected, rtol=1e-12)


# ------------------------------------------------------------ jacobian and vjp
def test_jacobian_against_torch_func_and_by_hand():
    M = RNG.normal(size=(3, 4))
    x = RNG.normal(size=4)
    J = npgrad.jacobian(lambda x: np.tanh(M @ x))(x)
    np.testing.assert_allclose(J, (1 - np.tanh(M @ x) ** 2)[:, None] * M, rtol=1e-12)
    ref = torch.func.jacrev(lambda t: torch.tanh(torch.tensor(M) @ t))(torch.tensor(x))
    np.testing.assert_allclose(J, ref.numpy(), rtol=1e-12)


def test_jacobian_of_a_structured_result_and_several_arguments():
    x, y = RNG.normal(size=2), RNG.normal(size=3)
    J = npgrad.jacobian(lambda x, y: {"outer": np.outer(x, y), "s": np.sum(x)}, (0, 1))(x, y)
    assert J["outer"][0].shape == (2, 3, 2) and J["outer"][1].shape == (2, 3, 3)
    expected_dx = np.einsum("ik,j->ijk", np.eye(2), y)
    expected_dy = np.einsum("i,jk->ijk", x, np.eye(3))
    np.testing.assert_allclose(J["outer"][0], expected_dx, rtol=1e-14)
    np.testing.assert_allclose(J["outer"][1], expected_dy, rtol=1e-14)
    np.testing.assert_allclose(J["s"][0], np.ones(2))
    np.testing.assert_allclose(J["s"][1], np.zeros(3))


def test_jacobian_matches_central_differences():
    t = np.linspace(0, 2, 9)
    p = np.array([2.0, 0.7, 0.1])

    def residuals(p):
        return p[0] * np.exp(-p[1] * t) + p[2]

    J = npgrad.jacobian(residuals)(p)
    fd = so.approx_fprime(p, residuals, 1e-7)
    np.testing.assert_allclose(J, fd, rtol=1e-5, atol=1e-7)


def test_vjp_is_the_jacobian_transposed_and_reusable():
    M = RNG.normal(size=(3, 4))
    x, s = RNG.normal(size=4), 1.5
    out, vjp_fn = npgrad.vjp(lambda x, s: s * np.sin(M @ x), x, s)
    np.testing.assert_allclose(out, s * np.sin(M @ x), rtol=1e-14)
    for _ in range(2):  # the graph is kept for repeated calls
        ct = RNG.normal(size=3)
        gx, gs = vjp_fn(ct)
        np.testing.assert_allclose(gx, M.T @ (ct * s * np.cos(M @ x)), rtol=1e-12)
        assert isinstance(gs, np.float64)
        assert gs == pytest.approx(ct @ np.sin(M @ x), rel=1e-12)


# ------------------------------------------------------------ scipy.optimize
def test_minimize_with_jac_hess_and_hessp():
    x0 = np.array([-1.2, 1.0, 0.8])
    fd = so.minimize(_rosen, x0, method="BFGS", options={"gtol": 1e-8})
    for kw in (
        dict(method="BFGS", jac=npgrad.grad(_rosen)),
        dict(method="trust-exact", jac=npgrad.grad(_rosen), hess=npgrad.hessian(_rosen)),
        dict(method="trust-ncg", jac=npgrad.grad(_rosen), hessp=npgrad.hvp(_rosen)),
        dict(method="L-BFGS-B", jac=True, fun=npgrad.value_and_grad(_rosen)),
    ):
        fun = kw.pop("fun", _rosen)
        res = so.minimize(fun, x0, options={"gtol": 1e-8}, **kw)
        assert res.success, (kw, res.message)
        np.testing.assert_allclose(res.x, np.ones(3), atol=1e-4)
        np.testing.assert_allclose(res.x, fd.x, atol=1e-3)


def test_least_squares_with_jacobian():
    t = np.linspace(0, 3, 20)
    y = 1.7 * np.exp(-0.9 * t) + 0.3

    def residuals(p, t, y):
        return p[0] * np.exp(-p[1] * t) + p[2] - y

    res = so.least_squares(residuals, np.array([1.0, 1.0, 0.0]), args=(t, y),
                           jac=npgrad.jacobian(residuals), xtol=1e-14, ftol=1e-14)  # fmt: skip
    assert res.success
    np.testing.assert_allclose(res.x, [1.7, 0.9, 0.3], rtol=1e-8)


def _load_example():
    path = REPO / "examples" / "fit_with_scipy_optimize.py"
    spec = importlib.util.spec_from_file_location("fit_with_scipy_optimize", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return path, mod


def test_example_fits_converge_and_agree_with_finite_differences(tmp_path):
    path, ex = _load_example()
    out = tmp_path / "fit.json"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-W", "error", str(path), "--quick", "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"logistic_lbfgsb", "logistic_trust_ncg", "gp_lbfgsb",
                            "gp_trust_exact", "decay_least_squares"}  # fmt: skip
    for name, r in results.items():
        assert r["success"], (name, r["message"])
        assert r["grad_norm"] < 1e-5, (name, r["grad_norm"])

    # the same problems, optimised with finite-difference gradients (jac=None)
    X, y = ex.logistic_data(200, 5)
    fd = so.minimize(ex.logistic_loss, np.zeros(5), args=(X, y), method="BFGS",
                     options={"gtol": 1e-7})  # fmt: skip
    for name in ("logistic_lbfgsb", "logistic_trust_ncg"):
        np.testing.assert_allclose(results[name]["x"], fd.x, atol=1e-4)
        # the gradient at npgrad's optimum is small by finite differences too
        fprime = so.approx_fprime(np.array(results[name]["x"]), ex.logistic_loss, 1e-7, X, y)
        assert np.linalg.norm(fprime) < 1e-5
    x, yg = ex.gp_data(30)
    fd = so.minimize(ex.gp_nll, np.zeros(3), args=(x, yg), method="BFGS", options={"gtol": 1e-6})
    for name in ("gp_lbfgsb", "gp_trust_exact"):
        np.testing.assert_allclose(results[name]["x"], fd.x, atol=1e-3)
        assert results[name]["fun"] == pytest.approx(fd.fun, abs=1e-7)
    t, yd = ex.decay_data(40)
    fd = so.least_squares(ex.decay_residuals, np.array([1.0, 1.0, 0.0]), args=(t, yd))
    np.testing.assert_allclose(results["decay_least_squares"]["x"], fd.x, atol=1e-6)


def test_example_gp_likelihood_two_ways_and_its_gradient():
    _, ex = _load_example()
    x, y = ex.gp_data(12)
    theta = np.array([0.2, -0.3, -2.0])
    assert ex.gp_nll(theta, x, y) == pytest.approx(ex.gp_nll_slogdet(theta, x, y), rel=1e-10)
    fd = so.approx_fprime(theta, ex.gp_nll, 1e-6, x, y)
    for f in (ex.gp_nll, ex.gp_nll_slogdet):
        np.testing.assert_allclose(npgrad.grad(f)(theta, x, y), fd, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------ devices
@pytest.mark.parametrize("device", DEVICES)
def test_device_runs_the_numpy_code_there_and_returns_numpy(device):
    x = RNG.normal(size=(5, 3)).astype(np.float32)
    W = RNG.normal(size=(3, 2)).astype(np.float32)

    def loss(x, W):
        return np.mean(np.tanh(x @ W) ** 2)

    g = npgrad.grad(loss, device=device)(x, W)
    h = npgrad.hessian(lambda v: np.sum(v**3), device=device)(x[0].astype(np.float64))
    assert type(g) is np.ndarray and g.dtype == np.float32
    t = np.tanh(x @ W)
    expected = (2 * t * (1 - t**2) / t.size) @ W.T
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(h, np.diag(6 * x[0].astype(np.float64)), rtol=1e-12)


@pytest.mark.skipif(not CUDA, reason="no CUDA device here")
def test_cuda_results_equal_cpu_results():
    x = RNG.normal(size=50)
    f = lambda x: np.sum(np.log1p(x**2))  # noqa: E731
    np.testing.assert_allclose(npgrad.grad(f, device="cuda")(x), npgrad.grad(f)(x), rtol=1e-12)
    np.testing.assert_allclose(npgrad.hvp(f, device="cuda")(x, x), npgrad.hvp(f)(x, x),
                               rtol=1e-12)  # fmt: skip


def test_gradient_of_math_constants_is_exact():
    # a sanity anchor on scalar plumbing: d/dx log(x) at e is 1/e exactly
    assert npgrad.grad(np.log)(math.e) == pytest.approx(1 / math.e, rel=1e-15)


def test_hvp_with_a_tuple_of_argnums_takes_a_tuple_of_tangents():
    x, y = RNG.normal(size=2), RNG.normal(size=3)
    vx, vy = RNG.normal(size=2), RNG.normal(size=3)

    def f(x, y):
        return np.sum(x**2) * np.sum(y**3)

    hx, hy = npgrad.hvp(f, argnums=(0, 1))(x, y, (vx, vy))
    H = npgrad.hessian(f, argnums=(0, 1))(x, y)
    # by hand: d2/dx2 = 2 S3 I, d2/dxdy = 2 x (3 y^2)', d2/dy2 = S2 diag(6 y)
    s2, s3 = np.sum(x**2), np.sum(y**3)
    Hxx, Hxy, Hyy = 2 * s3 * np.eye(2), np.outer(2 * x, 3 * y**2), s2 * np.diag(6 * y)
    for got, want in ((H[0][0], Hxx), (H[0][1], Hxy), (H[1][0], Hxy.T), (H[1][1], Hyy)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(hx, Hxx @ vx + Hxy @ vy, rtol=1e-12)
    np.testing.assert_allclose(hy, Hxy.T @ vx + Hyy @ vy, rtol=1e-12)


@pytest.mark.parametrize("doc", ["numpy-api.md", "migrating.md"])
def test_docs_python_examples_run(doc):
    text = (REPO / "docs" / doc).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, doc, "exec"), {})


def test_grad_inside_an_automatic_mode_op_stays_on_the_graph():
    # the op's trace is the outer one: the inner grad returns traced arrays
    @npgrad.function
    def energy(x):
        return np.sum(npgrad.grad(lambda v: np.sum(v**3))(x))  # sum(3 x^2)

    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    energy(x).backward()
    torch.testing.assert_close(x.grad, 6 * x.detach(), rtol=1e-14, atol=0)


def _benchmark_module():
    spec = importlib.util.spec_from_file_location("numpy_api_bench", REPO / "benchmarks" /
                                                  "numpy_api.py")  # fmt: skip
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("problem", ["logistic 1000x50", "gp 64 points", "tiny mse 8x4"])
def test_benchmark_problems_have_the_gradient_differences_give(problem):
    from npgrad import bench_problems as b

    args = b.data(problem)
    f = b.PROBLEMS[problem][0](np)
    value, g = npgrad.value_and_grad(f)(*args)
    assert value == pytest.approx(float(f(*args)), rel=1e-12)
    x0 = args[0]
    fd = so.approx_fprime(x0.ravel(), lambda v: f(v.reshape(x0.shape), *args[1:]), 1e-7)
    np.testing.assert_allclose(g.ravel(), fd, rtol=1e-4, atol=1e-6)


def test_benchmark_table_is_printed_from_the_saved_json(capsys):
    from npgrad import bench_problems as b

    saved = REPO / "benchmarks" / "results" / "numpy-api-cpu-2core.json"
    result = json.loads(saved.read_text())
    assert _benchmark_module().main(["--table-from", str(saved)]) == 0
    text = capsys.readouterr().out
    assert text.strip() == b.table_numpy_api(result)
    for name in b.PROBLEMS:
        ratio = result["problems"][name]["ratio"]["npgrad"]
        assert name in text and f"{ratio:.3f}" in text


def test_aux_comes_back_with_its_python_numbers_as_they_were():
    def f(a):
        return np.sum(a**2), {"shape": a.shape, "n": 5, "lr": 2.5, "tag": "x", "twice": a * 2}

    (_, aux), _ = npgrad.value_and_grad(f, has_aux=True)(np.ones(2))
    assert aux["shape"] == (2,) and type(aux["shape"][0]) is int
    assert type(aux["n"]) is int and type(aux["lr"]) is float and aux["tag"] == "x"
    np.testing.assert_array_equal(aux["twice"], [2.0, 2.0])
    assert type(aux["twice"]) is np.ndarray


@pytest.mark.parametrize(
    "fn",
    [
        pytest.param(lambda a: np.sum(np.linalg.qr(a).Q), id="qr.Q"),
        pytest.param(lambda a: np.sum(np.linalg.svd(a, full_matrices=False).S), id="svd.S"),
        pytest.param(lambda a: np.linalg.slogdet(a[:3] @ a[:3].T + np.eye(3)).logabsdet,
                     id="slogdet.logabsdet"),
        pytest.param(lambda a: np.sum(np.linalg.eigh(a[:3] @ a[:3].T).eigenvalues),
                     id="eigh.eigenvalues"),
    ],
)  # fmt: skip
def test_linalg_results_have_numpys_field_names(fn):
    a = np.random.default_rng(0).normal(size=(4, 3))
    g = npgrad.grad(fn)(a)
    h = 1e-6
    d = np.random.default_rng(1).normal(size=a.shape)
    fd = (fn(a + h * d) - fn(a - h * d)) / (2 * h)
    assert abs(np.sum(g * d) - fd) <= 1e-6 * max(1.0, abs(fd))


def test_a_function_returning_a_named_result_has_a_jacobian_per_field():
    a = np.random.default_rng(0).normal(size=(4, 3))
    jq, jr = npgrad.jacobian(lambda a: np.linalg.qr(a))(a)
    assert jq.shape == (4, 3, 4, 3) and jr.shape == (3, 3, 4, 3)


def test_a_ufunc_with_a_where_mask_is_refused_by_name():
    x = np.linspace(-1, 1, 10)
    with pytest.raises(
        npgrad.TraceError, match=r"np\.sin\(\.\.\., where=<an array of shape \(10,\)>\)"
    ):
        npgrad.grad(lambda z: np.sum(np.sin(z, where=x > 0)))(x)
