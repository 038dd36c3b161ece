"""Corners where automatic mode must answer as NumPy does: complex inputs (values,
NumPy's errors, clear refusals), reductions of 0-d arrays over axis 0, a variance
with no degrees of freedom."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import npgrad

from .conftest import TOL

F64 = TOL[torch.float64]
RNG = np.random.default_rng(7)
Z = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))


def _value(f, x):
    """``f(x)`` traced, as NumPy.  npgrad's ops take and give real tensors: a complex
    ``x`` enters as its real and imaginary parts, put together inside, and each
    result leaves as its two parts (put together again here)."""
    parts = (x.real, x.imag) if np.iscomplexobj(x) else (x,)
    kinds = []

    def inner(*ts):
        out = f(ts[0] + 1j * ts[1] if len(ts) == 2 else ts[0])
        outs = out if isinstance(out, tuple) else (out,)
        kinds[:] = [(isinstance(out, tuple), [np.iscomplexobj(o) for o in outs])]
        return tuple(p for o in outs for p in ((o.real, o.imag) if np.iscomplexobj(o) else (o,)))

    flat = iter(npgrad.function(inner, mode="auto", nonfinite="ignore")(*map(torch.tensor, parts)))
    many, cplx = kinds[0]
    got = [next(flat).numpy() + (1j * next(flat).numpy() if c else 0) for c in cplx]
    return tuple(got) if many else got[0]


def _central(f, x, eps=1e-6):
    """Central differences of a real function of a real array."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# ------------------------------------------------------------ complex inputs
@pytest.mark.parametrize(
    "f",
    [
        pytest.param(np.sign, id="sign"),
        pytest.param(np.rint, id="rint"),
        pytest.param(lambda z: np.round(3.7 * z, 1), id="round-1"),
        pytest.param(lambda z: (2.5 * z).round(), id="round-method"),
    ],
)
def test_complex_elementwise_as_numpy(f):
    np.testing.assert_allclose(_value(f, Z), f(Z), **F64)


@pytest.mark.parametrize("f", [np.fabs, np.floor, np.ceil, np.trunc, np.logaddexp])
def test_ufunc_without_complex_loop_raises_numpys_type_error(f):
    with pytest.raises(TypeError):
        f(*([Z] * f.nin))
    with pytest.raises(TypeError, match=f"ufunc '{f.__name__}' not supported"):
        _value(lambda z: f(*([z] * f.nin)), Z)


@pytest.mark.parametrize(
    "name, f",
    [
        ("np.max", np.max),
        ("np.argmin", lambda z: np.argmin(z, axis=1)),
        ("np.sort", np.sort),
        ("np.nanargmax", np.nanargmax),
        ("np.ptp", np.ptp),
        ("np.maximum.accumulate", lambda z: np.maximum.accumulate(z, axis=0)),
        ("np.median", np.median),
        ("np.maximum.reduce", lambda z: np.maximum.reduce(z, axis=0)),
    ],
)
def test_complex_orderings_refused_by_name(name, f):
    f(Z)  # NumPy orders complex numbers: these are not its errors
    with pytest.raises(npgrad.TraceError, match="of complex values is not supported"):
        _value(f, Z)
    with pytest.raises(npgrad.TraceError, match=name.replace(".", r"\.").split("np\\.")[-1]):
        _value(f, Z)


def test_interp_of_complex_points_raises_as_numpy():
    xp, fp = np.array([0.0, 1.0]), np.array([0.0, 2.0])
    with pytest.raises(TypeError):
        np.interp(Z[0], xp, fp)
    with pytest.raises(TypeError, match="complex128"):
        _value(lambda z: np.interp(z, xp, fp), Z[0])


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 3, 3)], ids=str)
@pytest.mark.parametrize("full", [False, True], ids=["reduced", "full"])
def test_complex_svd_is_numpys(shape, full):
    z = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    u, s, vh = _value(lambda a: np.linalg.svd(a, full_matrices=full), z)
    nu, ns, nvh = np.linalg.svd(z, full_matrices=full)
    k = min(shape[-2:])  # past k, full_matrices' completion is any orthonormal one
    np.testing.assert_allclose(s, ns, **F64)
    np.testing.assert_allclose(u[..., :k], nu[..., :k], **F64)
    np.testing.assert_allclose(vh[..., :k, :], nvh[..., :k, :], **F64)


