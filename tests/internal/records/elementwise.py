"""Records of the elementwise functions that are not ufuncs, beyond those in
tests/internal/records/new_rows.py: np.polyval, np.i0."""

from __future__ import annotations

import numpy as np

from . import Record

RECORDS = [
    Record(covers=("numpy.i0",), fn=np.i0, shapes=((3, 4),), dtypes=("float64", "float32")),
    Record(
        covers=("numpy.i0",),
        fn=lambda x: np.i0(x * 4.0),  # beyond 8: NumPy's second Chebyshev series
        shapes=((6,),),
        id="numpy.i0-large",
    ),
    Record(
        covers=("numpy.i0",),
        fn=np.i0,
        shapes=((5,),),
        dtypes=("int64",),
        grad=False,
        id="numpy.i0-ints",
    ),
    # gradients with respect to the coefficients and the points
    Record(covers=("numpy.polyval",), fn=np.polyval, shapes=((4,), (3, 2))),
    Record(
        covers=("numpy.polyval",),
        fn=lambda x: np.polyval([1.0, -2.0, 0.5], x),
        shapes=((5,),),
        id="numpy.polyval-list",
    ),
    Record(
        covers=("numpy.polyval",),
        fn=lambda p: np.polyval(p, 1.5),
        shapes=((4,),),
        id="numpy.polyval-number",
    ),
    Record(
        covers=("numpy.polyval",),
        fn=np.polyval,
        shapes=((3,), (4,)),
        dtypes=("int64", "int16"),
        grad=False,
        id="numpy.polyval-ints",
    ),
]

# truth values of real and complex inputs: no gradient
RECORDS += [
    Record(
        covers=("numpy.isreal", "numpy.iscomplex"),
        fn=lambda x, y: (
            np.isreal(x),
            np.iscomplex(x),
            np.isreal(x + 1j * np.round(y)),
            np.iscomplex(x + 1j * np.round(y)),
            np.iscomplex(x[0, 0]),
        ),
        shapes=((3, 4), (4,)),
        dtypes=("float64", "float32", "int64", "bool"),
        grad=False,
    ),
    Record(covers=("numpy.fix",), fn=lambda x: np.fix(x * 3.0), shapes=((3, 4),)),
    Record(
        covers=("numpy.fix",),
        fn=np.fix,
        shapes=((3, 4),),
        dtypes=("int64", "int16", "uint8", "bool"),
        grad=False,
        id="numpy.fix-ints",
    ),
]
