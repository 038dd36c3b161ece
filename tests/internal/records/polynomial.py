"""Records of the polynomial rows: polyadd, polysub, polymul, polyder, polyint
(coefficient vectors, highest power first; unequal lengths, constants beside traced
values, integer vectors, polyint's constants k traced or not)."""

from __future__ import annotations

import numpy as np

from . import Record

_INT = ("int64", "int32")

RECORDS = [
    Record(
        covers=("numpy.polyadd", "numpy.polysub"),
        fn=lambda a, b: (np.polyadd(a, b), np.polysub(a, b), np.polysub(b, a)),
        shapes=((3,), (5,)),
    ),
    Record(
        covers=("numpy.polyadd", "numpy.polysub"),
        fn=lambda a: (np.polyadd(a, [1.0, -2.0]), np.polysub(2.5, a), np.polyadd(a, a)),
        shapes=((4,),),
        id="numpy.polyadd-constants",
    ),
    Record(
        covers=("numpy.polyadd", "numpy.polysub"),
        fn=lambda a, b: (np.polyadd(a, b), np.polysub(b, a), np.polyadd(a, np.ones(5, np.int8))),
        shapes=((2,), (4,)),
        dtypes=_INT,
        grad=False,
        id="numpy.polyadd-ints",
    ),
    Record(
        covers=("numpy.polymul",),
        fn=lambda a, b: (np.polymul(a, b), np.polymul(b, [2.0, 0.5, -1.0])),
        shapes=((3,), (4,)),
    ),
    Record(
        covers=("numpy.polymul",),
        fn=np.polymul,
        shapes=((3,), (2,)),
        dtypes=_INT,
        grad=False,
        id="numpy.polymul-ints",
    ),
    Record(
        covers=("numpy.polyder",),
        fn=lambda p: (np.polyder(p), np.polyder(p, 2), np.polyder(p, m=0), np.polyder(p, 7)),
        shapes=((5,),),
    ),
    Record(
        covers=("numpy.polyder",),
        fn=lambda p: (np.polyder(p), np.polyder(p, 3)),
        shapes=((5,),),
        dtypes=(*_INT, "bool"),
        grad=False,
        id="numpy.polyder-ints",
    ),
    Record(
        covers=("numpy.polyint",),
        fn=lambda p: (np.polyint(p), np.polyint(p, 2), np.polyint(p, 0), np.polyint(p, k=1.5)),
        shapes=((4,),),
    ),
    # the constants traced: the gradient reaches them
    Record(
        covers=("numpy.polyint",),
        fn=lambda p, k: (np.polyint(p, 3, k=k), np.polyint(p, 2, k=k[0]), np.polyint(p, k=k[2])),
        shapes=((3,), (3,)),
        id="numpy.polyint-traced-k",
    ),
    Record(
        covers=("numpy.polyint",),
        fn=lambda p: (np.polyint(p, 2, k=[1, 2]), np.polyint(p, 3, k=4), np.polyint(p)),
        shapes=((3,),),
        dtypes=_INT,
        grad=False,
        id="numpy.polyint-ints",
    ),
]
