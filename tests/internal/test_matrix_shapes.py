"""Linear-algebra rows given an array of the wrong shape raise NumPy's (or SciPy's)
exception with its words, as NumPy's own checks do, not torch's error: code that
catches ``np.linalg.LinAlgError`` must catch it from a traced call too."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import npgrad
import npgrad._mappings  # noqa: F401 - the rows
from npgrad._trace._registry import ROWS

pytest.importorskip("scipy.linalg")
import scipy.linalg  # noqa: E402, F401 - its rows resolve once SciPy is imported

_RNG = np.random.default_rng(0)
SHAPES = {"0-d": (), "1-d": (3,), "3x2": (3, 2), "2x3x2": (2, 3, 2)}
_MATRIX_ROWS = sorted(
    r.name
    for r in ROWS
    if r.name.startswith(("numpy.linalg.", "scipy.linalg.")) or r.matrix is not None
)


def _resolve(name):
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _outcome(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e), str(e)
    return None, None


def _total(out):
    # the sum of every float result (a tuple's too), so that grad has a scalar
    outs = out if isinstance(out, tuple) else (out,)
    return sum(np.sum(o) for o in outs if getattr(o, "dtype", np.dtype(int)).kind == "f")


def _array(shape):
    return _RNG.normal(size=shape) if shape else np.float64(1.5)


def _refused(name, shape):
    f, a = _resolve(name), _array(shape)
    return _outcome(lambda: f(a))[0] is not None


# the calls NumPy or SciPy refuse, found by calling them
REFUSED = [
    pytest.param(name, shape, id=f"{name}-{label}")
    for name in _MATRIX_ROWS
    for label, shape in SHAPES.items()
    if _refused(name, shape)
]


@pytest.mark.parametrize("name, shape", REFUSED)
def test_a_shape_numpy_refuses_is_refused_with_its_exception(name, shape):
    f, a = _resolve(name), _array(shape)
    kind, words = _outcome(lambda: f(a))
    got, got_words = _outcome(lambda: npgrad.grad(lambda x: _total(f(x)))(a))
    assert got is kind, f"{name}{shape}: NumPy {kind.__name__}({words}), npgrad {got}({got_words})"
    if kind in (np.linalg.LinAlgError, np.exceptions.AxisError) or words.startswith("diag"):
        assert got_words.endswith(words)  # NumPy's words (npgrad's prefix may lead)


def test_every_row_that_checks_shapes_is_a_known_check():
    flagged = {r.name: r.matrix for r in ROWS if r.matrix is not None}
    assert flagged["numpy.linalg.inv"] == "square"
    assert flagged["numpy.linalg.svd"] == "stacked"
    assert flagged["numpy.trace"] == "diag"
    assert set(flagged.values()) <= {"stacked", "square", "diag"}
