"""Records of the reductions: sums, means, extrema, variances, cumulative ones,
arg-reductions and quantiles, with their axis, keepdims, ddof and dtype options."""

from __future__ import annotations

import warnings

import numpy as np

from . import Record

_M = ((3, 4),)
_NOGRAD = dict(grad=False)
_INT = ("int64", "int16")

# nan at a few places of a 3x4 input (0 elsewhere), added to it: float32, so the
# float32 runs stay float32; the gradient there must be zero
_HOLES = np.zeros((3, 4), np.float32)
_HOLES[0, 1] = _HOLES[2, 3] = _HOLES[1, 0] = np.nan
# ... and a whole column of nan (an all-nan slice along axis 0)
_COLUMN = _HOLES.copy()
_COLUMN[:, 2] = np.nan
# where= masks for a 3x4 input: every row and column keeps a place; and one per column
_KEEP = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1]], bool)
_COLS = np.array([True, False, True, True])


def _quiet(f):
    """An all-nan slice: NumPy warns of it (RuntimeWarning), so the reference runs
    quiet (npgrad's traced code does not warn: tests/internal/test_new_rows.py), and
    its nan becomes a number (npgrad.function's nonfinite policy would warn of a nan
    output); where NumPy's value is nan, npgrad's must be too."""

    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            r = f(*args)
        return np.where(np.isnan(r), -7.0, r)

    return run


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
        dtypes=(*_INT, "bool", "uint8", "int8", "uint16"),
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
    Record(
        covers=("numpy.prod", "numpy.cumprod"),
        fn=lambda x: (np.prod(x), np.prod(x, axis=1), np.cumprod(x, axis=0)),
        shapes=_M,
        dtypes=("uint8", "int8", "uint16", "bool"),
        grad=False,
        id="numpy.prod-small-ints",
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
    Record(
        covers=("numpy.cumsum",),
        fn=np.cumsum,
        shapes=_M,
        dtypes=(*_INT, "bool", "uint8", "int8"),
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
    # nan-reductions: nan inside (gradient zero there), all-nan slices, integers
    Record(covers=("numpy.nansum",), fn=lambda x, h: np.nansum(x + h), shapes=_M, consts=(_HOLES,)),
    Record(
        covers=("numpy.nansum",),
        fn=lambda x, h: np.nansum(x + h, axis=0, keepdims=True),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.nansum-all-nan-column",
    ),
    Record(
        covers=("numpy.nansum",),
        fn=lambda x, h: np.nansum(x + h, axis=(0, 1), dtype=np.float64),
        shapes=_M,
        consts=(_HOLES,),
        id="numpy.nansum-dtype",
    ),
    Record(
        covers=("numpy.nansum",),
        fn=lambda x: np.nansum(x, axis=1),
        shapes=_M,
        dtypes=(*_INT, "bool"),
        grad=False,
        id="numpy.nansum-ints",
    ),
    Record(
        covers=("numpy.nanmean",),
        fn=lambda x, h: np.nanmean(x + h, axis=1),
        shapes=_M,
        consts=(_HOLES,),
    ),
    Record(
        covers=("numpy.nanmean",),
        fn=lambda x, h: np.nanmean(x + h, keepdims=True, dtype=np.float64),
        shapes=_M,
        consts=(_HOLES,),
        id="numpy.nanmean-dtype-keepdims",
    ),
    Record(
        covers=("numpy.nanmean",),
        fn=_quiet(lambda x, h: np.nanmean(x + h, axis=0)),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.nanmean-all-nan-column",
    ),
    Record(
        covers=("numpy.nanmean",),
        fn=lambda x: np.nanmean(x, axis=0),
        shapes=_M,
        dtypes=_INT,
        grad=False,
        id="numpy.nanmean-ints",
    ),
    Record(
        covers=("numpy.nanmax",),
        fn=lambda x, h: np.nanmax(x + h, axis=1, keepdims=True),
        shapes=_M,
        consts=(_HOLES,),
    ),
    Record(
        covers=("numpy.nanmax",),
        fn=lambda x, h: np.nanmax(x + h),
        shapes=_M,
        consts=(_HOLES,),
        id="numpy.nanmax-all",
    ),
    Record(
        covers=("numpy.nanmax",),
        fn=_quiet(lambda x, h: np.nanmax(x + h, axis=0)),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.nanmax-all-nan-column",
    ),
    Record(
        covers=("numpy.nanmax",),
        fn=lambda x: np.nanmax(x, axis=0),
        shapes=_M,
        dtypes=(*_INT, "bool"),
        grad=False,
        id="numpy.nanmax-ints",
    ),
    Record(
        covers=("numpy.nanmin",),
        fn=lambda x, h: np.nanmin(x + h, axis=(0, 1)),
        shapes=_M,
        consts=(_HOLES,),
    ),
    Record(
        covers=("numpy.nanmin",),
        fn=_quiet(lambda x, h: np.nanmin(x + h, axis=0, keepdims=True)),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.nanmin-all-nan-column",
    ),
    Record(
        covers=("numpy.nanmin",),
        fn=lambda x: np.nanmin(x, axis=1),
        shapes=_M,
        dtypes=(*_INT, "uint8"),
        grad=False,
        id="numpy.nanmin-ints",
    ),
    Record(
        covers=("numpy.nanprod",),
        fn=lambda x, h: np.nanprod(x + h, axis=1),
        shapes=_M,
        consts=(_HOLES,),
    ),
    Record(
        covers=("numpy.nanprod",),
        fn=lambda x, h: np.nanprod(x + h, axis=0, keepdims=True, dtype=np.float64),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.nanprod-all-nan-column",
    ),
    Record(
        covers=("numpy.nanprod",),
        fn=lambda x, h: np.nanprod(x + h, axis=0, initial=2.0, where=_COLS),
        shapes=_M,
        consts=(_HOLES,),
        id="numpy.nanprod-initial-where",
    ),
    Record(
        covers=("numpy.nanprod",),
        fn=lambda x: np.nanprod(x, axis=0),
        shapes=_M,
        dtypes=(*_INT, "uint8"),
        grad=False,
        id="numpy.nanprod-ints",
    ),
    Record(
        covers=("numpy.nanvar", "numpy.nanstd"),
        fn=lambda x, h: (np.nanvar(x + h, axis=1), np.nanstd(x + h, axis=0, ddof=1)),
        shapes=_M,
        consts=(_HOLES,),
    ),
    Record(
        covers=("numpy.nanvar", "numpy.nanstd"),
        fn=lambda x, h: (np.nanvar(x + h, keepdims=True), np.nanstd(x + h, axis=(0, 1))),
        shapes=_M,
        consts=(_HOLES,),
        id="numpy.nanvar-all",
    ),
    Record(
        covers=("numpy.nanvar", "numpy.nanstd"),
        fn=lambda x, h: (
            np.nanvar(x + h, axis=1, dtype=np.float64, ddof=2),
            np.nanstd(x + h, axis=1, keepdims=True, correction=1),
        ),
        shapes=_M,
        consts=(_HOLES,),
        id="numpy.nanvar-dtype-ddof",
    ),
    Record(
        # an all-nan column, and ddof=2 leaves a two-element column no degree of freedom
        covers=("numpy.nanvar", "numpy.nanstd"),
        fn=_quiet(
            lambda x, h: np.stack([np.nanvar(x + h, axis=0), np.nanstd(x + h, axis=0, ddof=2)])
        ),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.nanvar-all-nan-column",
    ),
    Record(
        covers=("numpy.nanvar", "numpy.nanstd"),
        fn=lambda x: (np.nanvar(x, axis=0), np.nanstd(x, axis=1, dtype=np.float32)),
        shapes=_M,
        dtypes=_INT,
        grad=False,
        id="numpy.nanvar-ints",
    ),
    Record(
        covers=("numpy.nanargmax", "numpy.nanargmin"),
        fn=lambda x, h: (
            np.nanargmax(x + h, axis=1),
            np.nanargmin(x + h),
            np.nanargmax(x + h, axis=0, keepdims=True),
        ),
        shapes=_M,
        consts=(_HOLES,),
        grad=False,
    ),
    Record(
        covers=("numpy.nanargmax", "numpy.nanargmin"),
        fn=lambda x: (np.nanargmax(x, axis=0), np.nanargmin(x, axis=1)),
        shapes=_M,
        dtypes=(*_INT, "bool"),
        grad=False,
        id="numpy.nanargmax-ints",
    ),
    # ufunc.reduce of fmax / fmin: np.nanmax's and np.nanmin's rows, axis=0 by default
    Record(
        covers=("numpy.nanmax", "numpy.nanmin"),
        fn=lambda x, h: (np.fmax.reduce(x + h), np.fmin.reduce(x + h, axis=1, keepdims=True)),
        shapes=_M,
        consts=(_HOLES,),
        id="numpy.fmax.reduce",
    ),
    Record(
        covers=("numpy.nanmax", "numpy.nanmin"),
        fn=_quiet(lambda x, h: np.stack([np.fmax.reduce(x + h), np.fmin.reduce(x + h, axis=0)])),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.fmax.reduce-all-nan-column",
    ),
    Record(covers=("numpy.ptp",), fn=lambda x: np.ptp(x, axis=1), shapes=_M),
    Record(
        covers=("numpy.ptp",),
        fn=lambda x: np.ptp(x, axis=(0, 1), keepdims=True),
        shapes=((2, 3, 4),),
        id="numpy.ptp-axes-keepdims",
    ),
    Record(covers=("numpy.ptp",), fn=np.ptp, shapes=_M, id="numpy.ptp-all"),
    Record(
        covers=("numpy.ptp",),
        fn=lambda x: np.ptp(x, axis=0),
        shapes=_M,
        dtypes=(*_INT, "uint8", "int8"),
        grad=False,
        id="numpy.ptp-ints",
    ),
    # ufunc.accumulate: NumPy's default axis is 0; a 1-tuple axis and None on 1-d too
    Record(covers=("numpy.add.accumulate",), fn=np.add.accumulate, shapes=_M),
    Record(
        covers=("numpy.add.accumulate",),
        fn=lambda x: np.add.accumulate(x, axis=(1,), dtype=np.float64),
        shapes=_M,
        id="numpy.add.accumulate-axis-dtype",
    ),
    Record(
        covers=("numpy.add.accumulate", "numpy.multiply.accumulate"),
        fn=lambda x: (np.add.accumulate(x, 1), np.multiply.accumulate(x, axis=-1)),
        shapes=_M,
        dtypes=(*_INT, "bool", "uint8", "int8"),
        grad=False,
        id="numpy.add.accumulate-ints",
    ),
    Record(
        covers=("numpy.multiply.accumulate",),
        fn=lambda x: np.multiply.accumulate(x, axis=1),
        shapes=_M,
        domain="positive",
    ),
    Record(
        covers=("numpy.multiply.accumulate",),
        fn=lambda x: np.multiply.accumulate(x, axis=None),
        shapes=((5,),),
        id="numpy.multiply.accumulate-1d",
    ),
    Record(covers=("numpy.maximum.accumulate",), fn=np.maximum.accumulate, shapes=((4, 3),)),
    Record(
        covers=("numpy.maximum.accumulate", "numpy.minimum.accumulate"),
        fn=lambda x: (np.maximum.accumulate(x, axis=1), np.minimum.accumulate(x, axis=1)),
        shapes=_M,
        dtypes=(*_INT, "uint16", "uint64", "bool"),
        grad=False,
        id="numpy.maximum.accumulate-ints",
    ),
    Record(
        covers=("numpy.minimum.accumulate",),
        fn=lambda x: np.minimum.accumulate(x, axis=-1, dtype=np.float64),
        shapes=_M,
    ),
    Record(
        covers=("numpy.fmax.accumulate", "numpy.fmin.accumulate"),
        # a leading nan (column 1, row 1) stays nan until the first number
        fn=_quiet(lambda x, h: np.stack([np.fmax.accumulate(x + h), np.fmin.accumulate(x + h, 1)])),
        shapes=_M,
        consts=(_HOLES,),
    ),
    Record(
        covers=("numpy.fmax.accumulate", "numpy.fmin.accumulate"),
        fn=_quiet(
            lambda x, h: np.stack(
                [
                    np.fmax.accumulate(x + h, axis=0, dtype=np.float64),
                    np.fmin.accumulate(x + h, axis=0),
                ]
            )
        ),  # fmt: skip
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.fmax.accumulate-all-nan-column",
    ),
    Record(
        covers=("numpy.fmax.accumulate", "numpy.fmin.accumulate"),
        fn=lambda x: (np.fmax.accumulate(x, axis=1), np.fmin.accumulate(x, axis=(0,))),
        shapes=_M,
        dtypes=(*_INT, "uint8", "bool"),
        grad=False,
        id="numpy.fmax.accumulate-ints",
    ),
    Record(
        covers=("numpy.logaddexp.accumulate",),
        fn=lambda x: np.logaddexp.accumulate(x, axis=1),
        shapes=_M,
    ),
    # where= and initial=: the masks are constants (boolean, no gradient)
    Record(
        covers=("numpy.sum", "ndarray.sum"),
        fn=lambda x, m: (np.sum(x, where=m), x.sum(axis=1, where=m, initial=2.5)),
        shapes=_M,
        consts=(_KEEP,),
        id="numpy.sum-where-initial",
    ),
    Record(
        covers=("numpy.sum", "numpy.prod"),
        fn=lambda x, m: (
            np.sum(x, axis=0, where=m, initial=3),
            np.prod(x, axis=1, where=m, initial=2, keepdims=True),
        ),
        shapes=_M,
        consts=(_COLS,),
        dtypes=(*_INT, "bool", "uint16"),
        grad=False,
        id="numpy.sum-where-initial-ints",
    ),
    Record(
        covers=("numpy.prod", "ndarray.prod"),
        fn=lambda x, m: (np.prod(x, axis=0, where=m, initial=-2.0), x.prod(where=m)),
        shapes=_M,
        consts=(_KEEP,),
        domain="positive",
        id="numpy.prod-where-initial",
    ),
    Record(
        covers=("numpy.max", "numpy.min", "numpy.amax", "numpy.amin"),
        fn=lambda x, m: (
            np.max(x, axis=1, where=m, initial=-0.5),
            np.min(x, axis=0, where=m, initial=0.25),
            np.amax(x, initial=1.0),
            np.amin(x, axis=(0, 1), where=_COLS, initial=3.0, keepdims=True),
        ),
        shapes=_M,
        consts=(_KEEP,),
        id="numpy.max-where-initial",
    ),
    Record(
        covers=("numpy.max", "numpy.min"),
        fn=lambda x, m: (np.max(x, axis=1, where=m, initial=1), np.min(x, where=m, initial=9)),
        shapes=_M,
        consts=(_KEEP,),
        dtypes=(*_INT, "int8"),
        grad=False,
        id="numpy.max-where-initial-ints",
    ),
    Record(
        covers=("numpy.mean", "ndarray.mean"),
        fn=lambda x, m: (np.mean(x, axis=1, where=m), x.mean(where=_COLS, axis=1)),
        shapes=_M,
        consts=(_KEEP,),
        id="numpy.mean-where",
    ),
    Record(
        covers=("numpy.mean",),
        fn=lambda x, m: np.mean(x, axis=0, where=m, keepdims=True),
        shapes=_M,
        consts=(_KEEP,),
        dtypes=(*_INT, "float16"),
        grad=False,
        id="numpy.mean-where-ints",
    ),
    Record(
        covers=("numpy.nansum", "numpy.nanmean"),
        fn=lambda x, h, m: (
            np.nansum(x + h, axis=1, where=m, initial=1.5),
            np.nanmean(x + h, axis=1, where=m),
            np.nanmean(x, where=m),
        ),
        shapes=_M,
        consts=(_HOLES, _KEEP),
        id="numpy.nansum-where-initial",
    ),
    Record(
        covers=("numpy.nanmax", "numpy.nanmin"),
        fn=lambda x, h, m: (
            np.nanmax(x + h, axis=1, initial=-0.5),
            np.nanmin(x + h, axis=0, where=m, initial=0.5),
            np.nanmax(x + h, where=m, initial=-9.0),
        ),
        shapes=_M,
        consts=(_COLUMN, _KEEP),
        id="numpy.nanmax-where-initial",
    ),
    Record(
        covers=("numpy.nancumsum", "numpy.nancumprod"),
        fn=lambda x, h: (np.nancumsum(x + h, axis=1), np.nancumprod(x + h, axis=0)),
        shapes=_M,
        consts=(_HOLES,),
    ),
    Record(
        covers=("numpy.nancumsum", "numpy.nancumprod"),
        fn=lambda x, h: (np.nancumsum(x + h), np.nancumprod(x + h, dtype=np.float64)),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.nancumsum-flat-dtype",
    ),
    Record(
        covers=("numpy.nancumsum", "numpy.nancumprod"),
        fn=lambda x: (np.nancumsum(x, axis=0), np.nancumprod(x, axis=1)),
        shapes=_M,
        dtypes=(*_INT, "uint8", "bool"),
        grad=False,
        id="numpy.nancumsum-ints",
    ),
    Record(
        covers=("numpy.nanmedian", "numpy.nanquantile", "numpy.nanpercentile"),
        fn=lambda x, h: (
            np.nanmedian(x + h, axis=1),
            np.nanquantile(x + h, [0.2, 0.7], axis=0),
            np.nanpercentile(x + h, 30.0, axis=(0, 1), keepdims=True),
        ),
        shapes=_M,
        consts=(_HOLES,),
    ),
    Record(
        covers=("numpy.nanmedian", "numpy.nanquantile", "numpy.nanpercentile"),
        fn=_quiet(
            lambda x, h: np.stack(
                [
                    np.nanmedian(x + h, axis=0),
                    np.nanquantile(x + h, 0.4, axis=0, method="lower"),
                    np.nanpercentile(x + h, 80, axis=0, method="midpoint"),
                ]
            )
        ),
        shapes=_M,
        consts=(_COLUMN,),
        id="numpy.nanmedian-all-nan-column",
    ),
    Record(
        covers=("numpy.nanmedian", "numpy.nanquantile"),
        fn=lambda x: (np.nanmedian(x, axis=0, keepdims=True), np.nanquantile(x, 0.5)),
        shapes=_M,
        dtypes=_INT,
        grad=False,
        id="numpy.nanmedian-ints",
    ),
    Record(
        covers=("numpy.var", "numpy.std"),
        fn=lambda x, k: (np.var(x, where=k, axis=1), np.std(x, where=k, axis=0, ddof=1)),
        shapes=_M,
        consts=(_KEEP,),
        id="numpy.var-where",
    ),
    Record(
        covers=("ndarray.var", "ndarray.std"),
        fn=lambda x, k: (
            x.var(where=k, keepdims=True, axis=(0, 1), ddof=1),
            x.std(where=k, axis=1, dtype=np.float64),
        ),
        shapes=_M,
        consts=(_COLS,),
        id="ndarray.var-where",
    ),
    Record(
        covers=("numpy.var", "numpy.std"),
        fn=lambda x, k: (np.var(x, where=k, axis=0), np.std(x, where=k)),
        shapes=_M,
        consts=(_KEEP,),
        dtypes=(*_INT, "bool"),
        grad=False,
        id="numpy.var-where-ints",
    ),
    Record(
        covers=("numpy.any", "numpy.all", "ndarray.any", "ndarray.all"),
        fn=lambda x, k: (
            np.any(x > 1.0, where=k, axis=1),
            np.all(x > -1.0, where=k, axis=0, keepdims=True),
            (x > 0.0).any(where=k[0]),
            x.all(where=k),
        ),
        shapes=_M,
        consts=(_KEEP,),
        grad=False,
        id="numpy.any-where",
    ),
]
