"""Records of ``numpy.linalg``."""

from __future__ import annotations

import numpy as np

from . import Record

RECORDS = [
    Record(covers=("numpy.linalg.norm",), fn=np.linalg.norm, shapes=((3, 4),)),
    Record(
        covers=("numpy.linalg.norm",),
        fn=lambda x: np.linalg.norm(x, ord=1, axis=1),
        shapes=((3, 4),),
        id="numpy.linalg.norm-l1-axis",
    ),
    Record(
        covers=("numpy.linalg.norm",),
        fn=lambda x: np.linalg.norm(x, "fro", axis=(1, 2), keepdims=True),
        shapes=((2, 3, 4),),
        id="numpy.linalg.norm-fro",
    ),
    Record(
        covers=("numpy.linalg.norm",),
        fn=lambda x: np.linalg.norm(x, np.inf),
        shapes=((5,),),
        id="numpy.linalg.norm-inf",
    ),
    Record(covers=("numpy.linalg.det",), fn=np.linalg.det, shapes=((2, 3, 3),), domain="spd"),
    Record(covers=("numpy.linalg.inv",), fn=np.linalg.inv, shapes=((3, 3),), domain="spd"),
    Record(
        covers=("numpy.linalg.cholesky",), fn=np.linalg.cholesky, shapes=((3, 3),), domain="spd"
    ),
    Record(
        covers=("numpy.linalg.solve",),
        fn=np.linalg.solve,
        shapes=((3, 3), (3,)),
        domain=("spd", "real"),
    ),
    Record(
        covers=("numpy.linalg.solve",),
        fn=np.linalg.solve,
        shapes=((2, 3, 3), (3, 2)),
        domain=("spd", "real"),
        id="numpy.linalg.solve-matrices",
    ),
    Record(
        covers=("numpy.linalg.slogdet",),
        fn=lambda a: tuple(np.linalg.slogdet(a)),
        shapes=((3, 3),),
        domain="spd",
    ),
]
