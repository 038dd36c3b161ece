"""Behaviour the records cannot express for ufunc.accumulate, the reductions'
where=/initial= and the search/count rows: refused options, errors NumPy raises,
and the element a tie gives its gradient to."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad


def _grad(f, x):
    return npgrad.grad(f)(np.asarray(x, dtype=np.float64))


def test_maximum_accumulate_tie_goes_to_the_last():
    # the running maximum 3 is reached at 1, 2 and 4: torch.cummax's index, the last
    g = _grad(lambda x: np.sum(np.maximum.accumulate(x)), [1.0, 3.0, 3.0, 2.0, 3.0])
    np.testing.assert_array_equal(g, [1.0, 1.0, 2.0, 0.0, 1.0])
    g = _grad(lambda x: np.sum(np.minimum.accumulate(x)), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_accumulate_errors_as_numpy():
    f = npgrad.function(lambda x: np.add.accumulate(x, axis=None))
    with pytest.raises(ValueError, match="multiple axes"):
        f(torch.ones(2, 3))
    with pytest.raises(npgrad.TraceError, match="out="):
        npgrad.function(lambda x: np.add.accumulate(x, out=np.empty(3)))(torch.ones(3))
    with pytest.raises(npgrad.TraceError, match="logaddexp.accumulate"):
        npgrad.function(lambda x: np.logaddexp.accumulate(x))(torch.ones(3, dtype=torch.float16))
    with pytest.raises(npgrad.TraceError, match="subtract.accumulate"):
        npgrad.function(lambda x: np.subtract.accumulate(x))(torch.ones(3))


_X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
_M = np.array([[True, False, True], [False, True, True]])


def test_reduction_where_and_initial_errors_as_numpy():
    def run(f):
        return npgrad.function(f)(torch.from_numpy(_X))

    with pytest.raises(ValueError, match="'maximum' does not have an identity"):
        run(lambda x: np.max(x, where=_M))
    with pytest.raises(ValueError, match="'fmin' does not have an identity"):
        run(lambda x: np.nanmin(x, where=_M))
    with pytest.raises(TypeError, match="Cannot cast array data"):
        run(lambda x: np.sum(x, where=_M.astype(int)))
    with pytest.raises(ValueError, match="could not be broadcast"):
        run(lambda x: np.sum(x, where=_M[:, :2]))
    with pytest.raises(OverflowError):
        npgrad.function(lambda x: np.max(x, initial=300))(torch.ones(3, dtype=torch.int8))
    with pytest.raises(npgrad.TraceError, match=r"initial=<a traced value>"):
        run(lambda x: np.sum(x, initial=x[0, 0]))
    with pytest.raises(npgrad.TraceError, match=r"np\.nanmax\(\.\.\., initial=nan\)"):
        run(lambda x: np.nanmax(x, initial=np.nan))
    with pytest.raises(npgrad.TraceError, match="where= is not supported"):
        run(lambda x: np.nanstd(x, where=_M))


def test_max_initial_tie_keeps_the_elements_gradient():
    # initial= equal to the slice's largest element: the element keeps the gradient;
    # an initial= above it takes the slice (a constant: no gradient)
    g = _grad(lambda x: np.sum(np.max(x, axis=1, initial=2.0)), _X)
    np.testing.assert_array_equal(g, [[0, 0, 1], [0, 0, 0]])
    # left-out places get none, even where they hold the largest value
    g = _grad(lambda x: np.sum(np.max(x, axis=1, where=_M, initial=-5.0)), [[3.0, 9.0, 1.0]] * 2)
    np.testing.assert_array_equal(g, [[1, 0, 0], [0, 1, 0]])


def _run(f, *xs):
    return npgrad.function(f)(*[torch.as_tensor(x) for x in xs])


def test_search_rows_errors_as_numpy():
    a = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="search side must be 'left' or 'right'"):
        _run(lambda a: np.searchsorted(a, 2.0, side="middle"), a)
    with pytest.raises(ValueError, match="too deep"):
        _run(lambda a: np.searchsorted(a, 2.0), np.ones((2, 2)))
    with pytest.raises(ValueError, match="sorter.size must equal a.size"):
        _run(lambda a: np.searchsorted(a, 2.0, sorter=np.array([0, 1])), a)
    with pytest.raises(ValueError, match="monotonically"):
        _run(lambda x: np.digitize(x, [1.0, 3.0, 2.0]), a)
    with pytest.raises(npgrad.TraceError, match="kind= is not supported"):
        _run(lambda x: np.isin(x, [1.0], kind="sort"), a)
    with pytest.raises(ValueError, match="no negative elements"):
        _run(lambda i: np.bincount(i), np.array([0, -1]))
    with pytest.raises(ValueError, match="'minlength' must not be negative"):
        _run(lambda i: np.bincount(i, minlength=-1), np.array([0, 1]))
    with pytest.raises(ValueError, match="same length"):
        _run(lambda w: np.bincount(np.array([0, 1]), weights=w), a)
    with pytest.raises(TypeError, match="Cannot cast"):
        _run(lambda x: np.bincount(x), a)
    with pytest.raises(ValueError, match="same shape"):
        _run(lambda x: np.lexsort((x, x[:2])), a)


def test_value_dependent_search_rows_refuse_under_torch_func():
    idx = np.array([0, 2, 2])

    def total(w):
        return np.sum(np.bincount(idx, weights=w) ** 2)

    with pytest.raises(npgrad.TraceError, match="np.bincount needs the largest of its values"):
        torch.func.grad(npgrad.function(total))(torch.ones(3, dtype=torch.float64))
    # eagerly the weights' gradient is exact: 2 * (sum of the weights in each bin)
    np.testing.assert_array_equal(npgrad.grad(total)(np.ones(3)), [2.0, 4.0, 4.0])

    def binned(x, b):
        return np.sum(x * np.digitize(x, b))

    with pytest.raises(npgrad.TraceError, match="np.digitize needs its bins' values"):
        torch.func.grad(npgrad.function(binned))(torch.ones(3), torch.tensor([0.0, 1.0]))


def test_unique_gives_the_gradient_to_the_first_occurrence():
    x = np.array([3.0, 1.0, 3.0, 2.0, 1.0])
    # unique values 1, 2, 3 weighted 0, 1, 2: the first 3 (index 0) and the first 1
    g = _grad(lambda x: np.sum(np.unique(x) * np.arange(3)), x)
    np.testing.assert_array_equal(g, [2.0, 0.0, 0.0, 1.0, 0.0])
    rows = np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0]])
    g = _grad(lambda r: np.sum(np.unique(r, axis=0) * np.array([[1.0], [10.0]])), rows)
    np.testing.assert_array_equal(g, [[10.0, 10.0], [1.0, 1.0], [0.0, 0.0]])


def test_unique_refusals():
    with pytest.raises(npgrad.TraceError, match="sorted=False"):
        _run(lambda x: np.unique(x, sorted=False), np.ones(3))
    with pytest.raises(npgrad.TraceError, match="slices holding nan"):
        _run(lambda x: np.unique(x, axis=0), np.array([[np.nan, 1.0], [0.0, 1.0]]))
    with pytest.raises(npgrad.TraceError, match="np.unique needs its values"):
        torch.func.grad(npgrad.function(lambda x: np.sum(np.unique(x))))(torch.ones(3))


def test_histogram_refusals_and_errors():
    x = np.array([0.0, 0.5, 1.0, 2.0])
    with pytest.raises(npgrad.TraceError, match="bins='auto'"):
        _run(lambda x: np.histogram(x, "auto"), x)
    with pytest.raises(ValueError, match="increase monotonically"):
        _run(lambda x: np.histogram(x, [0.0, 2.0, 1.0]), x)
    with pytest.raises(ValueError, match="must be positive"):
        _run(lambda x: np.histogram(x, 0), x)
    with pytest.raises(ValueError, match="max must be larger than min"):
        _run(lambda x: np.histogram(x, 3, range=(2, 1)), x)
    with pytest.raises(ValueError, match="autodetected range of"):
        _run(lambda x: np.histogram(x, 3), np.array([0.0, np.nan]))
    with pytest.raises(npgrad.TraceError, match="np.histogram needs the data's range"):
        torch.func.grad(npgrad.function(lambda x: np.histogram(x, 2, density=True)[0][0]))(
            torch.tensor(x)
        )


def test_histogram_with_a_range_follows_torch_func():
    # the edges of a given range are constants: nothing to read, so torch.func follows
    x = np.array([0.1, 0.4, 0.45, 0.9, 3.0])

    def heavy(w):
        return np.sum(np.histogram(x, 2, range=(0, 1), weights=w)[0] ** 2)

    got = torch.func.grad(npgrad.function(heavy))(torch.ones(5, dtype=torch.float64))
    # bins [0, 0.5) and [0.5, 1]: sums 3 and 1; 3.0 falls outside
    torch.testing.assert_close(got, torch.tensor([6.0, 6.0, 6.0, 2.0, 0.0], dtype=torch.float64))
