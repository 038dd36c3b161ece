"""Every elementwise NumPy ufunc row against NumPy's own values over its whole domain
(tiny and huge magnitudes, signed zeros, infinities, nan, values near 1 and near the
branch points), float64 and float32; gradients against central differences of
NumPy's function; and the statistics prone to cancellation.  The list of rows is
read from the registry, so a new row is swept without an edit here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import npgrad
import npgrad._mappings  # noqa: F401 - registers the rows read below
from npgrad._trace._registry import UFUNCS

# the allowed error in units in the last place of NumPy's value, one table per dtype;
# both libraries' transcendental functions are within 1 ulp of the exact value
# (torch's Sleef and NumPy's libm/SVML loops), so two of them may differ by 2
ULPS = {np.float64: 2.0, np.float32: 2.0}
# rows whose value is a cancellation (logaddexp(-2, -0.5) = -0.5 + 0.437): an ulp of
# the terms is many ulps of a small result, so the error is counted in ulps of the
# larger argument; NumPy and torch differ by up to 8 ulps of -0.063 there, both about
# 4 ulps from the exact value
SCALED_BY_ARGUMENT = {np.logaddexp, np.logaddexp2}
# the gradient against central differences (step 1e-6 of the point, which the
# differences' own truncation and rounding limit to about 1e-8)
GRAD_RTOL = 1e-6


def _ufunc_rows():
    rows = [
        u
        for u, row in UFUNCS.items()
        if isinstance(u, np.ufunc) and row.name.startswith("numpy.") and u.signature is None
    ]
    params = []
    for u in sorted(rows, key=lambda f: f.__name__):
        floats = any(t.split("->")[0] in ("d", "dd") for t in u.types)
        for dt in (np.float64, np.float32) if floats else (np.int64,):
            params.append(pytest.param(u, dt, id=f"np.{u.__name__}-{dt.__name__}"))
    return params


UFUNC_ROWS = _ufunc_rows()


def _unary_grid(dt):
    fi = np.finfo(dt)
    one = [1 - fi.eps, 1 - fi.epsneg / 2, 1.0, 1 + fi.eps, 1.0001]
    magnitudes = [0.0, fi.smallest_subnormal, fi.tiny, 1e-300, 1e-200, 1e-40, 1e-20, 1e-10]
    magnitudes += [1e-8, 1e-5, 1e-3, 0.1, 0.25, 0.5, *one, 1.5, 2.0, math.e, 3.0, math.pi]
    # past exp's overflow (88.7 float32, 709.8 float64) and where cosh still is finite
    magnitudes += [10.0, 30.0, 88.0, 89.0, 100.0, 700.0, 709.5, 710.0, 1e4, 1e8, 1e15]
    magnitudes += [1e16, 1e20, 1e100, 1e300, float(fi.max), math.inf]
    with np.errstate(over="ignore"):
        v = np.unique(np.array(magnitudes).astype(dt))
    return [np.concatenate([v, -v, [np.nan]]).astype(dt)]


def _binary_grid(dt):
    fi = np.finfo(dt)
    magnitudes = [0.0, fi.smallest_subnormal, 1e-30, 1e-8, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 7.0]
    magnitudes += [40.0, 1e8, 1e30, float(fi.max), math.inf]
    v = np.unique(np.array(magnitudes).astype(dt))
    v = np.concatenate([v, -v, [np.nan]]).astype(dt)
    a, b = np.meshgrid(v, v, indexing="ij")
    return [a.ravel(), b.ravel()]


def _int_grid(nin):
    v = np.array([0, 1, 2, 3, 7, 31, 62, 2**40, 2**62, -1, -2, -7, -(2**62)], dtype=np.int64)
    if nin == 1:
        return [v]
    small = np.array([0, 1, 2, 5, 31], dtype=np.int64)
    a, b = np.meshgrid(v, small, indexing="ij")
    return [a.ravel(), b.ravel()]


def _traced(u, args):
    """npgrad's values of ``u(*args)`` and the dtypes the traced call produced (the
    op itself gives its outputs in the op's dtype)."""
    dtypes = []

    def f(*xs):
        out = u(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        dtypes[:] = [o.dtype for o in outs]
        return outs

    got = npgrad.function(f, mode="auto", nonfinite="ignore")(*map(torch.from_numpy, args))
    return [g.numpy() for g in got], dtypes


def _ulps(got, want, scale):
    """|got - want| in ulps of ``scale``; 0 where they are equal or both nan."""
    with np.errstate(invalid="ignore", over="ignore"):
        spacing = np.spacing(np.abs(scale)).astype(np.float64)
        err = np.abs(got.astype(np.float64) - want.astype(np.float64)) / spacing
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


@pytest.mark.parametrize(("u", "dt"), UFUNC_ROWS)
def test_values_as_numpy(u, dt):
    args = _int_grid(u.nin) if dt is np.int64 else (_unary_grid if u.nin == 1 else _binary_grid)(dt)
    if u in (np.left_shift, np.right_shift):
        args[0] = args[0] % 2**20  # NumPy's shift of an int64 past its width is undefined C
    with np.errstate(all="ignore"):
        want = u(*args)
    wants = want if isinstance(want, tuple) else (want,)
    got, dtypes = _traced(u, args)
    for k, (g, w) in enumerate(zip(got, wants, strict=True)):
        assert dtypes[k] == w.dtype, (k, dtypes[k], w.dtype)
        with np.errstate(over="ignore"):  # the op gives float_power's float64 as float32
            w = w.astype(g.dtype) if w.dtype != g.dtype else w
        if w.dtype.kind != "f":
            bad = np.nonzero(g != w)[0]
            assert not bad.size, [(tuple(a[i] for a in args), g[i], w[i]) for i in bad[:5]]
            continue
        scale = w
        if u in SCALED_BY_ARGUMENT:
            scale = np.maximum(np.abs(w), np.maximum(np.abs(args[0]), np.abs(args[1])))
        err = _ulps(g, w, scale)
        bad = np.nonzero(err > ULPS[dt])[0]
        report = [(tuple(float(a[i]) for a in args), float(g[i]), float(w[i])) for i in bad[:6]]
        assert not bad.size, f"output {k}: {err.max():.3g} ulps at {report}"
        zero = np.nonzero((w == 0) & (np.signbit(g) != np.signbit(w)))[0]
        assert not zero.size, [(tuple(float(a[i]) for a in args), g[i], w[i]) for i in zero[:6]]


def _differentiable(u):
    row = UFUNCS[u]
    return row.differentiable and any(t.split("->")[0] in ("d", "dd") for t in u.types)


# piecewise rows: a relative step at the grid's points straddles their jumps (fmod's
# period beside 1e30, floor's identity past 2**52, nextafter's grid) or sits on a tie
# (maximum of +0 and -0), where the differences measure no derivative; their
# conventions are tested with the rows
PIECEWISE = {np.floor, np.ceil, np.trunc, np.rint, np.floor_divide, np.divmod, np.fmod}
PIECEWISE |= {np.remainder, np.modf, np.frexp, np.nextafter, np.maximum, np.minimum}
PIECEWISE |= {np.fmax, np.fmin, np.sign, np.heaviside}
GRAD_ROWS = [
    pytest.param(u, id=f"np.{u.__name__}")
    for u, dt in (p.values for p in UFUNC_ROWS)
    if dt is np.float64 and _differentiable(u) and u not in PIECEWISE
]


def _central(u, args, k, out, h):
    """The central difference, and whether the step changed the value by more than
    its rounding (x + 1e-30 beside 1e30 does not: no difference is measured there)."""

    def f(x):
        a = list(args)
        a[k] = x
        r = u(*a)
        return (r if isinstance(r, tuple) else (r,))[out]

    # relative to the point (a step across 0 would miss a kink there); 0 at the
    # smallest points, whose differences are then nan and not compared
    step = np.where(args[k] == 0, h, h * np.abs(args[k]))
    with np.errstate(all="ignore"):
        up, down, mid = f(args[k] + step), f(args[k] - step), f(args[k])
        seen = np.abs(up - down) > 1e-9 * np.abs(mid)
        return (up - down) / (2 * step), seen


@pytest.mark.parametrize("u", GRAD_ROWS)
def test_gradients_as_central_differences(u):
    """Where NumPy's function is smooth around a point (two step sizes agree), the
    gradient is the central difference; the points include the extreme ones."""
    args = (_unary_grid if u.nin == 1 else _binary_grid)(np.float64)
    with np.errstate(all="ignore"):
        want = u(*args)
    wants = want if isinstance(want, tuple) else (want,)
    checked = 0
    for out, w in enumerate(wants):
        if w.dtype.kind != "f":  # a comparison's bools carry no gradient
            continue
        for k in range(u.nin):
            coarse, seen = _central(u, args, k, out, 1e-6)
            fine, _ = _central(u, args, k, out, 1e-7)
            with np.errstate(all="ignore"):
                smooth = seen & np.isfinite(coarse)
                smooth &= np.abs(coarse - fine) <= 1e-5 * np.abs(coarse)
                smooth &= np.abs(coarse) < 1e200  # the differences' own rounding, past that
            if not smooth.any():
                continue

            def loss(*xs, out=out):
                r = u(*xs)
                return np.sum((r if isinstance(r, tuple) else (r,))[out])

            pts = [a[smooth] for a in args]
            grads = npgrad.grad(loss, argnums=tuple(range(u.nin)))(*pts)
            g = np.asarray(grads[k])
            # atol: a derivative that underflows (arctan's 1 / (1 + x * x) at 1e150,
            # 1e-300) is 0 in torch's formula as in any float64 one
            np.testing.assert_allclose(g, coarse[smooth], rtol=GRAD_RTOL, atol=1e-290,
                                       err_msg=f"d/dx{k} of output {out}")  # fmt: skip
            checked += int(smooth.sum())
    if all(w.dtype.kind == "f" for w in wants):
        assert checked > 0


# ------------------------------------------------------------------ not ufuncs
def _value(f, *xs):
    return npgrad.function(f, mode="auto", nonfinite="ignore")(*map(torch.from_numpy, xs)).numpy()


def _assert_ulps(got, want, ulps):
    got, want = np.asarray(got), np.asarray(want)
    err = _ulps(got, want, want)
    assert err.max() <= ulps, (err.max(), got, want)


@pytest.mark.parametrize("dt", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(
    "f",
    [
        pytest.param(np.sinc, id="sinc"),
        pytest.param(np.i0, id="i0"),
        pytest.param(np.angle, id="angle"),
        pytest.param(lambda x: np.angle(x, deg=True), id="angle-deg"),
    ],
)
def test_elementwise_functions(f, dt):
    (x,) = _unary_grid(dt)
    with np.errstate(all="ignore"):
        # NumPy's float32 i0 sums its series in float32 (i0(1e-8) is 0.99999994, i0(89)
        # inf); the row's in float64, rounded once: NumPy's float64 value, rounded
        want = f(x.astype(np.float64)).astype(dt) if f is np.i0 else f(x)
    _assert_ulps(_value(lambda t: f(t), x), want, ULPS[dt])


RNG = np.random.default_rng(11)
OFFSET = 1e8 + RNG.standard_normal(1000)  # the deviations' cancellation


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(lambda t: np.var(t), id="var"),
        pytest.param(lambda t: np.var(t, ddof=1), id="var-ddof1"),
        pytest.param(lambda t: np.std(t), id="std"),
        pytest.param(lambda t: np.cov(t.reshape(4, 250)), id="cov"),
        pytest.param(lambda t: np.corrcoef(t.reshape(4, 250)), id="corrcoef"),
        pytest.param(lambda t: np.mean(t), id="mean"),
    ],
)
def test_statistics_with_a_large_offset(f):
    # both two-pass: within a few ulps of each other (the mean's rounding enters
    # both); an off-diagonal entry is a cancellation, counted in ulps of the diagonal
    got, want = np.asarray(_value(f, OFFSET)), np.asarray(f(OFFSET))
    scale = want
    if want.ndim == 2:
        scale = np.sqrt(np.abs(np.outer(np.diag(want), np.diag(want))))
    err = _ulps(got, want, scale)
    assert err.max() <= 8, (err.max(), got, want)


