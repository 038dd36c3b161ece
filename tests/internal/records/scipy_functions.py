"""Records for SciPy's functions that are not ufuncs: scipy.special's logsumexp family,
scipy.stats' distributions, scipy.linalg, scipy.signal, scipy.spatial.distance and
scipy.optimize's Rosenbrock function."""

from __future__ import annotations

import numpy as np
import scipy.linalg as la
import scipy.optimize as opt
import scipy.signal as sg
import scipy.spatial.distance as dist
import scipy.special as sp
import scipy.stats as st

from . import Record

_SHAPE = np.array([0.8, 2.0, 3.5])  # a positive shape parameter per column
_COUNTS = np.array([0, 1, 3, 7])
_ALPHA = np.array([1.5, 2.0, 3.0])


def _method(dist, method, *shapes):
    def fn(x, loc, scale):
        # loc - 2.5 < x: inside every support here
        return getattr(getattr(st, dist), method)(x, *shapes, loc=loc - 2.5, scale=scale)

    return fn


RECORDS: list[Record] = []

# x, loc and scale all positive: in every support here (scale must be)
for _dist, _methods, _shapes in (
    ("norm", "logpdf pdf cdf logcdf sf logsf", ()),
    ("expon", "logpdf pdf cdf logcdf sf logsf", ()),
    ("laplace", "logpdf pdf cdf logcdf sf logsf", ()),
    ("logistic", "logpdf pdf cdf logcdf sf logsf", ()),
    ("cauchy", "logpdf pdf cdf logcdf sf logsf", ()),
    ("t", "logpdf pdf", (_SHAPE,)),
    ("gamma", "logpdf pdf cdf sf", (_SHAPE,)),
):
    for _m in _methods.split():
        RECORDS.append(
            Record(
                covers=(f"scipy.stats.{_dist}.{_m}",),
                fn=_method(_dist, _m, *_shapes),
                shapes=((4, 3), (3,), (3,)),
                domain="positive",
                id=f"{_dist}.{_m}",
            )
        )

for _dist, _methods in (
    ("norm", "ppf isf"),
    ("expon", "ppf isf"),
    ("laplace", "ppf"),
    ("logistic", "ppf"),
    ("cauchy", "ppf"),
):
    for _m in _methods.split():
        RECORDS.append(
            Record(
                covers=(f"scipy.stats.{_dist}.{_m}",),
                fn=lambda q, d=_dist, m=_m: getattr(getattr(st, d), m)(q, 0.3, 1.7),
                shapes=((4, 3),),
                domain="probability",
                id=f"{_dist}.{_m}",
            )
        )

# t and beta's cdf, sf, logcdf, logsf (built on betainc): the gradient in x and in the
# shape parameters; x on both sides of 0 for t, and within 1e-4 of it (its series)
for _m in ("cdf", "sf", "logcdf", "logsf"):
    RECORDS += [
        Record(
            covers=(f"scipy.stats.t.{_m}",),
            fn=lambda x, df, m=_m: getattr(st.t, m)(3 * x, df - 0.3, loc=0.2, scale=1.5),
            shapes=((4, 3), (3,)),
            domain=("real", "positive"),
            id=f"t.{_m}",
        ),
        Record(
            covers=(f"scipy.stats.t.{_m}",),
            fn=lambda x, df, m=_m: getattr(st.t, m)(x * 4e-5, 30 * df),
            shapes=((4, 3), (3,)),
            domain=("real", "positive"),
            id=f"t.{_m}-near-0",
        ),
        Record(
            covers=(f"scipy.stats.beta.{_m}",),
            fn=lambda x, a, b, m=_m: getattr(st.beta, m)(x, 4 * a, 4 * b),
            shapes=((4, 3), (3,), (4, 1)),
            domain="probability",
            id=f"beta.{_m}",
        ),
    ]

