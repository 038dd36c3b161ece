"""Records of the statistics family: np.average (weights, axis, returned, keepdims)."""

from __future__ import annotations

import numpy as np

from . import Record

_M = ((3, 4),)

RECORDS = [
    Record(covers=("numpy.average",), fn=np.average, shapes=_M),
    Record(
        covers=("numpy.average",),
        fn=lambda a: np.average(a, axis=1, returned=True),
        shapes=_M,
        id="numpy.average-returned",
    ),
    Record(
        covers=("numpy.average",),
        fn=lambda a: np.average(a, axis=(0, 1), keepdims=True, returned=True),
        shapes=_M,
        id="numpy.average-keepdims",
    ),
    Record(
        covers=("numpy.average",),
        fn=lambda a, w: np.average(a, weights=w, returned=True),
        shapes=(_M[0], _M[0]),
        domain=("real", "positive"),
        id="numpy.average-weights",
    ),
    Record(
        covers=("numpy.average",),
        fn=lambda a, w: np.average(a, axis=-1, weights=w, keepdims=True, returned=True),
        shapes=((3, 4), (4,)),
        domain=("real", "positive"),
        id="numpy.average-weights-along-axis",
    ),
    Record(
        covers=("numpy.average",),
        # weights laid along two axes given out of order (NumPy transposes them)
        fn=lambda a, w: np.average(a, axis=(2, 0), weights=w, returned=True),
        shapes=((2, 3, 4), (4, 2)),
        domain=("real", "positive"),
        id="numpy.average-weights-two-axes",
    ),
    Record(
        covers=("numpy.average",),
        fn=lambda a: np.average(a, axis=0, weights=[1.0, 2.0, 3.0]),
        shapes=_M,
        id="numpy.average-constant-weights",
    ),
    Record(
        covers=("numpy.average",),
        fn=lambda a: np.average(a, axis=0, returned=True),
        shapes=_M,
        dtypes=("int64", "bool"),
        grad=False,
        id="numpy.average-ints",
    ),
    Record(
        covers=("numpy.average",),
        fn=lambda a, w: np.average(a, axis=1, weights=w, returned=True),
        shapes=((3, 4), (4,)),
        domain=("real", "positive"),
        dtypes=("int64", "int16"),
        grad=False,
        id="numpy.average-int-weights",
    ),
]
