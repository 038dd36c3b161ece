"""An axis out of range raises NumPy's AxisError (an IndexError and a ValueError)
from every row that takes ``axis``, as NumPy does, never torch's IndexError, and
never a result for another axis."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import npgrad
import npgrad._mappings  # noqa: F401 - the rows
from npgrad._trace._registry import ROWS

X = np.random.default_rng(0).normal(size=(3, 4))


def _axis_rows():
    for r in ROWS:
        if r.kind != "function" or r.target is None:
            continue
        try:
            if "axis" in inspect.signature(r.impl).parameters:
                yield r
        except (TypeError, ValueError):
            continue


def _refuses(f, axis):
    try:
        f(X, axis=axis)
    except np.exceptions.AxisError:
        return True
    except Exception:  # noqa: BLE001 - another refusal is not this test's
        return False
    return False


CASES = [
    pytest.param(r.target, axis, id=f"{r.name}-axis={axis}")
    for r in _axis_rows()
    for axis in (5, -3)
    if _refuses(r.target, axis)
]


def test_the_rows_that_take_axis_are_found():
    assert len(CASES) > 100  # the sweep covers the reductions, shapes and statistics


@pytest.mark.parametrize("f, axis", CASES)
def test_an_axis_out_of_range_is_numpys_axis_error(f, axis):
    with pytest.raises(np.exceptions.AxisError, match=f"axis {axis} is out of bounds"):
        npgrad.grad(lambda a: np.sum(np.abs(f(a, axis=axis))))(X)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3, (0, 2), (-1, 0), (1, 3)])
def test_expand_dims_puts_the_new_axes_where_numpy_does(axis):
    op = npgrad.function(lambda a: np.expand_dims(a, axis), name="e", mode="auto")
    assert tuple(op(torch.tensor(X)).shape) == np.expand_dims(X, axis).shape


@pytest.mark.parametrize("axis", [3, -4, (0, 4), (0, 0)])
def test_expand_dims_refuses_what_numpy_refuses(axis):
    with pytest.raises(Exception) as want:
        np.expand_dims(X, axis)
    op = npgrad.function(lambda a: np.expand_dims(a, axis), name="e", mode="auto")
    with pytest.raises(type(want.value)):
        op(torch.tensor(X))  # it wrapped the axis round, giving another shape


OTHER_AXES = {
    "swapaxes": lambda a: np.swapaxes(a, 0, 5),
    "moveaxis": lambda a: np.moveaxis(a, 0, 5),
    "roll": lambda a: np.roll(a, 1, axis=5),
    "trace axis2": lambda a: np.trace(a, axis1=0, axis2=5),
    "diagonal axis2": lambda a: np.diagonal(a, 0, 0, 5),
    "take": lambda a: np.take(a, [0], axis=5),
    "stack": lambda a: np.stack([a, a], axis=5),
    "concatenate": lambda a: np.concatenate([a, a], axis=-3),
}


@pytest.mark.parametrize("f", list(OTHER_AXES.values()), ids=list(OTHER_AXES))
def test_axes_under_other_names_are_checked_too(f):
    with pytest.raises(np.exceptions.AxisError) as want:
        f(X)
    with pytest.raises(np.exceptions.AxisError, match="is out of bounds") as got:
        npgrad.grad(lambda a: np.sum(f(a)))(X)
    assert (got.value.axis, got.value.ndim) == (want.value.axis, want.value.ndim)


def test_an_index_error_of_the_users_own_passes_through_unchanged():
    class Missing(IndexError):
        pass

    def lookup(v):
        raise Missing("not in the table")

    with pytest.raises(Missing, match="not in the table"):
        npgrad.grad(lambda a: np.sum(np.apply_along_axis(lookup, 1, a)))(X)
    with pytest.raises(IndexError, match="out of bounds"):  # an index, not an axis
        npgrad.grad(lambda a: np.sum(a[5]))(X)


@pytest.mark.parametrize("axis", [1, -1, (0, 1), (0,), (), (1, 0)])
def test_size_of_axes_is_numpys(axis):
    op = npgrad.function(lambda a: np.ones(np.size(a, axis)) * np.sum(a), name="s", mode="auto")
    assert op(torch.tensor(X)).shape == (np.size(X, axis),)


def test_the_axis_error_names_the_function_with_its_submodule():
    with pytest.raises(np.exceptions.AxisError, match=r"np\.fft\.fftshift: axis 5 is out"):
        npgrad.grad(lambda a: np.sum(np.fft.fftshift(a, axes=5)))(X)
