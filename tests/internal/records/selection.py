"""Records of selection and comparison: where, clip, take, sorting, triangles."""

from __future__ import annotations

import numpy as np

from . import Record

_M = ((3, 4),)
_NOGRAD = dict(grad=False)
_IDX = np.array([[2, 0], [1, 1], [0, 3]])

RECORDS = [
    Record(covers=("numpy.where",), fn=lambda x, y: np.where(x > 0, x, y), shapes=((3, 4), (4,))),
    Record(
        covers=("numpy.where",),
        fn=lambda x: np.where(x > 0, x, 0.5),
        shapes=_M,
        id="numpy.where-scalar",
    ),
    Record(
        covers=("numpy.where",),
        fn=lambda x: np.where(x > 0),
        shapes=_M,
        id="numpy.where-one",
        **_NOGRAD,
    ),
    Record(covers=("numpy.clip",), fn=lambda x: np.clip(x, -0.5, 1.0), shapes=_M),
    Record(
        covers=("numpy.clip",),
        fn=lambda x, lo: np.clip(x, lo, None),
        shapes=((3, 4), (4,)),
        id="numpy.clip-array-bound",
    ),
    Record(
        covers=("numpy.clip",),
        fn=lambda x: np.clip(x, min=-1, max=1),
        shapes=_M,
        id="numpy.clip-keywords",
    ),
    Record(
        covers=("numpy.take_along_axis",),
        fn=lambda x, i: np.take_along_axis(x, i, axis=1),
        shapes=_M,
        consts=(_IDX,),
    ),
    Record(
        covers=("numpy.take",),
        fn=lambda x, i: np.take(x, i, axis=1),
        shapes=_M,
        consts=(np.array([3, -1, 0]),),
    ),
    Record(
        covers=("numpy.take",),
        fn=lambda x: np.take(x, [[5, 0], [11, 2]]),
        shapes=_M,
        id="numpy.take-flat",
    ),
    Record(
        covers=("numpy.take",),
        fn=lambda x: np.take(x, [7, -9, 1], axis=1, mode="wrap"),
        shapes=_M,
        id="numpy.take-wrap",
    ),
    Record(
        covers=("numpy.take",),
        fn=lambda x: np.take(x, [[7, -9], [1, 30]], mode="clip"),
        shapes=_M,
        id="numpy.take-clip",
    ),
    Record(covers=("numpy.sort",), fn=lambda x: np.sort(x, axis=0), shapes=_M),
    Record(
        covers=("numpy.sort",), fn=lambda x: np.sort(x, axis=None), shapes=_M, id="numpy.sort-flat"
    ),
    Record(covers=("numpy.argsort",), fn=np.argsort, shapes=_M, **_NOGRAD),
    Record(covers=("numpy.nonzero",), fn=lambda x: np.nonzero(x > 0.5), shapes=_M, **_NOGRAD),
    Record(covers=("numpy.flatnonzero",), fn=lambda x: np.flatnonzero(x > 0), shapes=_M, **_NOGRAD),
    Record(covers=("numpy.argwhere",), fn=lambda x: np.argwhere(x > 0), shapes=_M, **_NOGRAD),
    Record(covers=("numpy.diag",), fn=np.diag, shapes=_M),
    Record(
        covers=("numpy.diag",),
        fn=lambda v: np.diag(v, k=-1),
        shapes=((3,),),
        id="numpy.diag-vector",
    ),
    Record(covers=("numpy.diagonal",), fn=lambda x: np.diagonal(x, 1, 1, 2), shapes=((2, 3, 4),)),
    Record(covers=("numpy.triu",), fn=lambda x: np.triu(x, 1), shapes=_M),
    Record(covers=("numpy.tril",), fn=np.tril, shapes=((2, 3, 4),)),
    # a vector: NumPy broadcasts it against the (n, n) mask
    Record(covers=("numpy.triu",), fn=np.triu, shapes=((4,),), id="numpy.triu-vector"),
    Record(
        covers=("numpy.tril",), fn=lambda x: np.tril(x, -1), shapes=((4,),), id="numpy.tril-vector"
    ),
    Record(
        covers=("numpy.tril",),
        fn=lambda x: np.tril(x, k=-1),
        shapes=_M,
        dtypes=("int64",),
        grad=False,
        id="numpy.tril-ints",
    ),
    Record(
        covers=("numpy.nan_to_num",),
        fn=lambda x, c: np.nan_to_num(x + c, posinf=3.0, neginf=-3.0),
        shapes=((4,),),
        consts=(np.array([np.inf, -np.inf, 1.0, 2.0]),),
    ),
    Record(
        covers=("numpy.nan_to_num",), fn=np.nan_to_num, shapes=((4,),), id="numpy.nan_to_num-finite"
    ),
    Record(
        covers=("numpy.allclose",),
        fn=lambda x, y: np.allclose(x, x + 1e-9 * y),
        shapes=_M * 2,
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.isclose",),
        fn=lambda x, y: np.isclose(x, y, atol=0.5),
        shapes=_M * 2,
        **_NOGRAD,
    ),
    Record(covers=("numpy.round",), fn=lambda x: np.round(x, 1), shapes=_M),
    Record(
        covers=("numpy.round",),
        fn=lambda x: np.round(x * 100, -1),
        shapes=_M,
        dtypes=("int64",),
        grad=False,
        id="numpy.round-ints-tens",
    ),
    Record(covers=("numpy.around",), fn=np.around, shapes=_M),
]

# choose (the gradient to the chosen elements), compress and extract (constant or traced
# conditions, shorter than the axis too)
_PICK = np.array([[0, 2, 1, 0], [1, 1, 2, 0], [2, 0, 0, 1]])
RECORDS += [
    Record(
        covers=("numpy.choose", "ndarray.choose"),
        fn=lambda x, y: (
            np.choose(_PICK, [x, y, x * y]),
            np.choose(_PICK[0], [x, -y[0], 2.5]),
            np.argmin(y[:2], axis=0).choose(x[:2]),
            np.choose(np.argmax(x, axis=0), x),
            np.choose(np.array([True, False, True, True]), [x[0], y]),
        ),
        shapes=((3, 4), (3, 4)),
    ),
    Record(
        covers=("numpy.choose",),
        fn=lambda x, y: np.choose(_PICK, [x, y, 7]),
        shapes=((3, 4), (3, 4)),
        dtypes=("int64", "int16"),
        grad=False,
        id="numpy.choose-ints",
    ),
    Record(
        covers=("numpy.compress", "ndarray.compress", "numpy.extract"),
        fn=lambda x: (
            np.compress([True, False, True], x, axis=0),
            np.compress([0, 2, 1, 0], x, axis=-1),
            np.compress([False, True, True], x),
            x.compress(x[0] > 0, axis=1),
            np.compress(np.array([True, True]), x, 0),
            np.extract(x > 0, x),
            np.extract(_PICK, x * 2.0),
            np.extract([1, 0, 1], x),
        ),
        shapes=_M,
    ),
    Record(
        covers=("numpy.compress", "numpy.extract"),
        fn=lambda x: (np.compress([1, 0, 1], x), np.extract(x > 1, x)),
        shapes=_M,
        dtypes=("int64", "bool"),
        grad=False,
        id="numpy.compress-ints",
    ),
]
