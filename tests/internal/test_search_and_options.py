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
