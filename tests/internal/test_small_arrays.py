"""Every one-array function row on a 0-d array, a one-element vector and a (2, 1)
column, with and without ``axis``: NumPy's value and shape, or NumPy's kind of
exception (torch takes axis 0 and -1 of a 0-d tensor, and sorts, flips and finds
the nonzero elements of one, where NumPy refuses)."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch

import npgrad
import npgrad._mappings  # noqa: F401 - the rows
from npgrad._trace._registry import ROWS

SHAPES = {"0-d": (), "(1,)": (1,), "(2,1)": (2, 1)}
# where npgrad answers otherwise, on purpose: row -> why
OTHERWISE = {
    "numpy.empty_like": "NumPy's values are whatever the memory held",
    "numpy.bincount": "a float array: NumPy checks the rank before the dtype, npgrad the dtype",
    "numpy.triu": "0-d: NumPy fails inside tri() with a TypeError, npgrad says why",
    "numpy.tril": "0-d: NumPy fails inside tri() with a TypeError, npgrad says why",
    "numpy.polyint": "a 2-d coefficient array is refused (TraceError) before NumPy's error",
    "numpy.polyder": "a 2-d coefficient array is refused (TraceError) before NumPy's error",
    "numpy.lexsort": "a vector (a sequence of 0-d keys to NumPy) is refused with a TraceError",
}


# a 0-d array where NumPy fails inside with an IndexError or a ValueError: npgrad's
# AxisError (both of them) names the axis
AXIS_ERROR_FOR = {
    "numpy.fft.fft", "numpy.fft.ifft", "numpy.fft.rfft", "numpy.fft.irfft",
    "numpy.unstack", "numpy.diff", "numpy.unwrap", "numpy.trapezoid",
}  # fmt: skip


def _one_array_rows():
    for r in ROWS:
        if r.kind != "function" or r.target is None or r.name in OTHERWISE:
            continue
        try:
            params = inspect.signature(r.impl).parameters.values()
        except (TypeError, ValueError):
            continue
        required = [p for p in params if p.default is p.empty and p.kind is not p.VAR_KEYWORD]
        if len(required) == 1 and required[0].kind is not required[0].VAR_POSITIONAL:
            yield r, "axis" in inspect.signature(r.impl).parameters


def _x(shape):
    return np.asarray(np.random.default_rng(1).uniform(0.2, 0.9, size=shape))


def _numpy(f, x, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = f(x, **kw)
        except Exception as e:  # noqa: BLE001 - its kind is the reference
            return e
    return [np.asarray(v) for v in (out if isinstance(out, (tuple, list)) else (out,))]


def _cases():
    for row, has_axis in _one_array_rows():
        for label, shape in SHAPES.items():
            for kw in [{}, {"axis": 0}, {"axis": -1}] if has_axis else [{}]:
                want = _numpy(row.target, _x(shape), kw)
                if isinstance(want, list) and any(v.dtype.kind == "c" for v in want):
                    continue  # an op returns no complex result (np.fft's rows)
                yield pytest.param(
                    row.target, shape, kw, row.name in AXIS_ERROR_FOR, id=f"{row.name}-{label}-{kw}"
                )


CASES = list(_cases())


def test_the_sweep_covers_the_rows():
    assert len(CASES) > 300


@pytest.mark.parametrize("f, shape, kw, axis_error", CASES)
def test_small_arrays_are_answered_as_numpy(f, shape, kw, axis_error):
    x = _x(shape)
    want = _numpy(f, x, kw)
    op = npgrad.function(lambda a: f(a, **kw), name="small", mode="auto", nonfinite="ignore")
    if isinstance(want, Exception):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as got:
                op(torch.tensor(x))
        kind = type(got.value)
        same = kind is type(want) or axis_error and kind is np.exceptions.AxisError
        assert same and isinstance(got.value, type(want)), f"NumPy {want!r}, npgrad {got.value!r}"
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = op(torch.tensor(x))
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == w.shape
        np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-6, equal_nan=True)
