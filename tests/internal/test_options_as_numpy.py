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