def test_complex_eigh_is_numpys():
    h = Z[:, :3] + Z[:, :3].conj().T
    w, v = _value(np.linalg.eigh, h)
    nw, nv = np.linalg.eigh(h)
    np.testing.assert_allclose(w, nw, **F64)
    np.testing.assert_allclose(v, nv, **F64)


def test_complex_svd_gradient_against_central_differences():
    weights = RNG.standard_normal((3, 3))

    def f(re, im):  # depends on |u|, not on the vectors' phases: a gradient exists
        u, s, _ = np.linalg.svd(re + 1j * im, full_matrices=False)
        return np.sum(np.abs(u) ** 2 * weights) + np.sum(s)

    g_re, g_im = npgrad.grad(f, argnums=(0, 1))(Z.real.copy(), Z.imag.copy())
    np.testing.assert_allclose(g_re, _central(lambda r: f(r, Z.imag), Z.real), atol=1e-7)
    np.testing.assert_allclose(g_im, _central(lambda i: f(Z.real, i), Z.imag), atol=1e-7)


# ------------------------------------------------------ 0-d arrays, axis 0
_SCALAR_AXIS = [
    pytest.param(lambda x: np.sum(x, axis=0), id="sum-0"),
    pytest.param(lambda x: np.sum(x, axis=-1, keepdims=True), id="sum-keepdims"),
    pytest.param(lambda x: np.max(x, axis=0), id="max-0"),
    pytest.param(lambda x: np.prod(x, axis=0), id="prod-0"),
    pytest.param(lambda x: np.nanmax(x, axis=0), id="nanmax-0"),
    pytest.param(lambda x: np.cumsum(x, axis=0), id="cumsum-0"),
    pytest.param(lambda x: np.add.reduce(x), id="add-reduce"),
    pytest.param(lambda x: np.fmax.reduce(x), id="fmax-reduce"),
    pytest.param(lambda x: x * np.argmax(x, axis=0), id="argmax-0"),
    pytest.param(lambda x: np.mean(x, axis=0), id="mean-0"),
    pytest.param(lambda x: np.sort(x, axis=0), id="sort-0"),
    pytest.param(lambda x: np.sum(x, axis=(0,)), id="sum-tuple"),
    pytest.param(lambda x: np.sum(x, axis=1), id="sum-1"),
]


_SCALAR_AXIS += [
    # np.nanmean of an integer is np.mean's: NumPy's answer depends on the dtype
    pytest.param(lambda x: np.nanmean(x, axis=0), id="nanmean-0"),
    pytest.param(lambda x: np.nanstd(x, axis=-1), id="nanstd-1"),
]


@pytest.mark.parametrize("x", [np.array(2.5), np.array(3), np.array(True)], ids=str)
@pytest.mark.parametrize("f", _SCALAR_AXIS)
def test_reductions_of_a_0d_array_over_axis_0_as_numpy(f, x):
    try:
        want = f(x)
    except np.exceptions.AxisError:
        with pytest.raises(np.exceptions.AxisError):
            _value(f, x)
        return
    got = _value(f, x)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, **F64)
    if x.dtype.kind != "f":
        return  # no gradient of an integer
    g = npgrad.grad(lambda x: np.sum(f(x)))(x)
    np.testing.assert_allclose(g, _central(lambda x: np.sum(f(x)), x), atol=1e-7)


