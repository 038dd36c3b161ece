"""Records of scipy.stats' functions of samples: moment, skew, kurtosis, zscore,
gmean, hmean and entropy, with their options."""

from __future__ import annotations

import importlib

import numpy as np

from . import Record


def _st():
    return importlib.import_module("scipy.stats")


_W = np.array([1.0, 2.0, 0.5, 1.5])

RECORDS = [
    Record(
        covers=("scipy.stats.moment",),
        fn=lambda a, c: (
            _st().moment(a),
            _st().moment(a, order=2),
            _st().moment(a, 3, axis=1, keepdims=True),
            _st().moment(a, order=[0, 1, 2, 4], axis=None),
            _st().moment(a, order=2, center=c[0]),
            _st().moment(a, order=3, axis=1, center=c[:1], keepdims=True),
            _st().moment(a, order=1, center=0.5),
        ),
        shapes=((5, 4), (4,)),
    ),
    Record(
        covers=("scipy.stats.skew", "scipy.stats.kurtosis"),
        fn=lambda a: (
            _st().skew(a),
            _st().skew(a, axis=1, bias=False),
            _st().skew(a, axis=None, keepdims=True),
            _st().kurtosis(a),
            _st().kurtosis(a, axis=1, fisher=False),
            _st().kurtosis(a, bias=False, axis=(0, 1)),
        ),
        shapes=((5, 4),),
        id="skew-kurtosis",
    ),
    Record(
        covers=("scipy.stats.zscore",),
        fn=lambda a: (_st().zscore(a), _st().zscore(a, axis=1, ddof=1), _st().zscore(a, None)),
        shapes=((5, 4),),
    ),
    Record(
        covers=("scipy.stats.gmean", "scipy.stats.hmean"),
        fn=lambda a: (
            _st().gmean(a),
            _st().gmean(a, axis=1, weights=_W),
            _st().gmean(a, axis=None, keepdims=True),
            _st().hmean(a),
            _st().hmean(a, axis=1, weights=_W, keepdims=True),
        ),
        shapes=((3, 4),),
        domain="positive",
        id="means",
    ),
    Record(
        covers=("scipy.stats.entropy",),
        fn=lambda p, q: (
            _st().entropy(p),
            _st().entropy(p, base=2.0),
            _st().entropy(p, q, axis=1),
            _st().entropy(p, q[0], axis=1, keepdims=True),
        ),
        shapes=((3, 4), (3, 4)),
        domain="positive",
    ),
    Record(
        covers=(
            "scipy.stats.moment",
            "scipy.stats.skew",
            "scipy.stats.zscore",
            "scipy.stats.gmean",
            "scipy.stats.entropy",
        ),
        fn=lambda a: (
            _st().moment(a, 2),
            _st().skew(a),
            _st().zscore(a),
            _st().gmean(a),
            _st().entropy(a),
        ),
        shapes=((5, 3),),
        domain="positive",
        dtypes=("int64",),
        grad=False,
        id="stats-int",
    ),
]
