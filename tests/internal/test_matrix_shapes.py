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


def _second(a):
    # a right-hand side as long as a's rows (a number where a has none)
    return np.ones(np.shape(a)[-2:-1] or (1,)) if np.ndim(a) else 1.0


# the rows that take more than the matrix: the rest of a valid call
MORE = {
    "numpy.linalg.solve": lambda a: (_second(a),),
    "numpy.linalg.lstsq": lambda a: (_second(a),),
    "numpy.linalg.tensorsolve": lambda a: (_second(a),),
    "numpy.linalg.matrix_power": lambda a: (2,),
    "scipy.linalg.solve": lambda a: (_second(a),),
    "scipy.linalg.solve_triangular": lambda a: (_second(a),),
    "scipy.linalg.lstsq": lambda a: (_second(a),),
    "numpy.linalg.cross": lambda a: (a,),
    "numpy.linalg.matmul": lambda a: (a,),
    "numpy.linalg.outer": lambda a: (a,),
    "numpy.linalg.vecdot": lambda a: (a,),
    "scipy.linalg.solve_sylvester": lambda a: (a, a),
}
# a factorisation's tuple comes first: not a matrix to check
SKIPPED = {"scipy.linalg.cho_solve", "scipy.linalg.lu_solve"}


def _call(name):
    f, more = _resolve(name), MORE.get(name, lambda a: ())
    return lambda a: f(a, *more(a))


def _refused(name, shape):
    f, a = _call(name), _array(shape)
    kind, words = _outcome(lambda: f(a))
    # a call short of an argument proves nothing: each is given its other arguments
    assert not (kind is TypeError and "required positional argument" in words), name
    return kind is not None


# the calls NumPy or SciPy refuse, found by calling them
REFUSED = [
    pytest.param(name, shape, id=f"{name}-{label}")
    for name in _MATRIX_ROWS
    if name not in SKIPPED
    for label, shape in SHAPES.items()
    if _refused(name, shape)
]


@pytest.mark.parametrize("name, shape", REFUSED)
def test_a_shape_numpy_refuses_is_refused_with_its_exception(name, shape):
    f, a = _call(name), _array(shape)
    kind, words = _outcome(lambda: f(a))
    got, got_words = _outcome(lambda: npgrad.grad(lambda x: _total(f(x)))(a))
    assert got is kind, f"{name}{shape}: NumPy {kind.__name__}({words}), npgrad {got}({got_words})"
    if kind in (np.linalg.LinAlgError, np.exceptions.AxisError) or words.startswith("diag"):
        # NumPy's words (npgrad's prefix may lead; NumPy's own spacing aside)
        assert " ".join(got_words.split()).endswith(" ".join(words.split()))
