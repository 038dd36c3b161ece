"""Records for the write rows: each writes into an array the function made itself."""

from __future__ import annotations

import numpy as np

from . import Record


def _copyto(a, b):
    out = a * 1.0
    np.copyto(out, b * 2.0)
    return out


def _copyto_where(a, b):
    out = a * 1.0
    np.copyto(out, b, where=b > 0)
    return out


def _put(a, b):
    out = a * 1.0
    np.put(out, [0, 3], b[:2])
    return out


def _put_method(a, b):
    out = a * 1.0
    out.put([1, 2], b[2:4])
    return out


def _putmask(a, b):
    out = a * 1.0
    np.putmask(out, b > 0, b)
    return out


def _put_along_axis(a, b):
    out = a * 1.0
    # the index traced (an argmax), then constants with a negative and a repeat-free row
    np.put_along_axis(out, np.argmax(a, axis=1, keepdims=True), b[:, :1], axis=1)
    np.put_along_axis(out, np.array([[0, 2], [1, -1], [3, 2]]), b[:, 1:3] * 2.0, axis=-1)
    np.put_along_axis(out, np.array([[2, 0, 1, 2]]), 5.0, axis=0)
    return out


def _put_along_axis_ints(a, b):
    out = a + 0
    np.put_along_axis(out, np.argsort(b, axis=0)[:1], b[:1], axis=0)
    return out


RECORDS = [
    Record(("numpy.copyto",), _copyto, ((3, 4), (3, 4)), id="copyto"),
    Record(("numpy.copyto",), _copyto_where, ((3, 4), (3, 4)), id="copyto-where"),
    Record(("numpy.put",), _put, ((3, 4), (3, 4)), id="put"),
    Record(("ndarray.put",), _put_method, ((3, 4), (3, 4)), id="ndarray.put"),
    Record(("numpy.putmask",), _putmask, ((3, 4), (3, 4)), id="putmask"),
    Record(("numpy.put_along_axis",), _put_along_axis, ((3, 4), (3, 4)), id="put_along_axis"),
    Record(
        ("numpy.put_along_axis",),
        _put_along_axis_ints,
        ((3, 4), (3, 4)),
        dtypes=("int64", "int16"),
        grad=False,
        id="put_along_axis-ints",
    ),
]
