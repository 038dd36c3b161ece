"""Records of the arrays made like another."""

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
]
