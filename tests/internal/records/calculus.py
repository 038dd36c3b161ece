"""Records of the calculus family beyond tests/internal/records/new_rows.py's
gradient and interp: np.trapezoid (x, dx, axis), np.unwrap."""

from __future__ import annotations

import numpy as np

from . import Record

_M = ((3, 4),)
_X = np.array([0.0, 0.4, 0.7, 1.5])  # uneven sample points (a constant)

RECORDS = [
    Record(covers=("numpy.trapezoid",), fn=np.trapezoid, shapes=_M),
    Record(
        covers=("numpy.trapezoid",),
        fn=lambda y: np.trapezoid(y, dx=0.3, axis=0),
        shapes=_M,
        id="numpy.trapezoid-dx-axis",
    ),
    Record(
        covers=("numpy.trapezoid",),
        fn=lambda y, x: np.trapezoid(y, x),
        shapes=_M,
        consts=(_X,),
        id="numpy.trapezoid-x-constant",
    ),
    Record(
        covers=("numpy.trapezoid",),
        # traced sample points of y's shape, differentiated too
        fn=lambda y, x: np.trapezoid(y, x, axis=0),
        shapes=(_M[0], _M[0]),
        id="numpy.trapezoid-x-traced",
    ),
    Record(
        covers=("numpy.trapezoid",),
        # x of a lower rank: NumPy differences it along its own last axis, and the
        # products broadcast (to shape (3, 4) here)
        fn=lambda y, x: np.trapezoid(y, x),
        shapes=((2,), (3, 4, 2)),
        id="numpy.trapezoid-x-other-rank",
    ),
    Record(
        covers=("numpy.trapezoid",),
        # no samples along the axis: NumPy's empty sum, zeros of the other axes
        fn=lambda y: np.trapezoid(y, axis=1),
        shapes=((3, 0),),
        grad=False,  # nothing to differentiate
        id="numpy.trapezoid-no-samples",
    ),
    Record(
        covers=("numpy.trapezoid",),
        fn=lambda y: np.trapezoid(y, dx=2),
        shapes=_M,
        dtypes=("int64", "int8", "bool"),
        grad=False,
        id="numpy.trapezoid-ints",
    ),
    # differences up to 12 of samples in (-6, 6): jumps to fold by one or two periods
    Record(covers=("numpy.unwrap",), fn=lambda p: np.unwrap(3 * p), shapes=((3, 8),)),
    Record(
        covers=("numpy.unwrap",),
        fn=lambda p: np.unwrap(3 * p, discont=4.0, axis=0),
        shapes=((8, 3),),
        id="numpy.unwrap-discont-axis",
    ),
    Record(
        covers=("numpy.unwrap",),
        fn=lambda p: np.unwrap(300 * p, period=360),
        shapes=((10,),),
        id="numpy.unwrap-degrees",
    ),
    Record(
        covers=("numpy.unwrap",),
        fn=lambda p: np.unwrap(p, period=np.float64(1.5)),  # a float64 period: float64
        shapes=((10,),),
        id="numpy.unwrap-float64-period",
    ),
    Record(
        covers=("numpy.unwrap",),
        fn=lambda p: np.unwrap(p * 3, period=4),  # integers: NumPy's integer boundary rule
        shapes=((12,),),
        dtypes=("int64", "int32"),
        grad=False,
        id="numpy.unwrap-ints",
    ),
]
