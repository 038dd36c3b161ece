"""Records of the distributions in ``_mappings/scipy_distributions``: every method
with loc and scale traced, and the shape parameters traced where torch
differentiates them."""

from __future__ import annotations

import importlib

import numpy as np

from . import Record


def _st():
    return importlib.import_module("scipy.stats")


def _method(dist, method):
    def fn(x, loc, scale, *shapes):
        # x, loc and scale in (0.5, 2.5): z = (x - loc) / scale inside every support
        # here (pareto's from 1, uniform's [0, 1])
        if dist == "uniform":
            x = loc + scale * (x - 0.5) / 2.5
        else:
            loc = loc - (5.0 if dist == "pareto" else 2.5)
        return getattr(getattr(_st(), dist), method)(x, *shapes, loc=loc, scale=scale)

    return fn


def _quantile(dist, method):
    def fn(q, loc, scale, *shapes):
        return getattr(getattr(_st(), dist), method)(q, *shapes, loc=loc, scale=scale)

    return fn


_ALL = "logpdf pdf cdf logcdf sf logsf"
RECORDS: list[Record] = []
# (name, methods, shape parameters traced, the quantile methods); x, loc and scale
# positive, shapes in (0.5, 2.5)
for _dist, _methods, _shapes, _quantiles in (
    ("uniform", _ALL, 0, "ppf isf"),
    ("halfnorm", _ALL, 0, "ppf isf"),
    ("lognorm", _ALL, 1, "ppf isf"),
    ("weibull_min", _ALL, 1, "ppf isf"),
    ("gumbel_r", _ALL, 0, "ppf isf"),
    ("invgamma", "logpdf pdf", 1, ""),
    ("pareto", _ALL, 1, "ppf isf"),
    ("skewnorm", "logpdf pdf", 1, ""),
):
    shapes = ((4, 3), (3,), (3,)) + ((3,),) * _shapes
    for _m in _methods.split():
        RECORDS.append(
            Record(
                covers=(f"scipy.stats.{_dist}.{_m}",),
                fn=_method(_dist, _m),
                shapes=shapes,
                domain="positive",
                id=f"{_dist}.{_m}",
            )
        )
    for _m in _quantiles.split():
        RECORDS.append(
            Record(
                covers=(f"scipy.stats.{_dist}.{_m}",),
                fn=_quantile(_dist, _m),
                shapes=((4, 3), (3,), (3,)) + ((3,),) * _shapes,
                domain=("probability", "real", "positive") + ("positive",) * _shapes,
                id=f"{_dist}.{_m}",
            )
        )

# invgamma's cdf and sf: torch differentiates the incomplete gamma in x only
RECORDS += [
    Record(
        covers=("scipy.stats.invgamma.cdf", "scipy.stats.invgamma.sf"),
        fn=lambda x, a: (_st().invgamma.cdf(x, a, 0.2, 1.5), _st().invgamma.sf(x, a)),
        shapes=((4, 3),),
        domain="positive",
        consts=(np.array([0.8, 2.0, 3.5]),),
        id="invgamma.cdf",
    ),
    # outside the supports and at their edges: SciPy's 0, 1, -inf and the density there
    Record(
        covers=tuple(
            f"scipy.stats.{d}.{m}" for d in ("lognorm", "weibull_min") for m in ("pdf", "cdf", "sf")
        ),
        fn=lambda s: tuple(
            getattr(getattr(_st(), d), m)(np.array([-1.0, 0.0, 0.5]), s + 1.0)
            for d in ("lognorm", "weibull_min")
            for m in ("pdf", "cdf", "sf")
        ),
        shapes=((3,),),
        domain="positive",
        id="supports",
    ),
    Record(
        covers=("scipy.stats.pareto.pdf", "scipy.stats.invgamma.pdf", "scipy.stats.uniform.pdf"),
        fn=lambda b: (
            _st().pareto.pdf(np.array([0.5, 1.0, 3.0]), b),
            _st().invgamma.pdf(np.array([-1.0, 0.0, 3.0]), b),
            _st().uniform.pdf(np.array([-1.0, 0.0, 1.0, 2.0]), 0.0, b[:1] + 1),
        ),
        shapes=((3,),),
        domain="positive",
        id="supports-2",
    ),
]

# counts across and off each support (negative, past n, not whole): -inf and 0 there
_K = np.array([-1.0, 0.0, 1.0, 2.0, 2.5, 3.0, 7.0])
_N = np.array([[3.0], [7.0]])
RECORDS += [
    Record(
        covers=("scipy.stats.binom.pmf", "scipy.stats.nbinom.pmf", "scipy.stats.geom.pmf"),
        fn=lambda p, n: (
            _st().binom.pmf(_K, _N, p),
            _st().binom.pmf(_K, 5, p, loc=-1),
            _st().nbinom.pmf(_K, 4 * n, p),
            _st().geom.pmf(_K, p),
            _st().bernoulli.pmf(_K[:4], p[:, :4]),
        ),
        shapes=((2, 7), (7,)),
        domain=("probability", "positive"),
        id="discrete.pmf",
    ),
    Record(
        covers=(
            "scipy.stats.binom.logpmf",
            "scipy.stats.nbinom.logpmf",
            "scipy.stats.geom.logpmf",
            "scipy.stats.bernoulli.logpmf",
            "scipy.stats.bernoulli.pmf",
        ),
        fn=lambda p, n: (
            _st().binom.logpmf(_K[1:4], 3, p),
            _st().nbinom.logpmf(_K[1:4], n, p, -1.0),
            _st().geom.logpmf(np.array([0.5, 1.5, 4.5]), p, loc=-0.5),
            _st().bernoulli.logpmf(np.array([0, 1, 1]), p),
            _st().bernoulli.pmf(np.array([0, 1, 0]), p=p),
        ),
        shapes=((3,), (3,)),
        domain=("probability", "positive"),
        id="discrete.logpmf",
    ),
    Record(
        covers=("scipy.stats.binom.pmf", "scipy.stats.geom.logpmf"),
        fn=lambda k: (_st().binom.pmf(k, 4, 0.3), _st().geom.logpmf(k, 0.25)),
        shapes=((5,),),
        domain="positive",
        dtypes=("int64",),
        grad=False,
        id="discrete-int-counts",
    ),
]
