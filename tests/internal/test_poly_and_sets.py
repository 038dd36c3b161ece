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
