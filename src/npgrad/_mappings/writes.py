"""NumPy functions that write into an existing array: copyto, put, putmask,
put_along_axis.

Their rows receive the arrays themselves (not tensors) and write through
``_trace._array.write``, which refuses the caller's arrays and plain NumPy ones.
"""

from __future__ import annotations

import numpy as np

from .._trace._array import TracedArray, check_writable, operand, unwrap, write
from .._trace._promote import check_fits
from .._trace._registry import implements, normalise_axis
from .._trace._state import unsupported
from .._trace._write import numpy_dummy, numpy_target


def _target(a, what: str) -> TracedArray:
    if not isinstance(a, TracedArray):
        raise numpy_target(what)
    check_writable(a, what)
    return a


def _cycled(values, n: int):
    """``values`` repeated (flat) to ``n`` elements, as np.put and np.putmask do."""
    if not isinstance(values, TracedArray):
        values = np.asarray(values)
    flat = values.reshape(-1)
    if flat.shape[0] == 0:
        raise ValueError("cannot write from an empty array")
    return flat[np.arange(n) % flat.shape[0]]


@implements(np.copyto, handles=("casting", "where"))
def _copyto(dst, src, casting="same_kind", where=True):
    dst = _target(dst, "np.copyto")
    np.copyto(numpy_dummy(dst), numpy_dummy(operand(src)), casting=casting)
    value = src if where is True else np.where(where, src, dst)
    write(dst, Ellipsis, value, checked=True)


@implements(np.put, handles=("mode",), methods=("put",))
def _put(a, ind, v, mode="raise"):
    a = _target(a, "np.put")
    if mode != "raise":
        raise TypeError(f"np.put(..., mode={mode!r}) is not supported in automatic mode")
    ind = np.asarray(ind).reshape(-1)  # positions are data: integer constants
    if ((ind < -a.size) | (ind >= a.size)).any():
        raise IndexError(f"index out of range for array of size {a.size}")
    key = np.unravel_index(ind % a.size, a.shape) if a.ndim != 1 else ind % a.size
    check_fits(unwrap(v), a.t.dtype)  # 300 into int8: NumPy's OverflowError
    write(a, key, _cycled(v, ind.shape[0]))


@implements(np.putmask)
def _putmask(a, mask, values):
    a = _target(a, "np.putmask")
    check_fits(unwrap(values), a.t.dtype)
    write(a, Ellipsis, np.where(mask, _cycled(values, a.size).reshape(a.shape), a))


@implements(np.put_along_axis)
def _put_along_axis(arr, indices, values, axis):
    """``arr[i_0, ..., indices, ..., i_n] = values``, the aranges of the other axes
    broadcast against ``indices`` as NumPy builds them; the indices may be traced
    integers (an argmax), the values traced (their gradient is followed)."""
    a = _target(arr, "np.put_along_axis")
    idx = indices if isinstance(indices, TracedArray) else np.asarray(indices)
    if axis is None:
        # NumPy writes into a flat copy, so arr is left as it was: not repeated
        raise unsupported("np.put_along_axis(..., axis=None) (NumPy leaves arr unchanged)")
    if idx.dtype.kind not in "iu":
        raise IndexError("`indices` must be an integer array")
    if idx.ndim != a.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    axis = normalise_axis(axis, a.ndim, many=False, name="put_along_axis")
    key = [
        idx if d == axis else np.arange(n).reshape([n if e == d else 1 for e in range(a.ndim)])
        for d, n in enumerate(a.shape)
    ]
    write(a, tuple(key), values)