# ------------------------------------------------- no degrees of freedom
@pytest.mark.parametrize("f", [np.var, np.std], ids=["var", "std"])
@pytest.mark.parametrize("x", [[1.0, 2.0, 4.0], [1.0, 1.0, 1.0]], ids=["spread", "flat"])
def test_variance_without_degrees_of_freedom_warns_as_numpy(f, x):
    x = np.array(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = f(x, ddof=3)
    # NumPy's RuntimeWarning, and not torch's UserWarning (an error here, as warnings are)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"):
        got = npgrad.value_and_grad(lambda x: f(x, ddof=3))(x)[0]
    np.testing.assert_equal(got, want)


def test_lexsort_of_a_list_of_traced_keys_names_the_remedy():
    # NumPy's lexsort dispatches on a tuple of keys only: a list reaches np.asarray
    x = np.array([3.0, 1.0, 2.0])
    with pytest.raises(npgrad.TraceError, match="np.lexsort.*a tuple"):
        npgrad.grad(lambda x: np.sum(x[np.lexsort([x, -x])]))(x)
    g = npgrad.grad(lambda x: np.sum(x[np.lexsort((x, -x))] * np.arange(3.0)))(x)
    np.testing.assert_allclose(
        g, _central(lambda x: np.sum(x[np.lexsort((x, -x))] * np.arange(3.0)), x), atol=1e-7
    )


def test_hypot_at_the_origin_has_norms_subgradient():
    at_zero = npgrad.grad(lambda x: np.hypot(x[0], x[1]))(np.zeros(2))
    np.testing.assert_array_equal(at_zero, npgrad.grad(np.linalg.norm)(np.zeros(2)))
    x = np.array([3.0, -4.0])
    got = npgrad.grad(lambda x: np.hypot(x[0], x[1]))(x)
    np.testing.assert_allclose(got, _central(lambda x: np.hypot(x[0], x[1]), x), atol=1e-7)


@pytest.mark.parametrize("ufunc", [np.subtract, np.multiply, np.maximum, np.hypot, np.arctan2])
def test_ufunc_outer_as_numpy(ufunc):
    x, y = np.array([1.0, -2.0, 3.0]), np.array([[0.5, -1.5], [2.0, 4.0]])
    np.testing.assert_allclose(_value(lambda x: ufunc.outer(x, y), x), ufunc.outer(x, y), **F64)

    def f(x):
        return np.sum(ufunc.outer(x, x[::-1]) ** 2)

    np.testing.assert_allclose(npgrad.grad(f)(x), _central(f, x), atol=1e-6)


def test_divmod_function_and_operator_as_numpy():
    x = np.array([5.0, -7.5, 3.25])
    for f in (lambda x: np.divmod(x, 2.0), lambda x: divmod(x, 2.0), lambda x: divmod(7.0, x)):
        for got, want in zip(_value(f, x), f(x)):
            np.testing.assert_allclose(got, want, **F64)
    ints = np.array([5, -7, 3])
    assert all(g.dtype == w.dtype for g, w in zip(_value(lambda x: np.divmod(x, 2), ints),
                                                     np.divmod(ints, 2)))  # fmt: skip


def test_take_with_an_unknown_mode_raises_numpys_error():
    with pytest.raises(ValueError, match="clipmode"):
        np.take(np.ones(3), [0], mode="bad")
    with pytest.raises(ValueError, match="clipmode"):
        _value(lambda x: np.take(x, [0], mode="bad"), np.ones(3))


def test_complex_sign_at_infinities_as_numpy():
    # NumPy 2: with exactly one infinite part, that part's sign along its axis
    x = np.array([np.inf, -np.inf, 2.0, 0.0, np.nan])
    for build in (lambda x: 1j * x, lambda x: x * (1 + 0j), lambda x: x * (1 + 1j)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's inf * 0
            want = np.sign(build(x))
        got = _value(lambda x, build=build: np.sign(build(x)), x)
        np.testing.assert_array_equal(got.real, want.real)
        np.testing.assert_array_equal(got.imag, want.imag)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize(
    "f",
    [
        pytest.param(lambda a: np.insert(a, 1, 300), id="insert"),
        pytest.param(lambda a: np.insert(a, 0, [1, -1]), id="insert-list"),
        pytest.param(lambda a: np.put(b := a.copy(), [0], 300) or b, id="put"),
        pytest.param(lambda a: np.putmask(b := a.copy(), b > 1, -1) or b, id="putmask"),
    ],
)
def test_python_ints_written_into_small_ints_must_fit(f, dtype):
    a = np.arange(4, dtype=dtype)
    try:
        want = f(a)
    except OverflowError:
        with pytest.raises(OverflowError, match="out of bounds"):
            _value(f, a)
        return
    np.testing.assert_array_equal(_value(f, a), want)


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(lambda a: np.nextafter(a, np.inf), id="nextafter-inf"),
        pytest.param(lambda a: np.hypot(a, np.inf), id="hypot-inf"),
        pytest.param(lambda a: np.arctan2(a, 2.5), id="arctan2"),
        pytest.param(lambda a: np.copysign(a, -1.0), id="copysign"),
        pytest.param(lambda a: np.arctan2(np.inf, a), id="arctan2-left"),
    ],
)
def test_integer_array_beside_a_python_float_promotes_as_numpy(f):
    # (the float was cast to the integer dtype first: inf overflowed in torch)
    x = np.array([1, 2])
    got, want = _value(f, x), f(x)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, **F64)


