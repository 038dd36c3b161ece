"""Records for the rows and fixes that HIPS autograd's own tests pointed to
(benchmarks/hips_autograd_suite.py): select, eigh, wide SVDs with NumPy's signs,
polygamma, multigammaln, scipy.stats.chi2, iv and ive of real orders."""

from __future__ import annotations

import numpy as np

from . import Record


def _sp():
    import scipy.special as sp  # at call time: npgrad matches SciPy rows lazily

    return sp


def _st():
    import scipy.stats as st

    return st


def _sym(a):
    return a + np.swapaxes(a, -1, -2)


_PG_RTOL = 1e-8  # torch's polygamma kernels are good to about 1e-9 in float64
_DF = np.array([1.0, 2.0, 3.5])
_REAL_ORDERS = np.array([0.5, 1.3, 2.0, 7.7, 30.2, 3.0])

RECORDS: list[Record] = [
    Record(
        ("numpy.select",),
        lambda x, y: np.select([x > 0.3, x < -0.3], [x * y, np.sin(y)], default=y**2),
        ((3, 4), (4,)),
    ),
    Record(("numpy.select",), lambda x: np.select([x > 0], [x], 0.5), ((5,),), id="select-number"),
    # eigenvectors as NumPy gives them (signs included), each triangle read alone
    Record(("numpy.linalg.eigh",), lambda a: np.linalg.eigh(a), ((4, 4),), id="eigh-lower"),
    Record(
        ("numpy.linalg.eigh",), lambda a: np.linalg.eigh(a, UPLO="U"), ((2, 3, 3),), id="eigh-upper"
    ),
    Record(
        ("numpy.linalg.eigh",), lambda a: np.linalg.eigh(_sym(a))[0], ((3, 3),), id="eigh-values"
    ),
    # wide matrices: the singular vectors with NumPy's signs (torch's differ)
    Record(
        ("numpy.linalg.svd",),
        lambda a: np.linalg.svd(a, full_matrices=False),
        ((3, 5),),
        id="svd-wide",
    ),
    Record(
        ("numpy.linalg.svd",),
        lambda a: np.linalg.svd(a, full_matrices=False),
        ((2, 3, 5),),
        id="svd-wide-stack",
    ),
    Record(
        ("scipy.special.polygamma",),
        lambda x: _sp().polygamma(1, x + 0.5),
        ((3, 4),),
        domain="positive",
        rtol=_PG_RTOL,
    ),  # fmt: skip
    Record(
        ("scipy.special.polygamma",),
        lambda x, n: _sp().polygamma(n, x + 0.5),
        ((2, 3),),
        domain="positive",
        consts=(np.array([0, 1, 3]),),
        rtol=_PG_RTOL,
        id="polygamma-orders",
    ),
    Record(
        ("scipy.special.multigammaln",),
        lambda x: _sp().multigammaln(x + 2, 3),
        ((3, 4),),
        domain="positive",
    ),
    Record(
        ("scipy.special.iv",),
        lambda x, v: _sp().iv(v, 4 * x),
        ((6,),),
        domain="positive",
        consts=(_REAL_ORDERS,),
        id="iv-real-orders",
    ),  # fmt: skip
    Record(
        ("scipy.special.ive",),
        lambda x, v: _sp().ive(v, 4 * x),
        ((6,),),
        domain="positive",
        consts=(_REAL_ORDERS,),
        id="ive-real-orders",
    ),  # fmt: skip
]

for _m in ("logpdf", "pdf", "cdf", "sf"):
    RECORDS.append(
        Record(
            (f"scipy.stats.chi2.{_m}",),
            (lambda m: lambda x, loc, scale: getattr(_st().chi2, m)(x, _DF, loc - 2.5, scale))(_m),
            ((4, 3), (3,), (3,)),
            domain="positive",
            id=f"chi2.{_m}",
        )
    )
