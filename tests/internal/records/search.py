"""Records of searching and counting: searchsorted, digitize, isin, bincount and
lexsort (integer and boolean results, except bincount's sums of weights)."""

from __future__ import annotations

import numpy as np

from . import Record

_NOGRAD = dict(grad=False)
# a sorted sequence in NumPy's order: -inf first, +inf and then nan last
_SORTED = np.array([-np.inf, -1.0, 0.0, 0.0, 1.5, np.inf, np.nan])
_SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, 1.5])
_PERM = np.array([3, 0, 6, 2, 5, 1, 4])
_BINS = np.array([-1.0, 0.0, 0.5, 1.0])
_IDX = np.array([0, 3, 3, 1, 0, 5, 3])
_KEY = np.array([1, 0, 1, 0, 1, 1, 0])

RECORDS = [
    Record(
        covers=("numpy.searchsorted",),
        fn=lambda v, a, s: (
            np.searchsorted(a, v),
            np.searchsorted(a, v, side="right"),
            a.searchsorted(s, "right"),
            np.searchsorted(a, s),
        ),
        shapes=((3, 4),),
        consts=(_SORTED, _SPECIAL),
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.searchsorted", "ndarray.searchsorted"),
        fn=lambda a, v, p: (
            np.searchsorted(np.sort(a), v),
            np.sort(a).searchsorted(v, "right"),
            np.searchsorted(a[p], v, side="right", sorter=np.argsort(a[p])),
            np.searchsorted(np.sort(a), 0.25),
        ),
        shapes=((7,), (2, 3)),
        consts=(_PERM,),
        id="numpy.searchsorted-traced-sorter",
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.searchsorted",),
        fn=lambda v: np.searchsorted(np.array([-2, 0, 0, 3]), v, side="right"),
        shapes=((3, 4),),
        dtypes=("int64", "int16", "uint8"),
        id="numpy.searchsorted-ints",
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.digitize",),
        fn=lambda x, b: (
            np.digitize(x, b),
            np.digitize(x, b, right=True),
            np.digitize(x, b[::-1]),
            np.digitize(x, b[::-1], right=True),
            np.digitize(x, [0.0, 0.0, 1.0]),
        ),
        shapes=((3, 4),),
        consts=(_BINS,),
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.digitize",),
        fn=lambda x, b: (np.digitize(x, np.sort(b)), np.digitize(x, np.sort(b)[::-1], True)),
        shapes=((3, 4), (5,)),
        id="numpy.digitize-traced-bins",
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.isin",),
        fn=lambda x, s: (
            np.isin(np.round(x), [0.0, 1.0, np.nan]),
            np.isin(np.round(x), np.round(s), invert=True),
            np.isin(np.round(x[0]), np.round(s), assume_unique=True),
            np.isin(np.nan, s),
        ),
        shapes=((3, 4), (5,)),
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.isin",),
        fn=lambda x: np.isin(x, np.array([0, 2, 3]), invert=True),
        shapes=((3, 4),),
        dtypes=("int64", "int16", "bool"),
        id="numpy.isin-ints",
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.bincount",),
        fn=lambda w, i: (np.bincount(i, weights=w), np.bincount(i, w, minlength=9)),
        shapes=((7,),),
        consts=(_IDX,),
    ),
    Record(
        covers=("numpy.bincount",),
        fn=lambda x, i: (np.bincount(i), np.bincount(i, minlength=2), np.bincount(x > 0)),
        shapes=((7,),),
        consts=(_IDX,),
        id="numpy.bincount-counts",
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.lexsort",),
        fn=lambda a, b, k: (
            np.lexsort((a, k)),
            np.lexsort((np.round(b), np.round(a))),
            np.lexsort(np.stack([a, k.astype(float)])),
        ),
        shapes=((7,), (7,)),
        consts=(_KEY,),
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.lexsort",),
        fn=lambda a, b: (np.lexsort((a, b > 0), axis=0), np.lexsort((a, b), axis=-1)),
        shapes=((3, 4), (3, 4)),
        dtypes=("int64", "int8", "uint8"),
        id="numpy.lexsort-ints",
        **_NOGRAD,
    ),
]