RECORDS += [
    Record(
        covers=("scipy.stats.norm.logpdf",),
        fn=lambda x, m, s: st.norm(m, s).logpdf(x),
        shapes=((4, 3), (3,), (3,)),
        domain="positive",
        id="norm-frozen.logpdf",
    ),
    Record(
        covers=("scipy.stats.beta.logpdf", "scipy.stats.beta.pdf"),
        fn=lambda x, a, b: st.beta.logpdf(x, a, b) + st.beta.pdf(x, a, b),
        shapes=((4, 3),),
        domain="probability",
        consts=(_SHAPE, _SHAPE[::-1]),
        id="beta",
    ),
    Record(
        covers=(
            "scipy.stats.poisson.logpmf",
            "scipy.stats.poisson.pmf",
            "scipy.stats.poisson.cdf",
            "scipy.stats.poisson.sf",
        ),
        fn=lambda mu, k: (
            st.poisson.logpmf(k, mu),
            st.poisson.pmf(k, mu),
            st.poisson.cdf(k, mu),
            st.poisson.sf(k, mu),
        ),
        shapes=((4,),),
        domain="positive",
        consts=(_COUNTS,),
        id="poisson",
    ),
    Record(
        covers=("scipy.stats.multivariate_normal.logpdf", "scipy.stats.multivariate_normal.pdf"),
        fn=lambda x, m, c: (
            st.multivariate_normal.logpdf(x, m, c + 3 * np.eye(3)),
            st.multivariate_normal.pdf(x, m, c + 3 * np.eye(3)),
        ),
        shapes=((5, 3), (3,), (3, 3)),
        domain="unit",
        id="multivariate_normal",
    ),
    Record(
        covers=(
            "scipy.stats._multivariate.multivariate_normal_frozen.logpdf",
            "scipy.stats._multivariate.multivariate_normal_frozen.pdf",
        ),
        fn=lambda x: (
            st.multivariate_normal(np.ones(3), 2 * np.eye(3)).logpdf(x),
            st.multivariate_normal(np.ones(3)).pdf(x),
        ),
        shapes=((5, 3),),
        id="multivariate_normal-frozen",
    ),
    Record(
        covers=("scipy.stats.dirichlet.logpdf", "scipy.stats.dirichlet.pdf"),
        fn=lambda x, a: st.dirichlet.logpdf(x / 3, a) + st.dirichlet.pdf(x / 3, a),
        shapes=((2, 4),),
        domain="probability",
        consts=(_ALPHA,),
        id="dirichlet",
    ),
    Record(
        covers=("scipy.special.logsumexp",),
        fn=lambda a, w: (
            sp.logsumexp(a),
            sp.logsumexp(a, axis=1, keepdims=True),
            sp.logsumexp(a, axis=0, b=w),
            sp.logsumexp(a, axis=-1, b=w[:4] - 0.7, return_sign=True)[0],
        ),
        shapes=((3, 4),),
        consts=(np.array([[1.0, 2.0, 0.5, 1.5]] * 3),),
        id="logsumexp",
    ),
    Record(
        covers=("scipy.special.softmax", "scipy.special.log_softmax"),
        fn=lambda a: (sp.softmax(a), sp.softmax(a, axis=1), sp.log_softmax(a, axis=(0, 1))),
        shapes=((3, 4),),
        id="softmax",
    ),
    Record(
        covers=("scipy.linalg.cholesky", "scipy.linalg.cho_factor", "scipy.linalg.cho_solve"),
        fn=lambda a, b: (
            la.cholesky(a),
            la.cholesky(a, lower=True),
            la.cho_solve(la.cho_factor(a), b),
            la.cho_solve(la.cho_factor(a, lower=True), b[:, 0]),
        ),
        shapes=((3, 3),),
        domain="spd",
        consts=(np.array([[1.0, -0.5], [2.0, 0.25], [-1.5, 1.0]]),),
        id="cholesky",
    ),
    Record(
        covers=("scipy.linalg.solve_triangular",),
        fn=lambda a, b: (
            la.solve_triangular(a + 3 * np.eye(3), b),
            la.solve_triangular(a + 3 * np.eye(3), b, trans="T", lower=True),
            la.solve_triangular(a + 3 * np.eye(3), b[:, 0], trans=2, unit_diagonal=True),
        ),
        shapes=((3, 3), (3, 2)),
        id="solve_triangular",
    ),
    Record(
        covers=("scipy.linalg.solve", "scipy.linalg.inv", "scipy.linalg.det"),
        fn=lambda a, b: (
            la.solve(a + 3 * np.eye(3), b),
            la.solve(a + 3 * np.eye(3), b, assume_a="sym", transposed=True),
            la.inv(a + 3 * np.eye(3)),
            la.det(a),
        ),
        shapes=((3, 3), (3, 2)),
        id="solve",
    ),
    Record(
        covers=("scipy.linalg.eigh",),
        fn=lambda a: (la.eigh(a, eigvals_only=True), la.eigh(a, lower=False)[0]),
        shapes=((3, 3),),
        domain="spd",
        id="eigh",
    ),
    Record(
        covers=("scipy.linalg.svd",),
        fn=lambda b: la.svd(b, compute_uv=False),
        shapes=((4, 3),),
        id="svd",
    ),
    Record(
        covers=("scipy.linalg.expm", "scipy.linalg.solve_sylvester"),
        # eigenvalues of a + 3I and b + 2I have positive real parts: a unique solution
        fn=lambda a, b, q: (
            la.expm(a),
            la.solve_sylvester(a + 3 * np.eye(3), b + 2 * np.eye(2), q),
        ),
        shapes=((3, 3), (2, 2), (3, 2)),
        domain="unit",
        id="expm-sylvester",
    ),
    Record(
        covers=("scipy.signal.convolve", "scipy.signal.correlate", "scipy.signal.fftconvolve"),
        fn=lambda a, v: tuple(
            f(a, v, mode=m)
            for f in (sg.convolve, sg.correlate, sg.fftconvolve)
            for m in ("full", "same", "valid")
        ),
        shapes=((5, 6), (2, 3)),
        id="convolve",
    ),
]

