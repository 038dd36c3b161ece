"""Records of the products and contractions."""

from __future__ import annotations

import numpy as np

from . import Record

RECORDS = [
    Record(covers=("numpy.dot",), fn=np.dot, shapes=((3, 4), (4,))),
    Record(covers=("numpy.dot",), fn=np.dot, shapes=((2, 3, 4), (5, 4, 2)), id="numpy.dot-nd"),
    Record(covers=("numpy.dot",), fn=np.dot, shapes=((4,), (4,)), id="numpy.dot-vectors"),
    Record(
        covers=("numpy.dot",),
        fn=lambda x, i: np.dot(i, x),
        shapes=((4, 2),),
        consts=(np.arange(8).reshape(2, 4),),
        id="numpy.dot-int-constant",
    ),
    Record(covers=("numpy.vdot",), fn=np.vdot, shapes=((2, 3), (3, 2))),
    Record(covers=("numpy.inner",), fn=np.inner, shapes=((2, 4), (3, 4))),
    Record(covers=("numpy.outer",), fn=np.outer, shapes=((3,), (2, 2))),
    Record(covers=("numpy.tensordot",), fn=np.tensordot, shapes=((2, 3, 4), (3, 4, 5))),
    Record(
        covers=("numpy.tensordot",),
        fn=lambda a, b: np.tensordot(a, b, axes=(1, 0)),
        shapes=((2, 3), (3, 4)),
        id="numpy.tensordot-one-axis",
    ),
    Record(
        covers=("numpy.einsum",),
        fn=lambda a, b: np.einsum("ij,jk->ik", a, b),
        shapes=((2, 3), (3, 4)),
    ),
    Record(
        covers=("numpy.einsum",),
        fn=lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        shapes=((2, 3), (3, 4)),
        id="numpy.einsum-sublists",
    ),
    Record(
        covers=("numpy.einsum",),
        fn=lambda a: np.einsum("ii", a, dtype=np.float64),
        shapes=((3, 3),),
        id="numpy.einsum-dtype",
    ),
    Record(covers=("numpy.trace",), fn=np.trace, shapes=((3, 4),)),
    Record(
        covers=("numpy.trace",),
        fn=lambda a: np.trace(a, 1, 1, 2),
        shapes=((2, 3, 4),),
        id="numpy.trace-offset-axes",
    ),
    Record(covers=("numpy.matmul",), fn=np.matmul, shapes=((2, 3, 4), (4, 2))),
    Record(
        covers=("numpy.matmul",),
        fn=np.matmul,
        shapes=((3, 4), (4, 2)),
        dtypes=("int64",),
        grad=False,
        id="numpy.matmul-ints",
    ),
    Record(covers=("numpy.vecdot",), fn=np.vecdot, shapes=((3, 4), (4,))),
    Record(covers=("numpy.correlate",), fn=np.correlate, shapes=((7,), (3,))),
    *(
        Record(
            covers=("numpy.correlate",),
            fn=lambda a, v, mode=mode: np.correlate(a, v, mode),
            shapes=shapes,
            id=f"numpy.correlate-{mode}-{shapes[0][0]}-{shapes[1][0]}",
        )
        # the shorter input first too: NumPy centres 'same' on the longer one
        for mode in ("same", "full", "valid")
        for shapes in (((6,), (4,)), ((4,), (7,)), ((3,), (5,)))
    ),
    Record(
        covers=("numpy.correlate",),
        fn=lambda a, v: np.abs(np.correlate(a + 1j * v[:1], v - 0.5j, "full")),  # conj(v)
        shapes=((5,), (3,)),
        id="numpy.correlate-complex",
    ),
    Record(
        covers=("numpy.correlate",),
        fn=lambda a, v: np.correlate(a, v, "same"),
        shapes=((6,), (3,)),
        dtypes=("int64", "int8", "bool"),
        grad=False,
        id="numpy.correlate-ints",
    ),
]
