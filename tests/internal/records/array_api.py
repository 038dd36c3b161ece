"""Records of NumPy 2's array-API names (``np.linalg.vector_norm``, ``np.cumulative_sum``,
``np.matvec``, ...), each beside the classic row whose core it runs."""

from __future__ import annotations

import numpy as np

from . import Record

_I3 = 5 * np.eye(4).reshape(2, 2, 2, 2)


def _shifted(x):
    # a well-conditioned 2x2x2x2 tensor for tensorsolve / tensorinv
    return x.reshape(2, 2, 2, 2) + _I3


def _parts(z):
    return z.real, z.imag


RECORDS = [
    Record(covers=("numpy.linalg.vector_norm",), fn=np.linalg.vector_norm, shapes=((3, 4),)),
    Record(
        covers=("numpy.linalg.vector_norm",),
        fn=lambda x: np.linalg.vector_norm(x, ord=1, axis=1, keepdims=True),
        shapes=((3, 4),),
        id="numpy.linalg.vector_norm-l1-keepdims",
    ),
    Record(
        covers=("numpy.linalg.vector_norm",),
        fn=lambda x: np.linalg.vector_norm(x, ord=np.inf, axis=(0, 2)),
        shapes=((2, 3, 4),),
        id="numpy.linalg.vector_norm-inf-tuple",
    ),
    Record(
        covers=("numpy.linalg.vector_norm",),
        fn=lambda x: np.linalg.vector_norm(x, ord=-np.inf, axis=(2, 0), keepdims=True),
        shapes=((2, 3, 4),),
        id="numpy.linalg.vector_norm-neginf-tuple-keepdims",
    ),
    Record(
        covers=("numpy.linalg.vector_norm",),
        fn=lambda x: np.linalg.vector_norm(x, ord=3, axis=-1),
        shapes=((2, 3, 4),),
        id="numpy.linalg.vector_norm-p3",
    ),
    Record(
        covers=("numpy.linalg.vector_norm",),
        fn=lambda x: np.linalg.vector_norm(x, ord=0, axis=0),
        shapes=((3, 4),),
        grad=False,  # a count of nonzeros
        id="numpy.linalg.vector_norm-0",
    ),
    Record(
        covers=("numpy.linalg.vector_norm",),
        fn=lambda x: np.linalg.vector_norm(x, axis=(), keepdims=True),
        shapes=((3, 4),),
        domain="nonzero",
        id="numpy.linalg.vector_norm-empty-axes",
    ),
    Record(
        covers=("numpy.linalg.vector_norm",),
        fn=lambda x: np.linalg.vector_norm(x, keepdims=True),
        shapes=((2, 3, 4),),
        dtypes=("float64", "int64"),
        id="numpy.linalg.vector_norm-all-keepdims",
    ),
    Record(covers=("numpy.linalg.matrix_norm",), fn=np.linalg.matrix_norm, shapes=((2, 3, 4),)),
    *[
        Record(
            covers=("numpy.linalg.matrix_norm",),
            fn=lambda x, o=o: np.linalg.matrix_norm(x, ord=o, keepdims=True),
            shapes=((2, 3, 4),),
            id=f"numpy.linalg.matrix_norm-{o}",
        )
        for o in ("nuc", np.inf, -np.inf, 1, -1, 2, -2)
    ],
    Record(covers=("numpy.linalg.cond",), fn=np.linalg.cond, shapes=((2, 3, 3),)),
    Record(
        covers=("numpy.linalg.cond",),
        fn=lambda x: np.linalg.cond(x, -2),
        shapes=((3, 4),),
        id="numpy.linalg.cond-minus2",
    ),
    *[
        Record(
            covers=("numpy.linalg.cond",),
            fn=lambda x, p=p: np.linalg.cond(x, p),
            shapes=((2, 3, 3),),
            domain="spd",
            id=f"numpy.linalg.cond-{p}",
        )
        for p in ("fro", "nuc", np.inf, -np.inf, 1, -1)
    ],
    Record(
        covers=("numpy.linalg.matrix_rank",),
        fn=lambda x: np.linalg.matrix_rank(x[..., :2] @ x[..., :2, :]),
        shapes=((2, 4, 4),),
        grad=False,
    ),
    Record(
        covers=("numpy.linalg.matrix_rank",),
        fn=lambda x: np.linalg.matrix_rank(x, rtol=0.5),
        shapes=((3, 5),),
        grad=False,
        id="numpy.linalg.matrix_rank-rtol",
    ),
    Record(
        covers=("numpy.linalg.matrix_rank",),
        fn=lambda x: np.linalg.matrix_rank(x, tol=np.array([0.1, 100.0])),
        shapes=((2, 3, 3),),
        grad=False,
        id="numpy.linalg.matrix_rank-tol",
    ),
    Record(
        covers=("numpy.linalg.matrix_rank",),
        fn=lambda x: np.linalg.matrix_rank(x, hermitian=True),
        shapes=((4, 4),),
        domain="spd",
        grad=False,
        id="numpy.linalg.matrix_rank-hermitian",
    ),
    Record(
        covers=("numpy.linalg.matrix_rank",),
        fn=lambda x: np.linalg.matrix_rank(x),
        shapes=((4,),),
        grad=False,
        id="numpy.linalg.matrix_rank-vector",
    ),
    Record(covers=("numpy.linalg.svdvals",), fn=np.linalg.svdvals, shapes=((2, 3, 4),)),
    Record(
        covers=("numpy.linalg.vecdot",),
        fn=np.linalg.vecdot,
        shapes=((2, 3, 4), (4,)),
        dtypes=("float64", "float32", "int64"),
    ),
    Record(
        covers=("numpy.linalg.vecdot",),
        fn=lambda x, y: np.linalg.vecdot(x, y, axis=0),
        shapes=((3, 4), (3, 1)),
        id="numpy.linalg.vecdot-axis",
    ),
    Record(
        covers=("numpy.linalg.vecdot",),
        fn=lambda x, y: _parts(np.linalg.vecdot(x + 1j * y, y - 2j * x)),
        shapes=((2, 3), (2, 3)),
        id="numpy.linalg.vecdot-complex",
    ),
    Record(
        covers=("numpy.linalg.matmul",),
        fn=np.linalg.matmul,
        shapes=((2, 3, 4), (4, 2)),
        dtypes=("float64", "float32", "int64", "bool"),
    ),
    Record(
        covers=("numpy.linalg.outer",),
        fn=np.linalg.outer,
        shapes=((3,), (4,)),
        dtypes=("float64", "float32", "int64"),
    ),
    Record(covers=("numpy.linalg.cross",), fn=np.linalg.cross, shapes=((2, 3), (3,))),
    Record(
        covers=("numpy.linalg.cross",),
        fn=lambda x, y: np.linalg.cross(x, y, axis=0),
        shapes=((3, 2), (3, 2)),
        id="numpy.linalg.cross-axis",
    ),
    Record(
        covers=("numpy.linalg.multi_dot",),
        fn=lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]),
        shapes=((3,), (3, 5), (5, 2), (2,)),
    ),
    Record(
        covers=("numpy.linalg.multi_dot",),
        fn=lambda a, b, c: np.linalg.multi_dot([a, b, c]),
        shapes=((4, 3), (3, 5), (5, 2)),
        dtypes=("float64", "float32", "int64"),
        id="numpy.linalg.multi_dot-three",
    ),
    Record(
        covers=("numpy.linalg.multi_dot",),
        fn=lambda a, b: np.linalg.multi_dot([a, b]),
        shapes=((2, 4, 3), (3, 2)),
        id="numpy.linalg.multi_dot-two",
    ),
    Record(
        covers=("numpy.linalg.tensorsolve",),
        fn=lambda a, b: np.linalg.tensorsolve(_shifted(a), b),
        shapes=((4, 4), (2, 2)),
    ),
    Record(
        covers=("numpy.linalg.tensorsolve",),
        fn=lambda a, b: np.linalg.tensorsolve(_shifted(a), b, axes=(0, 2)),
        shapes=((4, 4), (2, 2)),
        id="numpy.linalg.tensorsolve-axes",
    ),
    Record(
        covers=("numpy.linalg.tensorinv",),
        fn=lambda a: np.linalg.tensorinv(_shifted(a)),
        shapes=((4, 4),),
    ),
    Record(
        covers=("numpy.linalg.tensorinv",),
        fn=lambda a: np.linalg.tensorinv(_shifted(a).reshape(4, 2, 2), ind=1),
        shapes=((4, 4),),
        id="numpy.linalg.tensorinv-ind",
    ),
    Record(
        covers=("numpy.linalg.trace",),
        fn=np.linalg.trace,
        shapes=((2, 3, 4),),
        dtypes=("float64", "float32", "int64", "uint8"),
    ),
    Record(
        covers=("numpy.linalg.trace",),
        fn=lambda x: np.linalg.trace(x, offset=-1, dtype=np.float64),
        shapes=((2, 4, 3),),
        dtypes=("float32", "int64"),
        id="numpy.linalg.trace-offset-dtype",
    ),
    Record(covers=("numpy.linalg.diagonal",), fn=np.linalg.diagonal, shapes=((2, 3, 4),)),
    Record(
        covers=("numpy.linalg.diagonal",),
        fn=lambda x: np.linalg.diagonal(x, offset=2),
        shapes=((2, 3, 4),),
        id="numpy.linalg.diagonal-offset",
    ),
    Record(
        covers=("numpy.linalg.matrix_transpose",),
        fn=np.linalg.matrix_transpose,
        shapes=((2, 3, 4),),
    ),
    Record(
        covers=("numpy.matrix_transpose",),
        fn=lambda x: np.matrix_transpose(x) * 2,
        shapes=((3, 4),),
        dtypes=("float64", "float32", "int64"),
    ),
    Record(
        covers=("numpy.cumulative_sum",),
        fn=np.cumulative_sum,
        shapes=((5,),),
        dtypes=("float64", "float32", "int8", "uint8", "bool"),
    ),
    Record(
        covers=("numpy.cumulative_sum",),
        fn=lambda x: np.cumulative_sum(x, axis=-1, include_initial=True),
        shapes=((3, 4),),
        dtypes=("float64", "float32", "uint8"),
        id="numpy.cumulative_sum-initial",
    ),
    Record(
        covers=("numpy.cumulative_sum",),
        fn=lambda x: np.cumulative_sum(x, axis=0, dtype=np.float64, include_initial=True),
        shapes=((3, 4),),
        dtypes=("float32", "int64"),
        id="numpy.cumulative_sum-dtype",
    ),
    Record(
        covers=("numpy.cumulative_prod",),
        fn=np.cumulative_prod,
        shapes=((5,),),
        dtypes=("float64", "float32", "int8", "uint8"),
    ),
    Record(
        covers=("numpy.cumulative_prod",),
        fn=lambda x: np.cumulative_prod(x, axis=1, include_initial=True),
        shapes=((3, 4),),
        id="numpy.cumulative_prod-initial",
    ),
    Record(
        covers=("numpy.astype",),
        fn=lambda x: np.astype(x, np.float64) * 2,
        shapes=((3, 4),),
        dtypes=("float32", "int64", "bool"),
    ),
    Record(
        covers=("numpy.astype",),
        fn=lambda x: np.astype(x, x.dtype, copy=False) + np.astype(x, np.int32, device="cpu"),
        shapes=((3, 4),),
        id="numpy.astype-copy-device",
    ),
]

if hasattr(np, "matvec"):  # NumPy >= 2.2
    RECORDS += [
        Record(
            covers=("numpy.matvec",),
            fn=np.matvec,
            shapes=((2, 3, 4), (4,)),
            dtypes=("float64", "float32", "int64", "bool"),
        ),
        Record(
            covers=("numpy.matvec",),
            fn=lambda a, b: _parts(np.matvec(a + 1j * a, b - 1j * b)),
            shapes=((3, 4), (2, 1, 4)),
            id="numpy.matvec-complex",
        ),
        Record(
            covers=("numpy.vecmat",),
            fn=np.vecmat,
            shapes=((3,), (2, 3, 4)),
            dtypes=("float64", "float32", "int64", "bool"),
        ),
        Record(
            covers=("numpy.vecmat",),
            fn=lambda a, b: _parts(np.vecmat(a + 1j * a, b - 1j * b)),
            shapes=((2, 3), (3, 4)),
            id="numpy.vecmat-complex",
        ),
    ]