_W = np.array([1.0, 0.0, 2.5])  # a zero weight: SciPy's weights may drop a coordinate
_VI = np.array([[2.0, 0.3, -0.2], [0.3, 1.5, 0.1], [-0.2, 0.1, 1.0]])
# each metric with each of its options (aliases included); mahalanobis without VI
# needs more points than coordinates
_METRICS = (
    ("euclidean", {}),
    ("e", {"w": _W}),
    ("sqeuclidean", {}),
    ("sqeuclidean", {"w": _W}),
    ("cityblock", {}),
    ("cityblock", {"w": _W}),
    ("chebyshev", {}),
    ("chebyshev", {"w": _W}),
    ("minkowski", {}),
    ("minkowski", {"p": 3}),
    ("minkowski", {"p": 0.5, "w": _W}),
    ("minkowski", {"p": 1, "w": _W}),
    ("minkowski", {"p": np.inf, "w": _W}),
    ("cosine", {}),
    ("cos", {"w": _W}),
    ("correlation", {}),
    ("correlation", {"w": _W}),
    ("seuclidean", {}),
    ("seuclidean", {"V": np.array([0.5, 1.0, 2.0])}),
    ("mahalanobis", {}),
    ("mahalanobis", {"VI": _VI}),
)

RECORDS += [
    Record(
        covers=("scipy.spatial.distance.cdist",),
        fn=lambda a, b: tuple(dist.cdist(a, b, m, **kw) for m, kw in _METRICS),
        shapes=((4, 3), (3, 3)),
        id="cdist",
    ),
    Record(
        covers=("scipy.spatial.distance.pdist",),
        fn=lambda a: tuple(dist.pdist(a, m, **kw) for m, kw in _METRICS),
        shapes=((5, 3),),
        id="pdist",
    ),
    # zero distances (cdist(X, X)'s diagonal, duplicate points): they stay zero as the
    # points move, so the central differences there are 0, the subgradient chosen
    Record(
        covers=("scipy.spatial.distance.cdist", "scipy.spatial.distance.pdist"),
        fn=lambda a: tuple(
            f
            for m in ("euclidean", "seuclidean", "mahalanobis", "minkowski", "cityblock")
            for f in (
                dist.cdist(a, a, m),
                dist.pdist(np.concatenate([a, a]), m),
                dist.cdist(a, a, "minkowski", p=0.5),
            )
        ),
        shapes=((4, 3),),
        id="distance-zero",
    ),
    Record(
        covers=("scipy.spatial.distance.cdist", "scipy.spatial.distance.pdist"),
        fn=lambda a: (dist.cdist(a, a[:2]), dist.pdist(a, "sqeuclidean")),
        shapes=((4, 3),),
        grad=False,
        dtypes=("int64", "bool"),
        id="distance-int",
    ),
    Record(
        covers=("scipy.spatial.distance.squareform",),
        fn=lambda v, m: (
            dist.squareform(v),
            dist.squareform(dist.squareform(v)),
            dist.squareform(v, force="tomatrix"),
            dist.squareform(dist.squareform(v), force="TOVECTOR"),
            dist.squareform(m, checks=False),  # the upper triangle alone is read
            dist.squareform(v[:0]),
            dist.squareform(m[:1, :1] * 0),
        ),
        shapes=((6,), (4, 4)),
        dtypes=("float64", "float32", "int64"),
        id="squareform",
    ),
    Record(
        covers=(
            "scipy.optimize.rosen",
            "scipy.optimize.rosen_der",
            "scipy.optimize.rosen_hess",
            "scipy.optimize.rosen_hess_prod",
        ),
        fn=lambda x, p, y: (
            opt.rosen(x),
            opt.rosen_der(x),
            opt.rosen_hess(x),
            opt.rosen_hess_prod(x, p),
            opt.rosen(y),  # points along the first axis, as SciPy's
            opt.rosen_der(y),
            opt.rosen_der(x[:2]),
            opt.rosen_hess(x[:2]),
            opt.rosen_hess_prod(x[:2], p[:2]),
            opt.rosen_hess_prod(x, p[:3]),  # SciPy's slices of p broadcast: its middle for all
        ),
        shapes=((5,), (5,), (4, 3)),
        dtypes=("float64", "float32", "int64"),
        id="rosen",
    ),
]
