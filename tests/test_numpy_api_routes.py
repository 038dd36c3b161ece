"""``value_and_grad`` and ``grad`` take a short route for the common call (positional
float arrays, no containers, no aux) and the general one for any other.  The two
must agree exactly: the same value (type, dtype and bits), the same gradients, the
same copies of the caller's memory and the same errors.  A keyword argument sends
the same call down the general route, so each case runs both ways; the gradients
are also checked against central differences in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad

RNG = np.random.default_rng(7)
A = RNG.normal(size=(6, 4))
B = RNG.normal(size=(6, 4))
W = RNG.normal(size=4)
LABELS = RNG.integers(0, 2, size=6)

FUNCTIONS = {
    "mse": (lambda x, t: np.mean((x - t) ** 2), (A, B)),
    "l1 sum": (lambda x, t: np.sum(np.abs(x - t)), (A, B)),
    "logistic": (
        lambda w, X, y: np.mean(np.logaddexp(0.0, X @ w) - y * (X @ w)) + 0.1 * np.sum(w**2),
        (W, A, LABELS),
    ),
    "broadcast": (lambda w, X: np.sum(np.tanh(X * w) ** 2), (W, A)),
    "scaled": (lambda x, s: s * np.sum(np.exp(x)), (W, 2.5)),
    "constant result": (lambda x, t: np.sum(t), (A, B)),  # x unused: a zero gradient
    "identity-like": (lambda x, t: np.sum(x), (A, B)),
}


def _both(f, args, dtype):
    """The short route (positional) and the general route (the last argument by
    keyword) on the same call; both differentiate argument 0."""
    args = tuple(a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                 for a in args)  # fmt: skip
    names = f.__code__.co_varnames[: len(args)]
    short = npgrad.value_and_grad(f)(*args)
    general = npgrad.value_and_grad(f)(*args[:-1], **{names[-1]: args[-1]})
    return args, short, general


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_the_short_route_gives_the_general_routes_answer(name, dtype):
    f, args = FUNCTIONS[name]
    args, (v1, g1), (v2, g2) = _both(f, args, dtype)
    assert type(v1) is type(v2) and v1.dtype == v2.dtype
    assert np.array_equal(v1, v2, equal_nan=True)
    assert type(g1) is np.ndarray and g1.dtype == g2.dtype == args[0].dtype
    assert g1.shape == args[0].shape and np.array_equal(g1, g2, equal_nan=True)
    for a in args:
        if isinstance(a, np.ndarray):
            assert not np.shares_memory(g1, a)  # never a view of the caller's data


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_the_short_routes_gradient_matches_central_differences(name):
    f, args = FUNCTIONS[name]
    g = npgrad.grad(f)(*args)
    x, rest = args[0], args[1:]
    h = 1e-6
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (f(up, *rest) - f(down, *rest)) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)


def test_a_tuple_of_argnums_on_the_short_route():
    f = lambda x, y: np.sum(x * y) + np.sum(x**2)  # noqa: E731
    gx, gy = npgrad.grad(f, argnums=(0, 1))(A, B)
    np.testing.assert_allclose(gx, B + 2 * A, rtol=1e-15)
    np.testing.assert_allclose(gy, A, rtol=1e-15)
    assert not np.shares_memory(gx, A) and not np.shares_memory(gy, B)


def test_the_inputs_are_left_as_they_were():
    x, t = A.copy(), B.copy()
    npgrad.value_and_grad(FUNCTIONS["mse"][0])(x, t)
    assert np.array_equal(x, A) and np.array_equal(t, B)


BAD = {
    "an array result": (lambda x, t: x - t, "must be a scalar, got an array of shape"),
    "an integer result": (lambda x, t: np.sum(x > t), "has the integer dtype"),
    "a complex result": (lambda x, t: np.sum(x * 1j), "is complex"),
    "a pair without has_aux": (lambda x, t: (np.sum(x), 1.0), "pass has_aux=True"),
    "None": (lambda x, t: None, "must be a float array or number, got NoneType"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_the_short_route_refuses_what_the_general_route_refuses(name):
    f, words = BAD[name]
    with pytest.raises(TypeError, match=words) as short:
        npgrad.value_and_grad(f)(A, B)
    with pytest.raises(TypeError, match=words) as general:
        npgrad.value_and_grad(f)(A, t=B)
    assert str(short.value) == str(general.value)
    assert "npgrad.value_and_grad(" in str(short.value)


def test_an_integer_array_argument_is_refused_on_both_routes():
    f = lambda x, t: np.sum(x * t)  # noqa: E731
    with pytest.raises(TypeError, match=r"argument 0 \(x\) is an array of dtype int64"):
        npgrad.grad(f)(LABELS, W[:1])
    with pytest.raises(TypeError, match=r"argument 0 \(x\) is an array of dtype int64"):
        npgrad.grad(f)(LABELS, t=W[:1])


# torch gives np.sum's gradient as one 1.0 broadcast (stride 0): a NumPy view of it
# would change every element when the caller writes one (an optimizer's g[mask] = 0)
BROADCAST_GRADIENTS = {
    "grad positional": lambda f: npgrad.grad(f)(A, B),
    "grad by keyword": lambda f: npgrad.grad(f)(A, t=B),
    "value_and_grad": lambda f: npgrad.value_and_grad(f)(A, B)[1],
    "jit": lambda f: _second_call(npgrad.grad(f, jit=True), A, B),  # the compiled route
    "jit's first call": lambda f: npgrad.grad(f, jit=True)(A, B),  # the compiling one
    "vjp": lambda f: npgrad.vjp(f, A, B)[1](np.float64(1.0))[0],
}


def _second_call(transform, *args):
    transform(*args)
    return transform(*args)


@pytest.mark.parametrize("route", list(BROADCAST_GRADIENTS))
@pytest.mark.parametrize(
    "f, slope",
    [(lambda x, t: np.sum(x), 1.0), (lambda x, t: np.sum(np.sum(x, axis=0) * 2.0), 2.0)],
    ids=["sum", "sum over axis 0"],
)
def test_a_broadcast_gradient_comes_back_with_memory_of_its_own(route, f, slope):
    g = BROADCAST_GRADIENTS[route](f)
    np.testing.assert_array_equal(g, np.full(A.shape, slope))
    g[0, 0] = 99.0
    assert np.count_nonzero(g == 99.0) == 1


# x + y sends one gradient tensor to both arguments, and np.sum(x) + np.sum(y) two
# views of one 1.0: each result must still be an array of its own
SHARED = {
    "grad positional": lambda f, x, y: npgrad.grad(f, argnums=(0, 1))(x, y),
    "has_aux (the general route)": lambda f, x, y: npgrad.grad(
        lambda x, y: (f(x, y), None), argnums=(0, 1), has_aux=True
    )(x, y)[0],
    "jit": lambda f, x, y: _second_call(npgrad.grad(f, argnums=(0, 1), jit=True), x, y),
    "jit's first call": lambda f, x, y: npgrad.grad(f, argnums=(0, 1), jit=True)(x, y),
    "a dict": lambda f, x, y: tuple(
        npgrad.grad(lambda p: f(p["x"], p["y"]))({"x": x, "y": y}).values()
    ),
    "vjp": lambda f, x, y: npgrad.vjp(lambda x, y: np.atleast_1d(f(x, y)), x, y)[1](np.ones(1)),
}


@pytest.mark.parametrize("route", list(SHARED))
@pytest.mark.parametrize(
    "f, size",
    [
        (lambda x, y: np.sum((x + y) ** 2), 3),
        (lambda x, y: np.sum(x) + np.sum(y), 1),
    ],
    ids=["one gradient for both", "one 1.0 for both"],
)
def test_no_two_results_share_memory(route, f, size):
    x, y = np.full(size, 1.0), np.full(size, 2.0)
    gx, gy = SHARED[route](f, x, y)
    assert not np.shares_memory(gx, gy)
    before = gy.copy()
    gx *= 0.5  # the caller scales one gradient in place
    np.testing.assert_array_equal(gy, before)


# --- found by a black-box drive of this round's changes -----------------------------
def test_a_jitted_aux_that_is_a_captured_array_is_a_copy():
    captured = np.arange(3.0)
    f = npgrad.value_and_grad(lambda x: (np.sum(x**2), captured), has_aux=True, jit=True)
    for _ in range(2):  # the compiling call and a compiled one
        (value, aux), g = f(W[:3])
        assert not np.shares_memory(aux, captured)
        aux[0] = 99.0
        np.testing.assert_array_equal(captured, np.arange(3.0))
        np.testing.assert_allclose(g, 2 * W[:3], rtol=1e-15)


def test_has_aux_errors_name_the_functions_own_arguments():
    def f(w, x):
        x += 1  # a write into the differentiated argument
        return np.sum(x * w), None

    with pytest.raises(npgrad.TraceError, match=r"argument 1 \('x'\)"):
        npgrad.grad(f, argnums=1, has_aux=True)(W, W.copy())


def test_a_big_endian_float_array_is_differentiated():
    x = np.array([1.0, -2.0, 3.0], dtype=">f8")
    g = npgrad.grad(lambda x: np.sum(x**3))(x)
    np.testing.assert_array_equal(g, 3 * x.astype(np.float64) ** 2)
    assert g.dtype == np.float64


@pytest.mark.parametrize("jit", [True, "strict"], ids=["jit", "strict"])
def test_a_function_that_fails_eagerly_gets_its_own_error_under_jit(jit):
    # not a JitFallbackWarning (an error here: warnings are errors in tests), and
    # not "could not compile ... pass jit=True"
    f = npgrad.grad(lambda x: np.sum(x, axis=0), jit=jit)
    with pytest.raises(TypeError, match="the function's result must be a scalar"):
        f(A)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacobian", "hessian", "hvp"])
def test_a_transform_of_a_non_function_is_refused_when_made(transform):
    with pytest.raises(TypeError, match=rf"npgrad\.{transform}: the first argument must be the "
                       "function to differentiate, got int 3"):  # fmt: skip
        getattr(npgrad, transform)(3)


def test_vjp_of_a_non_function_is_refused():
    with pytest.raises(TypeError, match=r"npgrad\.vjp: the first argument must be the function"):
        npgrad.vjp(3, W)


WEIGHTS = np.array([0.5, -1.0, 2.0])


def _dot_weights(x):
    return np.dot(x, WEIGHTS)  # its gradient is WEIGHTS itself, a kernel input under jit


def _dot_keyword(x, *, w):
    return np.dot(x, w)


@pytest.mark.parametrize("call", [1, 2], ids=["compiling call", "compiled call"])
def test_a_jitted_gradient_is_never_a_captured_or_keyword_array(call):
    f, h = npgrad.grad(_dot_weights, jit=True), npgrad.grad(_dot_keyword, jit=True)
    w = WEIGHTS.copy()
    for _ in range(call):
        g, gk = f(np.ones(3)), h(np.ones(3), w=w)
    assert not np.shares_memory(g, WEIGHTS) and not np.shares_memory(gk, w)
    g *= 0
    gk *= 0
    np.testing.assert_array_equal(WEIGHTS, [0.5, -1.0, 2.0])
    np.testing.assert_array_equal(w, [0.5, -1.0, 2.0])


INFERENCE = {
    "grad": lambda f, x: npgrad.grad(f)(x),
    "grad by keyword": lambda f, x: npgrad.grad(lambda x, s=1.0: s * f(x))(x, s=1.0),
    "jit": lambda f, x: _second_call(npgrad.grad(f, jit=True), x),
    "hvp": lambda f, x: npgrad.hvp(f)(x, np.ones_like(x)) / (6 * x) * (3 * x**2),
    "vjp": lambda f, x: npgrad.vjp(f, x)[1](np.float64(1.0))[0],
    "jacobian": lambda f, x: npgrad.jacobian(f)(x),
    "hessian": lambda f, x: np.diag(npgrad.hessian(f)(x)) / (6 * x) * (3 * x**2),
}


@pytest.mark.parametrize("route", list(INFERENCE))
def test_under_inference_mode_the_gradient_is_right_not_zero(route):
    # torch.inference_mode's tensors record nothing: enable_grad does not lift it
    f = lambda x: np.sum(x**3)  # noqa: E731
    with torch.inference_mode():
        g = INFERENCE[route](f, W)
    np.testing.assert_allclose(g, 3 * W**2, rtol=1e-14)


BIG = np.array([1.0, -2.0, 3.0], dtype=">f8")  # a file's byte order; torch has native only
ONES = np.ones(3)
BIG_ENDIAN = {
    "differentiated": (lambda: npgrad.grad(lambda a: np.sum(a**2))(BIG), 2 * BIG),
    "data": (lambda: npgrad.grad(lambda a, w: np.sum(w * a))(ONES, BIG), BIG),
    "data by keyword": (lambda: npgrad.grad(lambda a, w: np.sum(w * a))(ONES, w=BIG), BIG),
    "data under jit": (
        lambda: _second_call(npgrad.grad(lambda a, w: np.sum(w * a), jit=True), ONES, BIG),
        BIG,
    ),
    "differentiated under jit": (
        lambda: _second_call(npgrad.grad(lambda a: np.sum(a**2), jit=True), BIG),
        2 * BIG,
    ),
    "captured": (lambda: npgrad.grad(lambda a: np.sum(BIG * a))(ONES), BIG),
    "an index": (
        lambda: npgrad.grad(lambda a, i: np.sum(a[i]))(ONES, np.array([0, 2], dtype=">i8")),
        np.array([1.0, 0.0, 1.0]),
    ),
    "a tangent": (lambda: npgrad.hvp(lambda a: np.sum(a**3))(ONES, BIG), 6 * BIG),
    "a cotangent": (lambda: npgrad.vjp(lambda a: a * 2, ONES)[1](BIG)[0], 2 * BIG),
    "a read-only cotangent": (
        lambda: npgrad.vjp(lambda a: a * 2, ONES)[1](np.broadcast_to(1.0, (3,)))[0],
        np.full(3, 2.0),
    ),
}


@pytest.mark.parametrize("where", list(BIG_ENDIAN))
def test_big_endian_and_read_only_arrays_anywhere(where):
    compute, expect = BIG_ENDIAN[where]
    np.testing.assert_array_equal(compute(), expect)  # and no torch warning (an error here)


def test_a_jit_fallback_reason_names_no_option_the_transforms_lack():
    f = npgrad.grad(lambda x: np.sum(np.unique(x) ** 2), jit=True)
    with pytest.warns(npgrad.JitFallbackWarning, match="np.unique needs its values") as seen:
        g = f(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(g, [2.0, 4.0, 6.0])
    assert "mode='numeric'" not in str(seen[0].message)