def _nan_as(r):
    """The nan of np.unique's values as a number (npgrad.function's nonfinite policy
    would warn of a nan output); npgrad's must be nan where NumPy's is."""
    return np.where(np.isnan(r), -7.0, r)


_NANS = np.zeros((3, 4))
_NANS[0, 1] = _NANS[2, 2] = _NANS[1, 3] = np.nan

RECORDS += [
    # repeats are exact copies (x[:3] again): the unique values' gradient goes to the
    # first occurrence, and moving one input moves all its copies alike
    Record(
        covers=("numpy.unique",),
        fn=lambda x: np.unique(np.concatenate([x.ravel(), x[0, :3]]), True, True, True),
        shapes=((3, 4),),
    ),
    Record(
        covers=("numpy.unique",),
        fn=lambda x: (np.unique(np.concatenate([x, x[:1]])), *np.unique(x, return_inverse=True)),
        shapes=((3, 4),),
        id="numpy.unique-inverse-shape",
    ),
    Record(
        covers=("numpy.unique",),
        fn=lambda x: np.unique(x, return_index=True, return_inverse=True, return_counts=True),
        shapes=((3, 4),),
        dtypes=("int64", "int8", "uint8", "bool"),
        id="numpy.unique-ints",
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.unique",),
        fn=lambda x, h: (
            _nan_as(np.unique(x + h)),
            *np.unique(x + h, return_index=True, return_counts=True)[1:],
            _nan_as(np.unique(x + h, equal_nan=False)),
            *np.unique(x + h, return_inverse=True, equal_nan=False)[1:],
        ),
        shapes=((3, 4),),
        consts=(_NANS,),
        id="numpy.unique-nan",
    ),
    Record(
        covers=("numpy.unique",),
        fn=lambda x: (
            *np.unique(np.concatenate([x, x[1:2], x[:1]]), True, True, True, axis=0),
            np.unique(np.concatenate([x, x[:, :1]], axis=1), axis=-1),
        ),
        shapes=((3, 4),),
        id="numpy.unique-axis",
    ),
    Record(
        covers=("numpy.unique",),
        fn=lambda x: np.unique(x, return_inverse=True, return_counts=True, axis=1),
        shapes=((2, 6),),
        dtypes=("int64", "bool"),
        id="numpy.unique-axis-ints",
        **_NOGRAD,
    ),
    # histogram: counts have no gradient; weights= sums and density= do (the edges from
    # the data's min and max are differentiable too)
    Record(
        covers=("numpy.histogram",),
        fn=lambda x: (
            *np.histogram(x),
            *np.histogram(x, 4, range=(-1.0, 1.5)),
            *np.histogram(x, [-1.0, 0.0, 0.25, 2.0]),
        ),
        shapes=((40,),),
        id="numpy.histogram-counts",
    ),
    Record(
        covers=("numpy.histogram",),
        fn=lambda x, w: (
            *np.histogram(x, 5, weights=w),
            np.histogram(x, 3, density=True)[0],
            *np.histogram(x, [-1.0, 0.0, 0.25, 2.0], weights=w, density=True),
            np.histogram(x, 6, range=(-1, 1), weights=w, density=True)[0],
        ),
        shapes=((30,), (30,)),
        domain=("real", "positive"),
        id="numpy.histogram-weights-density",
    ),
    Record(
        covers=("numpy.histogram",),
        fn=lambda x: (*np.histogram(x, 3), *np.histogram(x, [-2, 0, 1, 4], density=True)),
        shapes=((20,),),
        dtypes=("int64", "int16", "uint8"),
        id="numpy.histogram-ints",
        **_NOGRAD,
    ),
]

