"""NumPy's answers and errors for the options of the search, count, reduction and
layout rows where a record cannot say it: integer-valued options, NumPy constants
given as options, empty and nan edges, dtypes of small integers, tie rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad


def _run(f, *xs):
    return npgrad.function(f)(*[torch.as_tensor(x) for x in xs])


def _grad(f, x):
    return npgrad.grad(f)(np.asarray(x, dtype=np.float64))


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "int8", "int16", "int32", "bool"])
def test_small_integer_sums_and_products_in_numpys_dtype(dtype):
    x = np.arange(3).astype(dtype)
    fns = [
        lambda x: np.sum(x),
        lambda x: np.prod(x, axis=0),
        lambda x: np.sum(x, initial=1),
        lambda x: np.nansum(x, where=np.array([True, False, True])),
        np.cumsum,
        np.cumprod,
        np.add.accumulate,
        np.multiply.accumulate,
    ]
    for f in fns:
        got, want = _run(f, x), f(x)
        assert got.dtype == getattr(torch, want.dtype.name)
        np.testing.assert_array_equal(got.numpy(), want)


def test_a_negative_initial_of_an_unsigned_sum_is_numpys_overflow():
    x = np.arange(3, dtype=np.uint8)
    for f in (lambda x: np.sum(x, initial=-1), lambda x: np.prod(x, initial=-1)):
        with pytest.raises(OverflowError, match="out of bounds for uint64"):
            f(x)
        with pytest.raises(OverflowError, match="out of bounds for uint64"):
            _run(f, x)


@pytest.mark.parametrize("initial", [np.float32(0.5), np.array(0.5), np.float64(0.5)])
def test_initial_as_a_numpy_scalar_or_0d_array(initial):
    x = np.array([1.0, 2.0, 4.0])
    for f in (np.sum, np.prod, np.max, np.min, np.nanmax):
        got = _run(lambda x, f=f: f(x, initial=initial), x)
        np.testing.assert_array_equal(got.numpy(), f(x, initial=initial))


def test_extremes_with_initial_share_among_tied_elements_only():
    # one rule: the kept elements' maximum (split evenly among the tied elements), then
    # initial=; a tie between the two gives the elements the gradient
    nan = np.nan
    cases = [
        (lambda x: np.nanmax(x, initial=2.0), [1.0, 2.0, nan, 2.0], [0, 0.5, 0, 0.5]),
        (lambda x: np.nanmin(x, initial=1.0), [1.0, 2.0, nan, 1.0], [0.5, 0, 0, 0.5]),
        (lambda x: np.max(x, initial=2.0), [1.0, 2.0, 0.0, 2.0], [0, 0.5, 0, 0.5]),
        (lambda x: np.max(x, initial=2.0), [1.0, 2.0, 0.0, 1.0], [0, 1, 0, 0]),
        (lambda x: np.max(x, initial=3.0), [1.0, 2.0, 0.0, 1.0], [0, 0, 0, 0]),
        # the left-out place holding the tied value takes no share
        (
            lambda x: np.max(x, initial=2.0, where=np.array([True, True, False, True])),
            [1.0, 2.0, 2.0, 2.0],
            [0, 0.5, 0, 0.5],
        ),
        (
            lambda x: np.min(x, initial=5.0, where=np.array([True, False, True, True])),
            [3.0, 3.0, 4.0, 3.0],
            [0.5, 0, 0, 0.5],
        ),
    ]
    for f, x, want in cases:
        np.testing.assert_array_equal(_grad(f, x), want)


def test_integer_options_refuse_floats_as_numpy():
    i = np.array([1, 2])
    for f, exc in [
        (lambda i: np.bincount(i, minlength=2.5), TypeError),
        (lambda i: np.bincount(i, minlength=None), TypeError),
        (lambda x: np.histogram(x, bins=3.0), TypeError),
        (lambda x: np.histogram(x, bins=np.array(3.0)), TypeError),
    ]:
        with pytest.raises(exc) as want:
            f(i)
        with pytest.raises(exc, match=str(want.value)):
            _run(f, i)
    np.testing.assert_array_equal(
        _run(lambda i: np.bincount(i, minlength=np.int64(4)), i), [0, 1, 1, 0]
    )


@pytest.mark.parametrize("bins", [np.int64(3), np.array(3), [], [1.0], np.array([], np.int64)])
def test_histogram_bins_as_numpy_number_or_few_edges(bins):
    x = np.array([1.0, 2.0, 2.5])
    for f in (
        lambda x: np.histogram(x, bins=bins),
        lambda x: np.histogram(x, bins=bins, weights=x, density=True),
    ):
        (got, got_edges), (want, want_edges) = _run(f, x), f(x)
        assert got.dtype == getattr(torch, want.dtype.name)
        assert got_edges.dtype == getattr(torch, want_edges.dtype.name)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
        np.testing.assert_array_equal(got_edges.numpy(), want_edges)


def test_constant_numpy_bins_are_read_under_torch_func():
    t = torch.tensor([0.5, 1.5, -1.0], dtype=torch.float64)
    f = npgrad.function(lambda x: np.sum(x * np.digitize(x, np.array([0.0, 1, 2]))))
    torch.testing.assert_close(torch.func.grad(f)(t), torch.tensor([1.0, 2.0, 0.0], dtype=t.dtype))
    d = np.array([1.0, 2.0, 2.5])

    def heavy(w):
        return np.sum(np.histogram(d, bins=np.array([0.0, 1.5, 3.0]), weights=w)[0] ** 2)

    got = torch.func.grad(npgrad.function(heavy))(torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(got, torch.tensor([2.0, 4.0, 4.0], dtype=torch.float64))


def test_digitize_with_nan_bins():
    x = np.array([-1.0, 0.5, 1.5, 2.0, np.nan])
    nan = np.nan
    # NumPy's nan-last order: followed where the nans come last in the order searched
    for bins in ([0.0, 1.0, nan], [nan, 1.0, 0.0], [nan, nan]):
        for right in (False, True):
            got = _run(lambda x, b=bins, r=right: np.digitize(x, b, right=r), x)
            np.testing.assert_array_equal(got.numpy(), np.digitize(x, bins, right=right))
    with pytest.raises(ValueError, match="monotonically"):
        _run(lambda x: np.digitize(x, [nan, 0.0, 1.0]), x)
    for bins in ([1.0, 0.0, nan], [0.0, nan, 1.0]):
        with pytest.raises(npgrad.TraceError, match="np.digitize with nan bins"):
            _run(lambda x, b=bins: np.digitize(x, b), x)


@pytest.mark.parametrize(("shape", "axis"), [((0, 3), 0), ((0, 3), 1), ((3, 0), 0)])
def test_unique_of_empty_slices_as_numpy(shape, axis):
    x = np.zeros(shape)

    def f(x):
        return np.unique(x, axis=axis, return_index=True, return_inverse=True, return_counts=True)

    for got, want in zip(_run(f, x), f(x), strict=True):
        assert tuple(got.shape) == want.shape
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("order", ["f", "c", "a", None, b"F"])
def test_layout_orders_in_numpys_spellings(order):
    a = np.arange(12.0).reshape(3, 4)
    for f in (
        lambda a: np.reshape(a, 12, order=order),
        lambda a: a.reshape((2, 6), order=order),
        lambda a: np.ravel(a, order=order),
        lambda a: a.flatten(order=order),
    ):
        np.testing.assert_array_equal(_run(f, a).numpy(), f(a))


def test_layout_and_search_errors_name_the_function():
    a = np.arange(4.0)
    with pytest.raises(ValueError, match=r"^np\.reshape: order must be one of"):
        _run(lambda a: np.reshape(a, 4, order="x"), a)
    with pytest.raises(ValueError, match=r"^np\.ravel: order must be one of"):
        _run(lambda a: np.ravel(a, order="x"), a)
    with pytest.raises(TypeError, match=r"^np\.reshape: order must be str"):
        _run(lambda a: np.reshape(a, 4, order=1), a)
    with pytest.raises(ValueError, match=r"^np\.searchsorted: search side must be"):
        _run(lambda a: a.searchsorted(1.0, side="x"), a)


def test_unwrap_of_unsigned_integers_with_a_python_int_period_overflows_as_numpy():
    for dtype in (np.uint8, np.uint16):
        x = np.array([0, 60, 120, 10], dtype)
        with pytest.raises(OverflowError, match=f"-50 out of bounds for {x.dtype}"):
            np.unwrap(x, period=100)
        with pytest.raises(OverflowError, match=f"-50 out of bounds for {x.dtype}"):
            _run(lambda x: np.unwrap(x, period=100), x)
    x = np.array([3, 1, 2], np.uint8)
    for period in (1, 4.0, np.int64(4)):  # no negative bound, or not in uint8: NumPy's
        got = _run(lambda x, p=period: np.unwrap(x, period=p), x)
        want = np.unwrap(x, period=period)
        assert got.dtype == getattr(torch, want.dtype.name)
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("fn", [np.convolve, np.correlate])
def test_convolve_and_correlate_share_numpys_modes_and_exact_integers(fn):
    a, v = np.array([2**40 + 1, 3, -7]), np.array([2**20 + 3, 5])  # past float64's 2**53
    for mode in ("full", "same", "valid", 0, 1, 2, np.int64(2)):
        got, want = _run(lambda a, v, m=mode: fn(a, v, mode=m), a, v), fn(a, v, mode=mode)
        assert got.dtype == torch.int64
        np.testing.assert_array_equal(got.numpy(), want)
    for dtype in (np.int8, np.uint8, np.uint16, np.bool_):
        a8, v8 = np.array([100, 3, 250, 7]).astype(dtype), np.array([9, 200]).astype(dtype)
        got, want = _run(fn, a8, v8), fn(a8, v8)
        assert got.dtype == getattr(torch, want.dtype.name)
        np.testing.assert_array_equal(got.numpy(), want)  # wrapping as NumPy's loop
    for mode, exc in ((2.0, TypeError), (True, TypeError), (None, TypeError), (3, ValueError),
                      ("f", ValueError), ("x", ValueError)):  # fmt: skip
        with pytest.raises(exc):
            fn(a, v, mode=mode)
        with pytest.raises(exc, match=rf"^np\.{fn.__name__}: "):
            _run(lambda a, v, m=mode: fn(a, v, mode=m), a, v)


def test_convolve_of_2d_inputs_is_too_deep_as_numpy():
    for a, v in ((np.ones((2, 2)), np.ones(2)), (np.ones(2), np.ones((2, 2)))):
        with pytest.raises(ValueError, match="object too deep"):
            np.convolve(a, v)
        with pytest.raises(ValueError, match="object too deep"):
            _run(np.convolve, a, v)
    # empties checked after the swap, as NumPy: an empty a is reported as v
    with pytest.raises(ValueError, match="v cannot be empty"):
        _run(np.convolve, np.ones(0), np.ones(2))
    np.testing.assert_array_equal(_run(lambda v: np.convolve(3.0, v), np.ones(2)), [3.0, 3.0])


def test_integer_shapes_and_axes_refuse_floats_as_numpy():
    x = np.arange(6.0).reshape(2, 3)
    for f in (lambda x: np.reshape(x, 6.0), lambda x: np.reshape(x, (2.0, 3)),
              lambda x: np.lexsort(x, axis=0.0)):  # fmt: skip
        with pytest.raises(TypeError) as want:
            f(x)
        with pytest.raises(TypeError, match=str(want.value)):
            _run(f, x)
    for shape in (np.int64(6), (np.int64(3), 2), np.array([3, 2])):
        assert (
            tuple(_run(lambda x, s=shape: np.reshape(x, s), x).shape) == np.reshape(x, shape).shape
        )


@pytest.mark.parametrize("k", [1, -1, 2.0, 1.5, np.int64(7), 5])
def test_rot90_k_as_numpy(k):
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(_run(lambda a: np.rot90(a, k), a).numpy(), np.rot90(a, k))


def test_constant_numpy_bins_compile_in_one_graph():
    f = npgrad.function(lambda x: np.sum(x * np.digitize(x, np.array([0.0, 1, 2]))))
    g = torch.compile(f, fullgraph=True, backend="aot_eager")
    t = torch.tensor([0.5, 1.5, -1.0], dtype=torch.float64, requires_grad=True)
    g(t).backward()
    torch.testing.assert_close(t.grad, torch.tensor([1.0, 2.0, 0.0], dtype=t.dtype))


def _traced_value(f, x):
    from npgrad._trace._engine import trace

    return trace(f, [torch.from_numpy(x)], name="f").numpy()


_BOUNDS = [None, -1, 0, 3, 255, 300, -300, 2.5, np.int16(300), np.inf, np.array(300),
           np.uint8(3), 2**64 - 1]  # fmt: skip


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint64", "int8", "int64", "bool"])
def test_clip_of_integers_reads_bounds_as_numpy(dtype):
    """NumPy 2 drops a Python int bound at or past the dtype's limit on its own side
    (cast, -1 wrapped to a uint8 255 and clamped every element to it), other bounds
    promote, and a Python int that fits no integer result is its OverflowError."""
    x = np.array([0, 1, 5, 100], dtype) if dtype != "bool" else np.array([True, False])
    for lo in _BOUNDS:
        for hi in _BOUNDS:
            try:
                want = np.clip(x, lo, hi)
            except (OverflowError, TypeError) as e:
                with pytest.raises(type(e) if isinstance(e, OverflowError) else TypeError):
                    _traced_value(lambda a, lo=lo, hi=hi: np.clip(a, lo, hi), x)
                continue
            got = _traced_value(lambda a, lo=lo, hi=hi: np.clip(a, lo, hi), x)
            assert got.dtype == want.dtype, (lo, hi)
            np.testing.assert_array_equal(got, want, err_msg=f"{lo!r}, {hi!r}")


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint64", "int8", "bool"])
def test_trace_of_integers_in_numpys_dtype(dtype):
    x = np.array([[2**64 - 1, 2**63, 1], [5, 0, 2**63 + 3]], dtype=np.uint64).astype(dtype)
    for offset in (0, 1):
        want = np.trace(x, offset)
        got = _traced_value(lambda a, k=offset: np.trace(a, k), x)
        assert got.dtype == want.dtype and got == want


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_any_and_all_of_uint8_are_bools(axis):
    x = np.array([[0, 3], [2, 0]], np.uint8)
    for f in (np.any, np.all):
        got = _traced_value(lambda a, f=f: f(a, axis=axis), x)
        want = f(x, axis=axis)
        assert got.dtype == want.dtype == np.bool_
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint32", "uint64", "float32"])
def test_trace_with_an_integer_dtype_wraps_as_numpy(dtype):
    m = np.full((3, 3), 250, np.uint8)
    want = np.trace(m, dtype=dtype)
    got = _traced_value(lambda a: np.trace(a, dtype=dtype), m)
    assert got.dtype == want.dtype and got == want


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_nanvar_of_complex_is_the_real_mean_squared_modulus(axis):
    c = np.array([[1 + 2j, np.nan, 3 - 1j], [np.nan + 0j, 2j, 1]])
    want = np.nanvar(c, axis=axis)
    got = _traced_value(lambda a: np.nanvar(a, axis=axis), c)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12)
