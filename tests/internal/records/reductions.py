"""Records of the reductions: sums, means, extrema, variances, cumulative ones,
arg-reductions and quantiles, with their axis, keepdims, ddof and dtype options."""

from __future__ import annotations

import numpy as np

from . import Record

_M = ((3, 4),)
_NOGRAD = dict(grad=False)
_INT = ("int64", "int16")

RECORDS = [
    Record(covers=("numpy.sum",), fn=np.sum, shapes=_M),
    Record(
        covers=("numpy.sum",),
        fn=lambda x: np.sum(x, axis=(0, 1), keepdims=True),
        shapes=_M,
        id="numpy.sum-axes-keepdims",
    ),
    Record(
        covers=("numpy.sum",), fn=lambda x: np.sum(x, axis=()), shapes=_M, id="numpy.sum-no-axis"
    ),
    Record(
        covers=("numpy.sum",),
        fn=lambda x: np.sum(x, axis=-1, dtype=np.float64),
        shapes=_M,
        id="numpy.sum-dtype",
    ),
    Record(
        covers=("numpy.sum",),
        fn=lambda x: np.sum(x, axis=0),
        shapes=_M,
        dtypes=(*_INT, "bool"),
        grad=False,
        id="numpy.sum-ints",
    ),
    Record(covers=("numpy.mean",), fn=lambda x: np.mean(x, axis=1), shapes=_M),
    Record(
        covers=("numpy.mean",),
        fn=lambda x: np.mean(x, axis=0),
        shapes=_M,
        dtypes=_INT,
        grad=False,
        id="numpy.mean-ints",
    ),
    Record(
        covers=("numpy.prod",), fn=lambda x: np.prod(x, axis=(0,)), shapes=_M, domain="positive"
    ),
    Record(covers=("numpy.max",), fn=lambda x: np.max(x, axis=1, keepdims=True), shapes=_M),
    Record(covers=("numpy.min",), fn=lambda x: np.min(x, axis=0), shapes=_M),
    Record(covers=("numpy.amax",), fn=np.amax, shapes=_M),
    Record(covers=("numpy.amin",), fn=lambda x: np.amin(x, axis=-1), shapes=_M),
    Record(covers=("numpy.var",), fn=lambda x: np.var(x, axis=0, ddof=1), shapes=_M),
    Record(
        covers=("numpy.var",),
        fn=lambda x: np.var(x, dtype=np.float64),
        shapes=_M,
        id="numpy.var-dtype",
    ),
    Record(
        covers=("numpy.var",),
        fn=lambda x: np.var(x, axis=1),
        shapes=_M,
        dtypes=_INT,
        grad=False,
        id="numpy.var-ints",
    ),
    Record(covers=("numpy.std",), fn=lambda x: np.std(x, axis=1, keepdims=True), shapes=_M),
    Record(
        covers=("numpy.std",),
        fn=lambda x: np.std(x, dtype=np.float64, ddof=1),
        shapes=_M,
        id="numpy.std-dtype",
    ),
    Record(covers=("numpy.any",), fn=lambda x: np.any(x > 1.0, axis=0), shapes=_M, **_NOGRAD),
    Record(covers=("numpy.all",), fn=lambda x: np.all(x > -1.0, axis=1), shapes=_M, **_NOGRAD),
    Record(covers=("numpy.argmax",), fn=lambda x: np.argmax(x, axis=1), shapes=_M, **_NOGRAD),
    Record(
        covers=("numpy.argmax",),
        fn=lambda x: np.argmax(x, keepdims=True),
        shapes=_M,
        dtypes=("float64", "bool"),
        id="numpy.argmax-keepdims",
        **_NOGRAD,
    ),
    Record(covers=("numpy.argmin",), fn=np.argmin, shapes=_M, **_NOGRAD),
    Record(covers=("numpy.cumsum",), fn=lambda x: np.cumsum(x, axis=1), shapes=_M),
    # (uint8 is left out: NumPy sums it into uint64, which TracedArray widens to int64)
    Record(
        covers=("numpy.cumsum",),
        fn=np.cumsum,
        shapes=_M,
        dtypes=(*_INT, "bool"),
        grad=False,
        id="numpy.cumsum-ints",
    ),
    Record(
        covers=("numpy.cumsum",),
        fn=lambda x: np.cumsum(x, dtype=np.float64),
        shapes=_M,
        id="numpy.cumsum-dtype",
    ),
    Record(covers=("numpy.cumprod",), fn=lambda x: np.cumprod(x, axis=0), shapes=_M),
    Record(
        covers=("numpy.count_nonzero",),
        fn=lambda x: np.count_nonzero(x > 0, axis=1),
        shapes=_M,
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.count_nonzero",),
        fn=lambda x: np.count_nonzero(x > 0),
        shapes=_M,
        id="numpy.count_nonzero-all",
        **_NOGRAD,
    ),
    Record(covers=("numpy.quantile",), fn=lambda x: np.quantile(x, 0.3, axis=1), shapes=_M),
    Record(
        covers=("numpy.quantile",),
        fn=lambda x: np.quantile(x, [0.25, 0.75], axis=(0, 1), keepdims=True),
        shapes=_M,
        id="numpy.quantile-two-axes",
    ),
    Record(
        covers=("numpy.quantile",),
        fn=lambda x: np.quantile(x, 0.5, method="nearest"),
        shapes=((5,),),
        id="numpy.quantile-nearest",
    ),
    Record(
        covers=("numpy.percentile",), fn=lambda x: np.percentile(x, [10.0, 90.0], axis=0), shapes=_M
    ),
    Record(
        covers=("numpy.percentile",),
        fn=lambda x: np.percentile(x, 40, axis=1),
        shapes=_M,
        dtypes=_INT,
        grad=False,
        id="numpy.percentile-ints",
    ),
    Record(covers=("numpy.median",), fn=lambda x: np.median(x, axis=0), shapes=((5, 3),)),
]