# NumPy 2's unique_* (equal_nan=False: every nan its own value) and histogram_bin_edges
RECORDS += [
    Record(
        covers=("numpy.unique_values", "numpy.unique_counts"),
        fn=lambda x: (
            np.unique_values(np.concatenate([x.ravel(), x[1, :2]])),
            *np.unique_counts(np.concatenate([x.ravel(), x[0, 1:]])),
        ),
        shapes=((3, 4),),
    ),
    Record(
        covers=("numpy.unique_inverse", "numpy.unique_all"),
        fn=lambda x: (
            *np.unique_inverse(np.concatenate([x, x[:1]])),
            *np.unique_all(np.concatenate([x.ravel(), x[2, :3]])),
        ),
        shapes=((3, 4),),
    ),
    Record(
        covers=("numpy.unique_values", "numpy.unique_counts", "numpy.unique_all"),
        fn=lambda x, h: (
            _nan_as(np.unique_values(x + h)),
            np.unique_counts(x + h).counts,
            *np.unique_all(x + h)[1:],
            _nan_as(np.unique_all(x + h).values),
        ),
        shapes=((3, 4),),
        consts=(_NANS,),
        id="numpy.unique_values-nan",
    ),
    Record(
        covers=("numpy.unique_counts", "numpy.unique_inverse", "numpy.unique_all"),
        fn=lambda x: (*np.unique_counts(x), *np.unique_inverse(x), *np.unique_all(x)),
        shapes=((3, 4),),
        dtypes=("int64", "uint8", "bool"),
        id="numpy.unique_counts-ints",
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.unique_values",),
        fn=np.unique_values,
        shapes=((3, 4),),
        dtypes=("bool",),
        id="numpy.unique_values-bool",
        **_NOGRAD,
    ),
    # the edges from the data's min and max are differentiable; given ones pass through
    Record(
        covers=("numpy.histogram_bin_edges",),
        fn=lambda x, w: (
            np.histogram_bin_edges(x),
            np.histogram_bin_edges(x, 4, range=(-1.0, 1.5)),
            np.histogram_bin_edges(x, [-1.0, 0.0, 0.25, 2.0], weights=w),
            np.histogram_bin_edges(x, bins=3, weights=w),
        ),
        shapes=((20,), (20,)),
    ),
    Record(
        covers=("numpy.histogram_bin_edges",),
        fn=lambda x: (np.histogram_bin_edges(x, 5), np.histogram_bin_edges(x[:1], 2)),
        shapes=((20,),),
        dtypes=("int64", "int16"),
        id="numpy.histogram_bin_edges-ints",
        **_NOGRAD,
    ),
]

# histogram2d: float64 counts (no gradient); weights= sums, density= and the edges from
# the data's min and max have one
_YEDGES = np.array([-2.0, -0.5, 0.0, 1.0, 2.0])
RECORDS += [
    Record(
        covers=("numpy.histogram2d",),
        fn=lambda x, y: (
            *np.histogram2d(x, y),
            *np.histogram2d(x, y, [3, 4], range=[(-1.0, 1.5), (-2, 2)]),
            *np.histogram2d(x, y, bins=[-2.0, 0.0, 0.5, 2.0]),
            *np.histogram2d(x, y, [2, _YEDGES]),
        ),
        shapes=((30,), (30,)),
        id="numpy.histogram2d-counts",
    ),
    Record(
        covers=("numpy.histogram2d",),
        fn=lambda x, y, w: (
            *np.histogram2d(x, y, 3, weights=w),
            *np.histogram2d(x, y, [4, 2], density=True),
            np.histogram2d(x, y, [[-1.0, 0.0, 2.0], _YEDGES], weights=w, density=True)[0],
        ),
        shapes=((30,), (30,), (30,)),
        id="numpy.histogram2d-weights-density",
    ),
    Record(
        covers=("numpy.histogram2d",),
        fn=lambda x, y: (*np.histogram2d(x, y, 3), *np.histogram2d(x, y[:1].repeat(8), 2)),
        shapes=((8,), (8,)),
        dtypes=("int64", "int16"),
        id="numpy.histogram2d-ints",
        **_NOGRAD,
    ),
]
