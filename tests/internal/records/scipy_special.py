"""Records of the ``scipy.special`` ufunc rows.

SciPy is imported inside each record's function only (at call time, in the test),
never when the records are collected: ``import npgrad`` must not need SciPy.
"""

from __future__ import annotations

import importlib

import numpy as np

from . import Record

# name -> domain, one per input (the arity is the number of domains)
DOMAINS: dict[str, tuple[str, ...]] = {
    **{
        n: ("real",)
        for n in ("expit log_expit erf erfc erfcx i0 i0e i1 i1e ndtr log_ndtr expm1 exp2").split()
    },
    "logit": ("probability",),
    "ndtri": ("probability",),
    "erfinv": ("unit",),
    "gammaln": ("positive",),
    "psi": ("positive",),
    "digamma": ("positive",),
    "entr": ("positive",),
    "log1p": ("positive",),
    "xlogy": ("real", "positive"),
    "xlog1py": ("real", "positive"),
    "rel_entr": ("positive", "positive"),
    "huber": ("positive", "real"),
    "pseudo_huber": ("positive", "real"),
}


def _special(name: str):
    def fn(*xs):
        return getattr(importlib.import_module("scipy.special"), name)(*xs)

    fn.__name__ = name
    return fn


def _shapes(n: int) -> tuple:
    return ((3, 4),) if n == 1 else ((3, 4), (4,))


RECORDS = [
    Record(covers=(f"scipy.special.{n}",), fn=_special(n), shapes=_shapes(len(d)), domain=d)
    for n, d in DOMAINS.items()
]


def _ndtr_of_sum(x, y):
    import scipy.special as sc

    return sc.ndtr(x + 2 * y)


def _erfinv_erf(x):
    import scipy.special as sc

    return sc.erfinv(sc.erf(x))


def _i0_scaled(x):
    import scipy.special as sc

    return sc.i0(3 * x) / (1 + x**2)


def _rel_entr_edges(x, y):
    import scipy.special as sc

    # rel_entr(0, y) is 0 for y >= 0 (its derivative in x there is infinite: the zeros
    # are constants here, so the check differentiates only where it is finite)
    return sc.rel_entr(np.where(x > 1.0, x, 0.0), y)


def _sinc(x):
    import scipy.special as sc

    return sc.sinc(x)  # numpy.sinc itself, re-exported


# explicit records for the rows no other test touched
RECORDS += [
    Record(
        covers=("scipy.special.ndtr",),
        fn=_ndtr_of_sum,
        shapes=((5,), (5,)),
        id="scipy.special.ndtr-of-sum",
    ),
    Record(
        covers=("scipy.special.erfinv", "scipy.special.erf"),
        fn=_erfinv_erf,
        shapes=((5,),),
        domain="unit",
        id="scipy.special.erfinv-of-erf",
    ),
    Record(
        covers=("scipy.special.i0",), fn=_i0_scaled, shapes=((5,),), id="scipy.special.i0-scaled"
    ),
    Record(
        covers=("scipy.special.rel_entr",),
        fn=_rel_entr_edges,
        shapes=((6,), (6,)),
        domain="positive",
        id="scipy.special.rel_entr-zeros",
    ),
    Record(covers=("numpy.sinc",), fn=_sinc, shapes=((3, 4),), id="scipy.special.sinc"),
    Record(
        covers=("numpy.sinc",),
        fn=np.sinc,
        shapes=((3, 4),),
        dtypes=("float64", "float32", "int64"),
        id="numpy.sinc-int",
    ),
]