@pytest.mark.parametrize("ufunc", [np.sin, np.spacing, np.rint, np.sqrt])
def test_uint16_computes_in_float32_as_numpy(ufunc):
    x = np.array([1, 2, 300], np.uint16)
    got, want = _value(ufunc, x), ufunc(x)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, **TOL[torch.float32])


@pytest.mark.parametrize("f", [np.matvec, np.vecmat], ids=["matvec", "vecmat"])
def test_matvec_and_vecmat_need_their_core_dimensions(f):
    v = np.ones(3)
    with pytest.raises(ValueError, match="does not have enough dimensions"):
        f(v, v)
    with pytest.raises(ValueError, match=f"{f.__name__}: Input operand . does not have enough"):
        _value(lambda v: f(v, v), v)


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(lambda a: np.percentile(a, [10, 150]), id="percentile"),
        pytest.param(lambda a: np.nanpercentile(a, -1), id="nanpercentile"),
        pytest.param(lambda a: np.quantile(a, 1.5), id="quantile"),
        pytest.param(lambda a: np.nanquantile(a, -0.5), id="nanquantile"),
    ],
)
def test_quantiles_out_of_range_raise_numpys_error(f):
    a = np.array([1.0, 2.0, 4.0])
    with pytest.raises(ValueError) as want:
        f(a)
    with pytest.raises(ValueError, match=re.escape(str(want.value))):
        _value(f, a)


_EMPTY_QUANTILES = {
    "median": lambda a, axis, kd: np.median(a, axis=axis, keepdims=kd),
    "nanmedian": lambda a, axis, kd: np.nanmedian(a, axis=axis, keepdims=kd),
    "nanquantile": lambda a, axis, kd: np.nanquantile(a, [0.2, 0.5], axis=axis, keepdims=kd),
    "nanpercentile": lambda a, axis, kd: np.nanpercentile(a, 30.0, axis=axis, keepdims=kd),
    "quantile": lambda a, axis, kd: np.quantile(a, [0.2, 0.5], axis=axis, keepdims=kd),
}


@pytest.mark.parametrize("keepdims", [False, True], ids=["flat", "keepdims"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)], ids=["all", "ax0", "ax1", "ax01"])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0)], ids=["0x3", "3x0"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", list(_EMPTY_QUANTILES))
def test_medians_and_quantiles_of_empty_arrays_answer_as_numpy(name, dtype, shape, axis, keepdims):
    """torch's quantile refuses every empty tensor; NumPy gives nan for an empty slice
    (median, the nan-variants: their nanmean's shape), an empty result for an empty
    array whose slices are not, and an IndexError for np.quantile of an empty slice."""
    a = np.zeros(shape, dtype)

    def f(x):
        return _EMPTY_QUANTILES[name](x, axis, keepdims)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "Mean of empty slice"
        try:
            want = np.asarray(f(a))
        except IndexError as e:
            with pytest.raises(IndexError, match=re.escape(str(e))):
                npgrad.grad(lambda x: np.sum(f(x)))(a)
            return
    jac = npgrad.jacobian(f)(a)
    assert jac.shape == want.shape + a.shape
    assert npgrad.jacobian(lambda x: np.sum(f(x)))(a).dtype == a.dtype
    value, grad = npgrad.value_and_grad(lambda x: np.sum(f(x)))(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(value, np.sum(want))
        assert np.asarray(value).dtype == np.sum(want).dtype
    assert grad.shape == a.shape and grad.dtype == a.dtype


_BASES = np.array([0, 0, 0, np.nan, np.inf, 1 + 1j, 2, 0, -1], complex)
_EXPONENTS = np.array([0, 0j, 0, 0, 0, 0, 0.5, 1j, 2 + 1j], complex)


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(lambda z: np.power(z, _EXPONENTS), id="base-traced"),
        pytest.param(lambda z: np.power(_BASES, z * 0 + _EXPONENTS), id="exponent-traced"),
        pytest.param(lambda z: z ** (z - z), id="both-traced"),
        pytest.param(lambda z: 0j ** (z - z), id="python-complex-base"),
    ],
)
def test_complex_power_with_a_zero_exponent_is_one_as_numpys(f):
    """NumPy's complex x ** 0 is 1 + 0j for a zero, infinite or nan x; torch's tensor
    power gives nan + nan j there."""
    with np.errstate(all="ignore"):
        want = f(_BASES)
    np.testing.assert_allclose(_value(f, _BASES), want, **F64)


