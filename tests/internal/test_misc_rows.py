"""Behaviour of the nan-quantiles, nancumsum/nancumprod, where= in var/std/any/all,
np.fix and np.ediff1d that records cannot express: refused options, NumPy's errors,
and the gradients chosen where NumPy's function has none (nan places, zero
deviations, steps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad

_X = np.array([[0.5, -1.0, 2.0, 0.25], [1.5, 0.75, -0.5, 3.0], [-2.0, 1.0, 0.0, 1.25]])
_NAN = _X.copy()
_NAN[0, 1] = _NAN[2, 3] = np.nan
_KEEP = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1]], bool)


def _run(f, x=_X):
    return npgrad.function(f)(torch.tensor(x))


def _grad(f, x=_X):
    return npgrad.grad(f)(np.asarray(x, dtype=np.float64))


def test_nan_quantiles_give_nan_places_no_gradient():
    for f in (
        lambda x: np.sum(np.nanmedian(x, axis=1)),
        lambda x: np.sum(np.nanquantile(x, [0.3, 0.9], axis=0)),
        lambda x: np.nanpercentile(x, 40),
        lambda x: np.sum(np.nancumsum(x, axis=1)),
        lambda x: np.sum(np.nancumprod(x, axis=0)),
    ):
        g = _grad(f, _NAN)
        assert np.isfinite(g).all()
        assert g[0, 1] == 0 and g[2, 3] == 0


def test_nan_quantile_refusals_name_the_call():
    with pytest.raises(npgrad.TraceError, match=r"np\.nanquantile\(\.\.\., weights=\.\.\.\)"):
        _run(lambda x: np.nanquantile(x, 0.5, weights=np.ones_like(x)))
    with pytest.raises(npgrad.TraceError, match=r"np\.nanpercentile\(method='weibull'\)"):
        _run(lambda x: np.nanpercentile(x, 50, method="weibull"))


def test_var_where_divides_as_numpy():
    # ddof at or past the count: NumPy's var divides by 0 (inf), nanvar's rule is nan
    f = lambda x: np.var(x, where=_KEEP, axis=0, ddof=2)  # noqa: E731
    with np.errstate(divide="ignore", invalid="ignore"), pytest.warns(RuntimeWarning):
        want = f(_X)
    with pytest.warns(RuntimeWarning, match="not finite"):
        got = _run(f).numpy()
    np.testing.assert_array_equal(got, want)


def test_std_where_at_zero_deviation_has_gradient_zero():
    # one kept place per column: a zero deviation, where sqrt's derivative is infinite
    one = np.zeros((3, 4), bool)
    one[0] = True
    g = _grad(lambda x: np.sum(np.std(x, where=one, axis=0)))
    np.testing.assert_array_equal(g, np.zeros((3, 4)))


def test_where_refusals_and_numpy_errors():
    with pytest.raises(npgrad.TraceError, match=r"np\.var\(\.\.\., where=\) of torch\.float16"):
        npgrad.function(lambda x: np.var(x, where=_KEEP))(torch.ones(3, 4, dtype=torch.float16))
    with pytest.raises(TypeError, match="Cannot cast array data"):
        _run(lambda x: np.std(x, where=_KEEP.astype(int)))
    with pytest.raises(ValueError, match="could not be broadcast"):
        _run(lambda x: np.any(x > 0, where=_KEEP[:, :2]))


def test_fix_is_a_step_with_gradient_zero():
    np.testing.assert_array_equal(_grad(lambda x: np.sum(np.fix(3 * x))), np.zeros((3, 4)))


def test_ediff1d_errors_as_numpy():
    with pytest.raises(TypeError, match="same_kind"):
        npgrad.function(lambda x: np.ediff1d(x, to_end=[1.5]))(torch.ones(3, dtype=torch.int8))
    with pytest.raises(TypeError, match="same_kind"):
        npgrad.function(lambda x: np.ediff1d(x, to_begin=[3]))(torch.ones(3, dtype=torch.uint8))
    with pytest.raises(TypeError, match="boolean subtract"):
        npgrad.function(lambda x: np.ediff1d(x))(torch.ones(3, dtype=torch.bool))
