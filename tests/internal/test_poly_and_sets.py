"""Behaviour the records cannot express for the polynomial rows, the array-API
unique_* rows, histogram_bin_edges and the *_indices_from rows: refused arguments,
NumPy's errors, and where the gradient goes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad


def _run(f, *xs):
    return npgrad.function(f)(*[torch.as_tensor(np.asarray(x, dtype=np.float64)) for x in xs])


def test_polynomials_refuse_poly1d_and_matrices():
    p = np.poly1d([1.0, 2.0])
    for f in (np.polyadd, np.polysub, np.polymul):
        with pytest.raises(npgrad.TraceError, match=r"poly1d.*p\.coeffs"):
            _run(lambda x, f=f: f(x, p), [1.0, 2.0])
    for f in (np.polyder, np.polyint):
        with pytest.raises(npgrad.TraceError, match=rf"np\.{f.__name__} of a 2-d array"):
            _run(f, np.ones((3, 2)))
    with pytest.raises(npgrad.TraceError, match=r"np\.polyadd of a 2-d array"):
        _run(lambda x: np.polyadd(x, [1.0]), np.ones((2, 2)))


def test_polynomial_errors_as_numpy():
    with pytest.raises(ValueError, match="Order of derivative must be positive"):
        _run(lambda x: np.polyder(x, -1), [1.0, 2.0])
    with pytest.raises(ValueError, match="Order of integral must be positive"):
        _run(lambda x: np.polyint(x, -1), [1.0, 2.0])
    with pytest.raises(ValueError, match="k must be a scalar or a rank-1 array"):
        _run(lambda x: np.polyint(x, 3, k=[1.0, 2.0]), [1.0, 2.0])
    with pytest.raises(TypeError, match="boolean subtract"):
        npgrad.function(lambda x: np.polysub(x, [True]))(torch.tensor([True, False]))
    with pytest.raises(TypeError, match="unsized"):
        _run(np.polyder, 2.0)


def test_polyint_gradient_reaches_traced_constants():
    # k is the last coefficient; NumPy dispatches np.polyint on p alone, so p is traced
    g = npgrad.grad(lambda p, k: np.sum(np.polyint(p, k=k) * [1.0, 2.0, 3.0]), argnums=(0, 1))(
        np.array([1.0, 2.0]), np.float64(0.5)
    )
    np.testing.assert_array_equal(g[0], [0.5, 2.0])
    assert g[1] == 3.0


def test_unique_values_of_integers_is_refused():
    # NumPy 2.3 returns them in its hash table's order, which is not followed
    f = npgrad.function(np.unique_values)
    with pytest.raises(npgrad.TraceError, match=r"np\.unique_values of int64.*hash"):
        f(torch.tensor([3, 1, 3]))
    r = npgrad.function(lambda x: np.unique_counts(x).counts)(torch.tensor([3, 1, 3]))
    np.testing.assert_array_equal(r, [1, 2])


def test_unique_values_under_torch_func_is_refused():
    with pytest.raises(npgrad.TraceError, match="how many are unique"):
        op = npgrad.function(lambda x: np.sum(np.unique_values(x)))
        torch.func.grad(op)(torch.tensor([1.0, 2.0], dtype=torch.float64))


def test_unique_all_gradient_goes_to_the_first_occurrence():
    x = torch.tensor([2.0, 1.0, 2.0, 1.0], dtype=torch.float64, requires_grad=True)
    npgrad.function(lambda x: np.sum(np.unique_all(x).values * [1.0, 10.0]))(x).backward()
    np.testing.assert_array_equal(x.grad, [10.0, 1.0, 0.0, 0.0])


def test_histogram_bin_edges_errors_as_numpy():
    with pytest.raises(ValueError, match="weights should have the same shape"):
        _run(lambda x: np.histogram_bin_edges(x, weights=np.ones(2)), [1.0, 2.0, 3.0])
    with pytest.raises(npgrad.TraceError, match=r"np\.histogram_bin_edges\(\.\.\., bins='auto'"):
        _run(lambda x: np.histogram_bin_edges(x, "auto"), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="must increase monotonically"):
        _run(lambda x: np.histogram_bin_edges(x, [1.0, 0.0]), [1.0, 2.0, 3.0])


def test_indices_from_errors_as_numpy():
    with pytest.raises(ValueError, match="must be 2-d"):
        _run(np.triu_indices_from, [1.0, 2.0])
    with pytest.raises(ValueError, match="must be 2-d"):
        _run(np.tril_indices_from, np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="at least 2-d"):
        _run(np.diag_indices_from, [1.0, 2.0])
    with pytest.raises(ValueError, match="equal length"):
        _run(np.diag_indices_from, np.ones((2, 3)))
    with pytest.raises(npgrad.TraceError, match=r"np\.triu_indices_from\(\.\.\., k=float\)"):
        _run(lambda x: np.triu_indices_from(x, 0.5), np.ones((2, 2)))


def test_histogram2d_errors_as_numpy():
    x, y = [0.0, 1.0, 2.0], [1.0, 0.5, 0.25]
    with pytest.raises(ValueError, match="dimension of bins must be equal"):
        _run(lambda x, y: np.histogram2d(x, y, [3]), x, y)
    with pytest.raises(ValueError, match=r"`bins\[1\]` must be positive"):
        _run(lambda x, y: np.histogram2d(x, y, [3, 0]), x, y)
    with pytest.raises(ValueError, match=r"`bins\[0\]` must be monotonically increasing"):
        _run(lambda x, y: np.histogram2d(x, y, [[1.0, 0.0], 2]), x, y)
    with pytest.raises(ValueError, match="one entry per dimension"):
        _run(lambda x, y: np.histogram2d(x, y, range=[(0, 1)]), x, y)
    with pytest.raises(npgrad.TraceError, match=r"np\.histogram2d of x and y other than"):
        _run(lambda x, y: np.histogram2d(x, y), np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(npgrad.TraceError, match=r"weights=\) of a shape"):
        _run(lambda x, y: np.histogram2d(x, y, weights=np.ones(2)), x, y)


def test_spacing_has_no_gradient_nextafter_that_of_x1():
    x = np.array([0.5, -2.0, 4.0])  # 4.0: a power of two, where spacing jumps
    g = npgrad.grad(lambda x: np.sum(x + np.spacing(x) * 1e10 + np.nextafter(x, 0.0) * 2.0))(x)
    np.testing.assert_array_equal(g, [3.0, 3.0, 3.0])
    g = npgrad.grad(lambda y: np.sum(np.nextafter(x, y)))(np.array([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_put_along_axis_refusals_and_errors():
    def writing(idx, axis):
        def f(x):
            out = x * 1.0
            np.put_along_axis(out, idx, 0.0, axis)
            return out

        return f

    with pytest.raises(npgrad.TraceError, match=r"axis=None\) \(NumPy leaves arr unchanged"):
        _run(writing(np.array([0]), None), np.ones((2, 2)))
    with pytest.raises(IndexError, match="must be an integer array"):
        _run(writing(np.array([[0.0]]), 0), np.ones((2, 2)))
    with pytest.raises(ValueError, match="same number of dimensions"):
        _run(writing(np.array([0]), 0), np.ones((2, 2)))
    with pytest.raises(npgrad.TraceError):  # the caller's NumPy array: not followed
        _run(lambda v: np.put_along_axis(np.ones((2, 2)), np.array([[0, 1]]), v, 0), [1.0, 2.0])


def test_choose_refusals_and_errors():
    x = [1.0, 2.0]
    with pytest.raises(npgrad.TraceError, match=r"mode= is not supported"):
        _run(lambda x: np.choose([0, 1], [x, x], mode="wrap"), x)
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        _run(lambda x: np.choose([0, 2], [x, x]), x)
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        _run(lambda x: np.choose(np.argmax(x) + 1, [x, x]), x)
    with pytest.raises(TypeError, match="Cannot cast array data"):
        _run(lambda x: np.choose(x, [x, x]), x)


def test_compress_and_extract_errors_and_transforms():
    x = np.arange(4.0)
    with pytest.raises(ValueError, match="condition must be a 1-d array"):
        _run(lambda x: np.compress([[True]], x), x)
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 0 with size 4"):
        _run(lambda x: np.compress([1, 0, 0, 0, 1], x), x)
    with pytest.raises(IndexError, match="index 5 is out of bounds"):
        _run(lambda x: np.extract([1, 0, 0, 0, 0, 1], x), x)
    # a constant condition keeps the shape known: followed under torch.func
    g = npgrad.grad(lambda x: np.sum(np.compress([True, False, True], x) ** 2))(x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 4.0, 0.0])
    # a traced one decides the length from values: refused by name there
    with pytest.raises(npgrad.TraceError, match=r"np\.extract needs the condition's values"):
        torch.func.grad(npgrad.function(lambda x: np.sum(np.extract(x > 1, x))))(torch.tensor(x))


def test_broadcast_arrays_share_memory_so_writes_are_refused():
    def f(x):
        y = x * 1.0
        a, b = np.broadcast_arrays(y, np.ones((2, 1)))
        y[0] = 5.0  # NumPy's a would see it
        return a

    with pytest.raises(npgrad.TraceError, match="shares memory with the result of np.broadcast"):
        _run(f, [1.0, 2.0])


def test_resize_errors_as_numpy():
    with pytest.raises(ValueError, match="must be non-negative"):
        _run(lambda x: np.resize(x, (2, -1)), [1.0, 2.0])


def test_delete_errors_as_numpy_and_traced_obj_under_transforms():
    x = np.arange(5.0)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 5"):
        _run(lambda x: np.delete(x, [5]), x)
    with pytest.raises(IndexError, match="integer \\(or boolean\\) type"):
        _run(lambda x: np.delete(x, np.array([1.0])), x)
    with pytest.raises(ValueError, match="match the axis length of 5"):
        _run(lambda x: np.delete(x, np.array([True])), x)
    g = npgrad.grad(lambda x: np.sum(np.delete(x, [0, 3]) ** 2))(x)
    np.testing.assert_array_equal(g, [0.0, 2.0, 4.0, 0.0, 8.0])
    with pytest.raises(npgrad.TraceError, match=r"np\.delete needs obj's values"):
        torch.func.grad(npgrad.function(lambda x: np.sum(np.delete(x, np.argmax(x)))))(
            torch.tensor(x)
        )


def test_insert_errors_as_numpy():
    x = np.arange(4.0)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 4"):
        _run(lambda x: np.insert(x, 5, 1.0), x)
    with pytest.raises(IndexError, match="out of bounds"):
        _run(lambda x: np.insert(x, [1, -9], 1.0), x)
    with pytest.raises(ValueError, match="one dimensional or scalar"):
        _run(lambda x: np.insert(x, [[1]], 1.0), x)
    with pytest.raises(npgrad.TraceError, match="complex values into a real array"):
        _run(lambda x: np.insert(x, 1, 1j), x)
    g = npgrad.grad(lambda v: np.sum(np.insert(x, [0, 2], v) * np.arange(6.0)))(np.zeros(2))
    np.testing.assert_array_equal(g, [0.0, 3.0])  # v lands at 0 and 3 (after the first)
    with pytest.raises(npgrad.TraceError, match=r"np\.insert needs obj's values"):
        torch.func.grad(npgrad.function(lambda x: np.sum(np.insert(x, np.argmax(x), 1.0))))(
            torch.tensor(x)
        )


@pytest.mark.parametrize(
    "a, b",
    [([0.0, 1.0], [1.0, 2.0]), ([0.0, 0.0], [1.0, 2.0]), ([], [1.0, 2.0]), ([0, 0, 3], [0, 1, 2])],
    ids=["leading-zero", "all-zero", "empty", "ints"],
)
def test_polymul_drops_leading_zeros_as_numpy(a, b):
    # NumPy reads both through poly1d: leading zeros go, an empty vector is [0]
    want = np.polymul(np.array(a), np.array(b))
    got = npgrad.function(lambda x: np.polymul(x, np.array(b)), mode="auto")(
        torch.tensor(np.array(a))
    )
    assert got.shape == want.shape and str(got.dtype).endswith(str(want.dtype))
    np.testing.assert_array_equal(got.numpy(), want)
