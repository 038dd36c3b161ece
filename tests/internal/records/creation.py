"""Records of the arrays made like another, and of meshgrid."""

from __future__ import annotations

import numpy as np

from . import Record

_NOGRAD = dict(grad=False)

RECORDS = [
    Record(
        covers=("numpy.zeros_like",),
        fn=lambda x: np.zeros_like(x) + x,
        shapes=((3, 4),),
        id="numpy.zeros_like-plus",
    ),
    Record(
        covers=("numpy.zeros_like",),
        fn=lambda x: np.zeros_like(x, dtype=np.int16),
        shapes=((3, 4),),
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.ones_like",),
        fn=lambda x: np.ones_like(x, shape=(2, 5)),
        shapes=((3, 4),),
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.empty_like",),
        fn=lambda x: np.empty_like(x).shape,
        shapes=((3, 4),),
        **_NOGRAD,
    ),
    Record(covers=("numpy.full_like",), fn=lambda x: np.full_like(x, 2.5) * x, shapes=((3, 4),)),
    Record(
        covers=("numpy.full_like",),
        fn=lambda x: np.full_like(x, 7, dtype=np.int32),
        shapes=((3, 4),),
        id="numpy.full_like-dtype",
        **_NOGRAD,
    ),
    Record(covers=("numpy.meshgrid",), fn=np.meshgrid, shapes=((3,), (2,))),
    Record(
        covers=("numpy.meshgrid",),
        fn=lambda x, y, z: np.meshgrid(x, y, z, indexing="ij"),
        shapes=((3,), (2, 2), (2,)),  # a 2-d input is raveled
        id="numpy.meshgrid-ij",
    ),
    Record(
        covers=("numpy.meshgrid",),
        fn=lambda x, y, z: np.meshgrid(x, y, z, sparse=True),
        shapes=((3,), (2,), (4,)),
        id="numpy.meshgrid-sparse",
    ),
    Record(
        covers=("numpy.meshgrid",),
        fn=lambda x, y: tuple(g * 1.0 for g in np.meshgrid(x, y, copy=False, indexing="ij")),
        shapes=((3,), (2,)),
        id="numpy.meshgrid-views",
    ),
    Record(
        covers=("numpy.meshgrid",),
        fn=lambda x, i: np.meshgrid(x, i),
        shapes=((3,),),
        consts=(np.arange(4),),  # each output keeps its input's dtype
        id="numpy.meshgrid-int",
    ),
]

# index arrays from a shape: no gradient of their own; the gathers through them have one
RECORDS += [
    Record(
        covers=("numpy.triu_indices_from", "numpy.tril_indices_from", "numpy.diag_indices_from"),
        fn=lambda x: (
            *np.triu_indices_from(x),
            *np.triu_indices_from(x, k=1),
            *np.tril_indices_from(x, -1),
            *np.tril_indices_from(x[:, :3], np.int64(2)),
            *np.diag_indices_from(x[:, :3]),
        ),
        shapes=((3, 4),),
        grad=False,
    ),
    Record(
        covers=("numpy.triu_indices_from", "numpy.tril_indices_from", "numpy.diag_indices_from"),
        fn=lambda x, y: (
            x[np.triu_indices_from(x, 1)],
            x[np.tril_indices_from(x)],
            y[np.diag_indices_from(y)],
        ),
        shapes=((3, 4), (2, 2, 2)),
        id="numpy.triu_indices_from-gather",
    ),
]