def test_complex_power_at_a_zero_exponent_has_finite_derivatives():
    """|z ** w| at z = 0, w = 0 is the constant 1: derivative 0 (not 0 * inf = nan),
    while a nonzero base keeps log|z| as the exponent's derivative."""
    z = np.array([0.0, 2.0])

    def f(zr, wr):
        return np.sum(np.abs((zr + 0j) ** (wr + 0j)))

    gz, gw = npgrad.grad(f, argnums=(0, 1))(z, np.zeros(2))
    np.testing.assert_allclose(gz, [0.0, 0.0], **F64)
    np.testing.assert_allclose(gw, [0.0, np.log(2.0)], **F64)


@pytest.mark.parametrize("n", [None, 4], ids=["n=None", "n=4"])
@pytest.mark.parametrize("shape, axis", [((0, 3), -1), ((0, 3), 1), ((2, 0, 4), -1), ((3, 0), 0)])
@pytest.mark.parametrize(
    "f", [np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft], ids=lambda f: f.__name__
)
def test_fft_of_an_array_with_no_rows_is_empty_as_numpys(f, shape, axis, n):
    # MKL refused the plan (a ValueError naming "DFTI"); NumPy gives an empty result
    x = np.empty(shape)
    want = f(x, n=n, axis=axis)
    op = npgrad.function(lambda a: np.abs(f(a, n=n, axis=axis)), name="fft", mode="auto")
    got = op(torch.tensor(x, requires_grad=True))
    assert tuple(got.shape) == want.shape and got.dtype == torch.float64


# ------------------------------------------------ a.shape = ..., in place
def _reshaped_in_place(x):
    y = x * 2.0
    y.shape = (-1,)
    d = x - 1.0 * x[::-1]  # a deferred difference, reshaped once computed
    d.shape = (3, 2)
    return np.sum(y * np.arange(y.size)) + np.sum(d[0] ** 2) + float(y.ndim)


def test_setting_shape_is_numpys_in_place_reshape():
    x = np.arange(6.0).reshape(2, 3) / 7
    value, grad = npgrad.value_and_grad(_reshaped_in_place)(x)
    np.testing.assert_allclose(value, _reshaped_in_place(x.copy()), **F64)
    h = 1e-6
    central = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        central[i] = (_reshaped_in_place(x + e) - _reshaped_in_place(x - e)) / (2 * h)
    np.testing.assert_allclose(grad, central, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "f, error",
    [
        (lambda x: setattr(x * 1.0, "shape", (4,)), ValueError),  # a size no shape has
        (lambda x: setattr(x.T * 1.0, "shape", (-1,)), AttributeError),  # a copy needed
    ],
    ids=["bad-size", "not-viewable"],
)
def test_setting_shape_fails_as_numpy(f, error):
    x = np.ones((2, 3))
    with pytest.raises(error) as want:
        f(x.copy())
    with pytest.raises(error) as got:
        npgrad.grad(lambda x: f(x) or np.sum(x))(x)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize(
    "f",
    [lambda x: setattr(x, "shape", (-1,)), lambda x: setattr((x * 1.0)[0:1], "shape", (-1,))],
    ids=["an-argument", "a-view"],
)
def test_setting_shape_where_other_arrays_share_memory_is_refused(f):
    with pytest.raises(npgrad.TraceError, match=r"setting \.shape of an argument.*a = a\.reshape"):
        npgrad.grad(lambda x: f(x) or np.sum(x))(np.ones((2, 3)))