def test_var_of_many_values_as_numpy():
    """1e6 values near 1000: NumPy's two passes give the exact 0.0834013339165131;
    torch.var's single pass was 100 ulps below it."""
    x = RNG.uniform(0, 1, 10**6) + 1000.0
    mean = math.fsum(x) / x.size
    exact = math.fsum((x - mean) ** 2) / x.size
    _assert_ulps(np.var(x), exact, 2)  # the reference itself
    _assert_ulps(_value(lambda t: np.var(t), x), np.var(x), 2)
    # float32 data: within float32 rounding of the float64 computation on its values
    x32 = x.astype(np.float32)
    _assert_ulps(_value(lambda t: np.var(t), x32), np.float32(np.var(x32.astype(float))), 1)
    _assert_ulps(_value(lambda t: np.mean(t), x32), np.float32(np.mean(x32.astype(float))), 1)


def test_var_gradient_with_a_large_offset():
    n = OFFSET.size
    g = npgrad.grad(lambda t: np.var(t, ddof=1))(OFFSET)
    want = 2 * (OFFSET - OFFSET.mean()) / (n - 1)
    # each deviation carries the mean's rounding, 1e-8 of 1e8: absolute, not relative
    np.testing.assert_allclose(g, want, rtol=0, atol=1e-7 * np.abs(want).max())


