"""Behaviour the records cannot express for Fortran-order reshapes, the two-output
ufuncs and the other rows added with them: views and copies, refused options,
NumPy's errors, the choices at the points where a function jumps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad


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
