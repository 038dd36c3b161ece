"""Behaviour the records cannot express for Fortran-order reshapes, the two-output
ufuncs and the other rows added with them: views and copies, refused options,
NumPy's errors, the choices at the points where a function jumps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad
import npgrad._mappings  # noqa: F401 - registers every row before trace() runs
from npgrad._trace._engine import trace


def _x(*shape):
    gen = torch.Generator().manual_seed(7)
    return torch.rand(shape, generator=gen, dtype=torch.float64) * 4 - 2


def _run(fn, *args):
    return npgrad.function(fn, name="probe", mode="auto")(*args)


def test_fortran_reshape_copies_and_views_as_numpy():
    def into_copy(x):
        a = x * 1.0
        b = a.reshape(6, 2, order="F")  # a copy in NumPy and torch: the write stays there
        b[0] = 5.0
        return np.sum(a * 2) + np.sum(b * 3)

    x = _x(3, 4)
    torch.testing.assert_close(_run(into_copy, x).item(), into_copy(x.numpy()))

    def into_view(x):
        a = (x * 1.0).T
        b = a.reshape(12, order="F")  # a view of a Fortran-contiguous array
        b[0] = 5.0
        return np.sum(a)

    with pytest.raises(npgrad.TraceError, match="shares memory with the result of np.reshape"):
        _run(into_view, x)


def test_reshape_errors_are_numpys():
    x = _x(3, 4)
    with pytest.raises(ValueError, match="order 'K' is not permitted"):
        _run(lambda x: np.reshape(x, 12, order="K"), x)
    with pytest.raises(ValueError, match="order must be one of"):
        _run(lambda x: np.reshape(x, 12, order="X"), x)
    with pytest.raises(ValueError, match="Unable to avoid creating a copy"):
        _run(lambda x: np.reshape(x.T, 12, copy=False), x)
    # a view is possible: copy=False is NumPy's view
    got = _run(lambda x: np.reshape(x.T, 12, order="F", copy=False), x)
    torch.testing.assert_close(got, x.reshape(-1))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16])
@pytest.mark.parametrize("ufunc", [np.frexp, np.modf])
def test_two_output_ufuncs_at_zeros_infinities_and_nans(ufunc, dtype):
    x = torch.tensor([-2.0, -0.0, 0.0, 1.5, -0.25, np.inf, -np.inf, np.nan], dtype=dtype)
    got = npgrad.function(ufunc, name="probe", mode="auto", nonfinite="ignore")(x)
    want = ufunc(x.numpy())
    assert isinstance(got, tuple) and len(got) == 2
    for g, w in zip(got, want):
        g = g.numpy()
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))  # -0.0 of -2.0


def test_frexp_of_a_subnormal_and_the_derivatives_where_they_jump():
    tiny = torch.tensor([5e-320], dtype=torch.float64)
    m, e = _run(np.frexp, tiny)
    np.testing.assert_array_equal(m.numpy(), np.frexp(tiny.numpy())[0])
    assert e.dtype == torch.int32 and e.item() == -1060
    # at a power of two and at an integer: the derivative from the right
    x = torch.tensor([1.0, 0.0, 2.0, -3.0], dtype=torch.float64, requires_grad=True)
    m = npgrad.function(lambda x: np.frexp(x)[0], name="probe", mode="auto")(x)
    (g,) = torch.autograd.grad(m.sum(), x)
    torch.testing.assert_close(g, torch.tensor([0.5, 1.0, 0.25, 0.25], dtype=torch.float64))
    f = npgrad.function(lambda x: np.modf(x)[0], name="probe", mode="auto")(x)
    (g,) = torch.autograd.grad(f.sum(), x)
    torch.testing.assert_close(g, torch.ones(4, dtype=torch.float64))


def test_two_output_ufuncs_refuse_out_and_i0_refuses_complex():
    x = _x(4)

    def into(x):
        a, b = np.zeros_like(x), np.zeros_like(x)
        return np.modf(x, out=(a, b))

    with pytest.raises(npgrad.TraceError, match="out="):
        _run(into, x)
    with pytest.raises(TypeError, match="i0 not supported for complex values"):
        _run(lambda x: np.i0(x + 1j), x)


def test_meshgrid_views_refuse_writes_and_copies_take_them():
    def into_copy(x, y):
        gx, gy = np.meshgrid(x, y)
        gx[0, 0] = 5.0
        return np.sum(gx) + np.sum(x)

    x, y = _x(3), _x(2)
    torch.testing.assert_close(_run(into_copy, x, y).item(), into_copy(x.numpy(), y.numpy()))

    def into_view(x, y):
        gx, gy = np.meshgrid(x * 1.0, y, copy=False)
        gx[0, 0] = 5.0  # NumPy would write through the broadcast view
        return gx

    with pytest.raises(npgrad.TraceError, match="shares memory with the result of np.meshgrid"):
        _run(into_view, x, y)
    with pytest.raises(ValueError, match="Valid values for `indexing`"):
        _run(lambda x, y: np.meshgrid(x, y, indexing="yx"), x, y)


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (lambda x: np.block([[x], x]), ValueError, r"List depths are mismatched.*arrays\[1\]"),
        (lambda x: np.block([[x], []]), ValueError, r"List at arrays\[1\] cannot be empty"),
        (lambda x: np.block([[x, (x, x)]]), TypeError, r"arrays\[0\]\[1\] is a tuple"),
        (lambda x: np.block([x, x[:, :1].T]), ValueError, "do not fit together"),
    ],
)
def test_block_errors_are_numpys(bad, exc, match):
    x = _x(2, 2)
    with pytest.raises(exc, match=match):
        _run(bad, x)


def test_correlate_conjugates_the_second_input_and_raises_numpys_errors():
    a, v = _x(2, 3), _x(2, 4)  # real and imaginary parts (npgrad takes real arrays)

    def f(a, v, mode):
        return np.abs(np.correlate(a[0] + 1j * a[1], v[0] + 1j * v[1], mode))

    for mode in ("valid", "same", "full", 1):
        got = _run(lambda a, v, mode=mode: f(a, v, mode), a, v)
        np.testing.assert_allclose(got.numpy(), f(a.numpy(), v.numpy(), mode), rtol=1e-12)
    x = _x(4)
    with pytest.raises(ValueError, match="mode must be one of"):
        _run(lambda x: np.correlate(x, x, "middle"), x)
    with pytest.raises(ValueError, match="too deep"):
        _run(lambda x: np.correlate(x.reshape(2, 2), x), x)
    with pytest.raises(ValueError, match="second array argument cannot be empty"):
        _run(lambda x: np.correlate(x, x[:0]), x)


@pytest.mark.parametrize("period", [4, 4.0, 5])
def test_unwrap_at_jumps_of_exactly_half_a_period(period):
    p = np.array([0, 2, 4, 2, 0, -2, 1, 3, 5, 10], dtype=type(period))
    got = trace(lambda p: np.unwrap(p, period=period), [torch.from_numpy(p)], name="probe")
    want = np.unwrap(p, period=period)
    assert got.numpy().dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want)


def test_polyfit_warns_checks_and_returns_rcond_as_numpy():
    x, y = _x(6), _x(6)
    with pytest.warns(np.exceptions.RankWarning, match="poorly conditioned"):
        _run(lambda x, y: np.polyfit(x, y, 8), x, y)
    got = trace(lambda x, y: np.polyfit(x, y, 2, full=True), [x, y], name="probe")
    want = np.polyfit(x.numpy(), y.numpy(), 2, full=True)
    assert len(got) == 5
    assert got[2].dtype == torch.int32 and got[2].item() == want[2]
    assert float(got[4]) == want[4]  # len(x) * float64's eps
    with pytest.raises(ValueError, match="expected deg >= 0"):
        _run(lambda x, y: np.polyfit(x, y, -1), x, y)
    with pytest.raises(TypeError, match="expected x and y to have same length"):
        _run(lambda x, y: np.polyfit(x, y[:4], 1), x, y)
    with pytest.raises(TypeError, match="expected 1D vector for x"):
        _run(lambda x, y: np.polyfit(x.reshape(2, 3), y, 1), x, y)
    with pytest.raises(ValueError, match="number of data points must exceed order"):
        _run(lambda x, y: np.polyfit(x[:3], y[:3], 2, cov=True), x, y)


def test_apply_along_axis_slices_are_views_and_later_results_are_cast():
    def writer(a):
        b = a * 1.0

        def zero_first(v):
            v[0] = 0.0  # NumPy's slice is a view: the write reaches b
            return np.sum(v)

        r = np.apply_along_axis(zero_first, 1, b)
        return np.sum(b * 3) + np.sum(r)

    x = _x(3, 4)
    torch.testing.assert_close(_run(writer, x).item(), writer(x.numpy()))

    def first_int(a):
        calls = []

        def f(v):
            calls.append(0)
            return np.argmax(v) if len(calls) == 1 else np.sum(v) * 10  # cast to int64

        return np.apply_along_axis(f, 1, a)

    got = trace(first_int, [x], name="probe")
    want = first_int(x.numpy())
    assert got.numpy().dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(ValueError, match="iteration dimensions are 0"):
        _run(lambda a: np.apply_along_axis(np.sum, 0, a[:0].T), x)
    with pytest.raises(np.exceptions.AxisError):
        _run(lambda a: np.apply_along_axis(np.sum, 2, a), x)


def test_apply_along_axis_passes_a_dtype_keyword_on_as_numpys():
    x = _x(3, 4)
    got = trace(lambda a: np.apply_along_axis(np.mean, 0, a, dtype=np.float32), [x], name="p")
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), np.mean(x.numpy(), 0, dtype=np.float32), rtol=1e-6)