# NumPy's norm raises its values to the power (cubes for ord=3): 1e+-100 is near the
# edge where it still is right; at 1e-170 and 1e170 its 2-norm is 0 and inf, which the
# row gives too
@pytest.mark.parametrize("scale", [1e-100, 1e-90, 1e90, 1e100])
@pytest.mark.parametrize(
    "f",
    [
        pytest.param(lambda t: np.linalg.norm(t), id="2"),
        pytest.param(lambda t: np.linalg.norm(t, 3), id="3"),
        pytest.param(lambda t: np.linalg.norm(t.reshape(2, 5)), id="fro"),
    ],
)
def test_norm_of_huge_and_tiny_values(f, scale):
    x = RNG.standard_normal(10) * scale
    _assert_ulps(_value(f, x), f(x), 4)
    # the gradient of the 2-norm is x / |x|, of order one whatever the scale
    # (the reference scaled first, exact whatever the squares do)
    g = npgrad.grad(lambda t: np.linalg.norm(t))(x)
    np.testing.assert_allclose(g, x / (scale * np.linalg.norm(x / scale)), rtol=1e-12)


@pytest.mark.parametrize("scale", [1e-170, 1e170])
def test_norm_where_numpy_squares_past_the_range(scale):
    x = RNG.standard_normal(10) * scale
    with np.errstate(over="ignore", under="ignore"):
        want = np.linalg.norm(x)
    assert want in (0.0, np.inf)
    assert _value(lambda t: np.linalg.norm(t), x) == want
