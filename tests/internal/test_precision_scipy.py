"""Precision sweep: every registered ``scipy.special`` ufunc row and every
``scipy.stats`` distribution method row, on a float64 grid that reaches the tails
and edges of its domain, against SciPy's own value (and, at the same points, the
gradient against SciPy's derivative: the density for a cdf, central differences of
SciPy's function elsewhere).  Nothing here compares npgrad with itself.

The grids stay where SciPy itself is accurate: a reference that is a rounding
accident of SciPy's (near a zero of an oscillating function, inside a cancellation
SciPy makes too) would test nothing.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
import torch

import npgrad
import npgrad._mappings  # noqa: F401 - registers every row
from npgrad._trace._registry import ROWS

# ONE table of tolerances per dtype.  "value" is relative; "zero" is the absolute
# tolerance used only where SciPy's value is exactly 0; "grad" is relative, against
# derivatives that are themselves good to about 1e-9 (central differences of SciPy's
# function, five points, a step scaled to the function's own rate of change).
TOL = {
    torch.float64: dict(value=1e-12, zero=1e-300, grad=1e-6),
    torch.float32: dict(value=1e-5, zero=1e-37, grad=1e-4),
}
# Loosened per-row entries (float64 value rtol), each with its reason.
LOOSE: dict[str, float] = {
    # torch's bessel_y0/y1 kernels: 2.7e-9 measured at y0(10), yn by recurrence on them
    "special.y0": 1e-8,
    "special.y1": 1e-8,
    "special.yn": 1e-8,
    # next to Ei's zero at 0.3725 both lose relative digits: npgrad is 1.3e-12 from
    # mpmath there (SciPy 3e-13)
    "special.expi": 2e-12,
    # torch's igamma at a = 301: 8.9e-10 measured at poisson.sf(300, 250)
    "poisson.sf": 2e-9,
}
F32_TINY = float(np.finfo(np.float32).tiny)
F32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Case:
    """One row: SciPy's function, its points (one tuple of arguments each), the
    argument the gradient is taken in, and optionally an analytic derivative (a
    function of the same arguments, from SciPy's own functions)."""

    id: str
    fn: Any
    points: list[tuple]
    wrt: int = 0
    deriv: Any = None
    grad: bool = True
    edges: tuple = ()  # the domain's ends and poles: no difference step crosses one


CASES: list[Case] = []


def special(name: str, points, wrt: int = 0, grad: bool = True, edges=(0.0,)):
    pts = [p if isinstance(p, tuple) else (p,) for p in points]
    CASES.append(Case(f"special.{name}", getattr(sp, name), pts, wrt, None, grad, edges))


_POLES = tuple(float(-n) for n in range(200))  # the gamma function's

special("ndtr", [-37, -30, -20, -9.87, -5, -1, -1e-3, 0, 1e-3, 0.7, 1, 3, 5, 8, 9, 20])
special("log_ndtr", [-1e5, -100, -38, -20, -5, -1, 0, 1, 5, 8, 10, 20, 38])
special(
    "ndtri",
    [1e-300, 1e-100, 1e-20, 1e-5, 0.02, 0.3, 0.5, 0.7, 0.98, 1 - 1e-10, 1 - 1e-15],
    edges=(0, 1),
)
special("erf", [-6, -1, -1e-10, 1e-300, 1e-5, 0.5, 1, 3, 5.9])
special("erfc", [-6, -1, -1e-10, 0, 1e-5, 0.5, 1, 3, 10, 26])
special("erfinv", [-1 + 1e-15, -0.5, 1e-300, 1e-10, 0.3, 0.5, 0.999999, 1 - 1e-15], edges=(-1, 1))
special("erfcinv", [1e-300, 1e-100, 1e-20, 1e-10, 0.1, 0.5, 1, 1.5, 1.9, 2 - 1e-10], edges=(0, 2))
special("erfcx", [-26, -5, -1, 0, 1, 5, 50, 1e5, 1e10])
special("expit", [-745, -700, -40, -1, -1e-10, 0, 1, 20, 36, 40, 700])
special("log_expit", [-750, -40, -1, 0, 1, 20, 40, 700])
special(
    "logit",
    [1e-300, 1e-10, 0.1, 0.3, 0.4999999, 0.5, 0.5000001, 0.7, 0.99, 1 - 1e-10],
    edges=(0, 1),
)
special(
    "gammaln",
    [1e-300, 1e-10, 0.5, 0.8, 1.2, 1.5, 1.8, 2.2, 3.5, 10, 1e5, 1e300] + [-0.5, -2.5, -10.3],
    edges=_POLES,
)
special("psi", [1e-10, 0.5, 1, 3, 10, 1e5, 1e10, -0.5, -2.5, -10.3], edges=_POLES)
special("digamma", [1e-10, 0.5, 2, 1e5, -0.5], edges=_POLES)
special("i0", [0, 1e-5, 0.5, 1, 10, 100, 700, -3])
special("i0e", [0, 1e-5, 1, 10, 100, 1e4, 1e8, -3])
special("i1", [1e-300, 1e-5, 0.5, 1, 10, 100, 700, -3])
special("i1e", [1e-300, 1e-5, 1, 10, 100, 1e4, 1e8, -3])
special("entr", [0, 1e-300, 1e-10, 0.5, 0.9, 2, 10, 1e300], edges=(0,))
special("expm1", [-50, -1, -1e-10, 1e-300, 1e-10, 1, 50, 700])
special("log1p", [-1 + 1e-15, -0.5, -1e-10, 1e-300, 1e-10, 1, 1e10, 1e300], edges=(-1,))
special("exp2", [-1070, -1022, -10, -1e-10, 0, 0.5, 10, 1023])
special("dawsn", [-60, -5, -1, -1e-3, 1e-10, 0.1, 0.3, 1, 2, 5, 10, 40, 60, 1e5])
special("erfi", [-5, -1, -1e-3, 1e-10, 0.1, 0.5, 1, 2, 5, 10, 26])
special("exp1", [1e-300, 1e-10, 0.1, 0.5, 1, 2, 10, 50, 700])
special("expi", [-700, -50, -2, -0.5, -1e-10, 1e-10, 0.3, 0.3725, 1, 10, 40, 60, 100, 700])
special(
    "gamma", [1e-300, 1e-10, 0.5, 1, 2.5, 10, 50, 100, 170, -0.5, -2.5, -10.3, -170.5], edges=_POLES
)
special("rgamma", [1e-10, 0.5, 1, 2.5, 10, 100, -0.5, -2.5, -10.3, 200], edges=_POLES)
special("loggamma", [1e-300, 1e-10, 0.5, 0.8, 1.5, 2.2, 10, 1e5, 1e300])
special("gammasgn", [1e-10, 0.5, -0.5, -1.5, -2.5, 10], grad=False)
special("huber", [(1.0, 0.5), (1.0, -3), (2.0, 1e-10), (1e-5, 1e5)], wrt=1)
special(
    "pseudo_huber",
    [(1.0, 1e-10), (1.0, 1e-5), (1.0, 0.5), (1.0, 3), (2.0, 1e5), (1e-5, 1e-8), (1e3, 1e-3)],
    wrt=1,
)
special("xlogy", [(0.0, 0.0), (1e-300, 1e-300), (2.0, 3.0), (1e-5, 1e5), (5.0, 1 + 1e-10)])
special("xlog1py", [(0.0, -1.0), (2.0, 3.0), (1e-5, 1e-10), (5.0, -1 + 1e-10), (3.0, 1e300)])
special(
    "rel_entr",
    [(0.0, 1.0), (1e-300, 1.0), (2.0, 3.0), (2.0, 2.000001), (1.0, 1 + 1e-10), (1e5, 1e-5)],
)
special("kl_div", [(0.0, 1.0), (2.0, 3.0), (1e-300, 1.0), (1e5, 1e-5), (3.0, 0.1)])
special(
    "boxcox",
    [(1e-10, 0.5), (0.5, 0.0), (2.0, 1e-20), (2.0, 1.5), (1 + 1e-10, 2.0), (1e10, -1.0)],
)
special("boxcox1p", [(1e-10, 0.5), (-0.5, 0.0), (2.0, 1e-20), (2.0, 1.5), (1e10, -1.0)])
special("inv_boxcox", [(1e-10, 0.5), (-0.5, 0.0), (2.0, 1e-20), (2.0, 1.5), (-0.9, -1.0)])
special(
    "gammainc",
    [(0.5, 1e-10), (1.0, 1e-5), (2.0, 1.0), (10.0, 3.0), (10.0, 30.0), (100.0, 60.0), (3.0, 50.0)],
    wrt=1,
)
special(
    "gammaincc",
    [(0.5, 1e-10), (1.0, 1e-5), (2.0, 1.0), (10.0, 3.0), (10.0, 30.0), (100.0, 150.0), (3, 50)],
    wrt=1,
)
special(
    "betaln",
    [(0.5, 0.5), (1.0, 1.0), (2.0, 3.0), (1e-10, 1.0), (100.0, 200.0), (1e5, 1e5), (1e10, 1.0)],
)
special("beta", [(0.5, 0.5), (2.0, 3.0), (1e-10, 1.0), (100.0, 200.0), (-0.5, 2.0), (30.0, 1.5)])
special(
    "betainc",
    [
        (0.5, 0.5, 1e-10),
        (2.0, 3.0, 0.4),
        (2.0, 3.0, 0.999),
        (10.0, 10.0, 0.5),
        (1.0, 1.0, 0.3),
        (50.0, 20.0, 0.2),
        (5.0, 0.5, 1 - 1e-8),
    ],
    wrt=2,
)
special("j0", [0, 1e-10, 0.5, 1, 3.5, 10, 100.3])
special("j1", [1e-300, 1e-10, 0.5, 1, 3, 10, 100.3])
special("y0", [1e-10, 0.5, 1, 3, 10, 100.3])
special("y1", [1e-10, 0.5, 1, 3, 10, 100.3])
special("yn", [(2.0, 0.5), (2.0, 3.0), (5.0, 10.0), (3.0, 1e-3)], wrt=1)
special("jv", [(0.0, 1.0), (2.0, 3.0), (5.0, 1e-3), (3.0, 10.0)], wrt=1)
special("iv", [(0.0, 1.0), (2.0, 3.0), (5.0, 1e-3), (3.5, 10.0), (0.5, 100.0)], wrt=1)
special("ive", [(0.0, 1.0), (2.0, 3.0), (5.0, 1e-3), (3.5, 10.0), (0.5, 100.0)], wrt=1)
special("kv", [(0.0, 1.0), (2.0, 3.0), (0.5, 1e-3), (3.5, 10.0), (1.0, 100.0)], wrt=1)
special("kve", [(0.0, 1.0), (2.0, 3.0), (0.5, 1e-3), (3.5, 10.0), (1.0, 500.0)], wrt=1)
special("k0", [1e-10, 0.5, 1, 3, 10, 100, 700])
special("k1", [1e-10, 0.5, 1, 3, 10, 100, 700])
special("k0e", [1e-10, 0.5, 1, 3, 10, 100, 1e5])
special("k1e", [1e-10, 0.5, 1, 3, 10, 100, 1e5])


# ---------------------------------------------------------------- distributions
_Q = [1e-300, 1e-100, 1e-20, 1e-8, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-8, 1 - 1e-12]
_REAL = [-1e10, -38, -20, -9.87, -5, -1, -1e-3, 0, 1e-3, 0.7, 1, 5, 9.87, 20, 38, 1e10]
_POS = [1e-300, 1e-10, 1e-3, 0.01, 0.3, 1, 2, 5, 20, 100, 1e5, 1e10]
DISTS: dict[str, tuple[list, list[tuple]]] = {
    # name: (x grid, shape tuples)
    "norm": (_REAL, [()]),
    "uniform": ([0, 1e-300, 1e-10, 0.3, 0.5, 1 - 1e-10, 1], [()]),
    "expon": (_POS, [()]),
    "laplace": (_REAL, [()]),
    "logistic": (_REAL, [()]),
    "cauchy": (_REAL, [()]),
    "gumbel_r": ([-6, -3, -1, -1e-3, 0, 1, 5, 20, 40, 100, 700], [()]),
    "halfnorm": ([1e-300, 1e-10, 1e-3, 0.5, 1, 3, 8, 10, 20, 37], [()]),
    "lognorm": ([1e-300, 1e-10, 1e-3, 0.01, 0.5, 1, 1 + 1e-8, 2, 50, 1e5], [(0.7,), (2.5,)]),
    "weibull_min": ([1e-10, 1e-3, 0.5, 1, 2, 5, 20], [(0.5,), (1.0,), (3.0,)]),
    "pareto": ([1, 1.01, 1.5, 3, 100, 1e6, 1e10], [(2.5,), (0.5,)]),
    "invgamma": ([1e-3, 0.1, 0.5, 1, 3, 100, 1e4], [(0.5,), (3.0,)]),
    "gamma": ([1e-10, 0.01, 0.5, 1, 3, 20, 100], [(0.5,), (3.0,), (50.0,)]),
    "chi2": ([1e-10, 0.01, 0.5, 1.3, 3, 20, 100], [(1.0,), (3.0,), (50.0,)]),
    "beta": ([1e-10, 1e-3, 0.2, 0.5, 0.8, 0.999, 1 - 1e-8], [(0.5, 0.5), (2.0, 3.0), (5, 0.7)]),
    "t": ([-1e5, -50, -5, -1, -1e-5, 0, 1e-5, 1, 5, 50, 1e5], [(1.0,), (3.5,), (30.0,)]),
    "skewnorm": ([-10, -3, -1, 0, 1, 3, 10], [(0.0,), (2.0,), (-4.0,)]),
}
_NO_EDGE = ()
DIST_EDGES = {"uniform": (0, 1), "beta": (0, 1), "pareto": (1,)}
DIST_EDGES |= {d: (0,) for d in "expon halfnorm lognorm weibull_min invgamma gamma chi2".split()}
_PPF_Q = {"pareto": _Q, "lognorm": _Q, "weibull_min": _Q}


def _dist_deriv(dist, method: str):
    """The derivative in x (or q) from SciPy's own density."""
    d = getattr(st, dist)
    if method == "cdf":
        return lambda x, *s: d.pdf(x, *s)
    if method == "sf":
        return lambda x, *s: -d.pdf(x, *s)
    if method == "logcdf":
        return lambda x, *s: np.exp(d.logpdf(x, *s) - d.logcdf(x, *s))
    if method == "logsf":
        return lambda x, *s: -np.exp(d.logpdf(x, *s) - d.logsf(x, *s))
    if method == "ppf":
        return lambda q, *s: np.exp(-d.logpdf(d.ppf(q, *s), *s))
    if method == "isf":
        return lambda q, *s: -np.exp(-d.logpdf(d.isf(q, *s), *s))
    return None  # logpdf, pdf: central differences


def _dist_methods(dist: str) -> list[str]:
    prefix = f"scipy.stats.{dist}."
    return sorted(r.name.removeprefix(prefix) for r in ROWS if r.name.startswith(prefix))


for _dist, (_xs, _shapes) in DISTS.items():
    for _method in _dist_methods(_dist):
        _grid = _PPF_Q.get(_dist, _Q + [0.0, 1.0]) if _method in ("ppf", "isf") else _xs
        CASES.append(
            Case(
                f"{_dist}.{_method}",
                getattr(getattr(st, _dist), _method),
                [(x, *s) for s in _shapes for x in _grid],
                0,
                _dist_deriv(_dist, _method),
                edges=(0, 1) if _method in ("ppf", "isf") else DIST_EDGES.get(_dist, _NO_EDGE),
            )
        )


def _discrete(name: str, points, wrt: int, edges=(0, 1)) -> None:
    for method in ("logpmf", "pmf"):
        fn = getattr(getattr(st, name), method)
        CASES.append(Case(f"{name}.{method}", fn, points, wrt, edges=edges))


_discrete("poisson", [(k, mu) for k in (0, 3, 30, 300) for mu in (1e-5, 0.5, 10, 250)], 1, (0,))
for _method in ("cdf", "sf"):
    CASES.append(
        Case(
            f"poisson.{_method}",
            getattr(st.poisson, _method),
            [(k, mu) for k in (0, 3, 30, 300) for mu in (1e-3, 0.5, 10, 250)],
            1,
            edges=(0,),
        )
    )
_discrete("binom", [(k, n, p) for k, n in ((0, 10), (3, 10), (40, 100)) for p in (1e-5, 0.35)], 2)
_discrete("nbinom", [(k, n, p) for k in (0, 4, 200) for n, p in ((0.5, 0.3), (20, 1 - 1e-6))], 2)
_discrete("geom", [(k, p) for k in (1, 5, 500) for p in (1e-6, 0.3, 0.99)], 1)
_discrete("bernoulli", [(k, p) for k in (0, 1) for p in (1e-10, 0.3, 1 - 1e-10)], 1)


# ---------------------------------------------------------------- the runner
def _reference(fn, points: list[tuple]) -> np.ndarray:
    cols = [np.array(c, dtype=np.float64) for c in zip(*points)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(fn(*cols), dtype=np.float64)


def _npgrad(case: Case, points: list[tuple], dtype) -> tuple[np.ndarray, np.ndarray]:
    cols = [np.array(c, dtype=np.float64) for c in zip(*points)]
    x = torch.tensor(cols[case.wrt], dtype=dtype, requires_grad=case.grad)
    const = [c.astype(np.float32) if dtype == torch.float32 else c for c in cols]

    def f(t, _c=const, _w=case.wrt, _fn=case.fn):
        args = list(_c)
        args[_w] = t
        return _fn(*args)

    out = npgrad.function(f, name="sweep", mode="auto", nonfinite="ignore")(x)
    if not case.grad:
        return out.detach().double().numpy(), None
    (g,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    g = torch.zeros_like(x) if g is None else g
    return out.detach().double().numpy(), g.double().numpy()


def _central(case: Case, point: tuple) -> float:
    """SciPy's derivative in argument ``wrt`` by five-point central differences,
    halving the step until three steps agree to 1e-9 (nan where rounding would
    swamp the difference first: no reference there)."""
    x0 = point[case.wrt]
    room = min((abs(x0 - e) for e in case.edges), default=math.inf)

    def at(x):
        p = list(point)
        p[case.wrt] = x
        return float(_reference(case.fn, [tuple(p)])[0])

    def five(h):
        return (8 * (at(x0 + h) - at(x0 - h)) - (at(x0 + 2 * h) - at(x0 - 2 * h))) / (12 * h)

    f0 = at(x0)
    h = min(max(0.01 * abs(x0), 1e-3), 0.1 * room)
    h = (x0 + h) - x0  # a step the grid can hold: x0 +- h, 2h are exact
    d0, d1 = math.nan, five(h)
    for _ in range(200):
        if 1e-16 * abs(f0) > 1e-10 * h * abs(d1):
            break  # rounding would swamp the difference
        d2 = five(h / 2)
        # three steps in a row that agree: a chance agreement of noisy ones is no answer
        if abs(d2 - d1) <= 1e-10 * abs(d2) and abs(d1 - d0) <= 1e-9 * abs(d2):
            return d2 + (d2 - d1) / 15
        h, d0, d1 = h / 2, d1, d2
    return math.nan


def _bad(got, ref, rtol, zero) -> np.ndarray:
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    with np.errstate(invalid="ignore"):  # inf - inf where both are infinite: same
        close = np.abs(got - ref) <= rtol * np.abs(ref)
    at_zero = (ref == 0) & (np.abs(got) <= zero)
    return ~(same | close | at_zero)


def _report(case, points, got, ref, bad) -> str:
    with np.errstate(invalid="ignore"):
        rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
    return "\n".join(
        f"  {case.id}{points[i]}: npgrad {got[i]!r}, reference {ref[i]!r} (rel {rel[i]:.2g})"
        for i in np.flatnonzero(bad)
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_value_and_gradient_float64(case: Case) -> None:
    tol = TOL[torch.float64]
    ref = _reference(case.fn, case.points)
    got, grad = _npgrad(case, case.points, torch.float64)
    bad = _bad(got, ref, LOOSE.get(case.id, tol["value"]), tol["zero"])
    assert not bad.any(), "values off SciPy's:\n" + _report(case, case.points, got, ref, bad)
    if not case.grad:
        return
    # the gradient where it is finite, non-zero and away from an edge of the domain
    keep = [
        i
        for i, p in enumerate(case.points)
        if np.isfinite(ref[i])
        and ref[i] != 0
        and np.isfinite(grad[i])
        and p[case.wrt] != 0
        and p[case.wrt] not in case.edges
        # next to an edge at 1 the grid is too coarse (ulp 1e-16 against a distance
        # of 1e-10) for differences to resolve SciPy's derivative
        and not any(e and abs(p[case.wrt] - e) < 1e-5 for e in case.edges)
    ]
    want = np.array(
        [
            float(_reference(case.deriv, [case.points[i]])[0])
            if case.deriv
            else _central(case, case.points[i])
            for i in keep
        ]
    )
    have = grad[keep]
    ok = np.isfinite(want) & (np.abs(want) > 1e-290)
    pts = [case.points[i] for i in keep]
    bad = ok & _bad(have, want, tol["grad"], tol["zero"])
    assert not bad.any(), "gradients off SciPy's:\n" + _report(case, pts, have, want, bad)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_value_float32(case: Case) -> None:
    tol = TOL[torch.float32]
    # the grid as float32 numbers, the reference SciPy's float64 value at exactly those
    # (points whose arguments float32 cannot hold are left out)
    pts = [
        tuple(float(np.float32(v)) for v in p)
        for p in case.points
        if all(v == 0 or F32_TINY <= abs(v) <= F32_MAX for v in p)
    ]
    ref = _reference(case.fn, pts)
    keep = [
        i for i, r in enumerate(ref) if np.isfinite(r) and (r == 0 or F32_TINY <= abs(r) <= F32_MAX)
    ]
    pts = [pts[i] for i in keep]
    ref = ref[keep].astype(np.float32).astype(np.float64)
    got, _ = _npgrad(Case(case.id, case.fn, pts, case.wrt, grad=False), pts, torch.float32)
    bad = _bad(got, ref, tol["value"], tol["zero"])
    assert not bad.any(), "float32 values off SciPy's:\n" + _report(case, pts, got, ref, bad)


def test_every_row_is_swept() -> None:
    """Every scipy.special ufunc row and every distribution method row has a case."""
    swept = {c.id for c in CASES}
    missing = []
    for row in ROWS:
        name = row.name
        if name.startswith("scipy.special."):
            short = name.removeprefix("scipy.special.")
            if isinstance(getattr(sp, short, None), np.ufunc) and f"special.{short}" not in swept:
                missing.append(name)
        elif name.startswith("scipy.stats."):
            parts = name.removeprefix("scipy.stats.").split(".")
            if len(parts) == 2 and not isinstance(getattr(st, parts[0]), type(st.norm.pdf)):
                if parts[0] in _MULTIVARIATE:
                    continue
                if ".".join(parts) not in swept:
                    missing.append(name)
    assert not missing, f"rows without a sweep case: {missing}"


# multivariate_normal and dirichlet take vectors: their precision is checked by the
# records (test_records), not by this elementwise sweep
_MULTIVARIATE = {"multivariate_normal", "dirichlet"}


# ---------------------------------------------------------------- spot checks
# where SciPy itself keeps fewer digits than npgrad: next to lgamma's zeros at 1
# and 2 (SciPy's gammaln is 1e-9 off there) and next to pareto's edge at 1 (SciPy
# takes log(x) of 1 + 1e-10): mpmath at 40 digits is the reference
mpmath = pytest.importorskip("mpmath")

SPOT = [
    ("gammaln", lambda x: sp.gammaln(x), lambda x: mpmath.loggamma(x), 1 - 1e-8),
    ("gammaln", lambda x: sp.gammaln(x), lambda x: mpmath.loggamma(x), 1 + 1e-8),
    ("gammaln", lambda x: sp.gammaln(x), lambda x: mpmath.loggamma(x), 2 - 1e-8),
    ("gammaln", lambda x: sp.gammaln(x), lambda x: mpmath.loggamma(x), 2 + 1e-3),
    ("loggamma", lambda x: sp.loggamma(x), lambda x: mpmath.loggamma(x), 1 + 1e-12),
    (
        "pareto.logsf",
        lambda x: st.pareto.logsf(x, 2.5),
        lambda x: -2.5 * mpmath.log(x),
        1 + 1e-10,
    ),
    (
        "pareto.cdf",
        lambda x: st.pareto.cdf(x, 0.5),
        lambda x: 1 - x**-0.5,
        1 + 1e-10,
    ),
    # next to the median: torch.logit's log(q / (1 - q)) was 1.6e-10 off there, and
    # SciPy's cauchy.ppf is 4.3e-10 off (npgrad's tan(pi (q - 1/2)) is exact)
    ("logistic.ppf", st.logistic.ppf, lambda q: mpmath.log(q / (1 - q)), 0.5000001),
    ("logistic.ppf", st.logistic.ppf, lambda q: mpmath.log(q / (1 - q)), 0.4999999),
    ("cauchy.ppf", st.cauchy.ppf, lambda q: mpmath.tan(mpmath.pi * (q - 0.5)), 0.5000001),
]


@pytest.mark.parametrize("name, fn, exact, x", SPOT, ids=[f"{s[0]}({s[3]!r})" for s in SPOT])
def test_spot_mpmath(name, fn, exact, x) -> None:
    with mpmath.workdps(40):
        want = float(exact(mpmath.mpf(x)))
    got = npgrad.function(fn, name="spot", mode="auto", nonfinite="ignore")(
        torch.tensor(x, dtype=torch.float64)
    )
    assert abs(float(got) - want) <= TOL[torch.float64]["value"] * abs(want)


@pytest.mark.parametrize(
    "fn, x, slope",
    [
        pytest.param(sp.expm1, -50.0, math.exp(-50.0), id="expm1-left-tail"),
        pytest.param(sp.erfcx, 1e5, -5.641895834631278e-11, id="erfcx-far-right"),
        pytest.param(sp.expit, 40.0, 4.248354255291589e-18, id="expit-right-tail"),
    ],
)
# torch's forward-mode decompositions load through torch.jit.script, which warns
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_tail_derivatives_hold_in_forward_mode_too(fn, x, slope):
    # the stable derivatives must not be reverse-mode only (an autograd.Function
    # without a jvp made torch.func.jvp and jacfwd fail); erfcx's slope from mpmath
    op = npgrad.function(lambda v: fn(v), name=f"tail_{fn.__name__}", mode="auto")
    point = torch.tensor(x, dtype=torch.float64)
    _, tangent = torch.func.jvp(op, (point,), (torch.ones_like(point),))
    assert math.isclose(tangent.item(), slope, rel_tol=TOL[torch.float64]["grad"])
    leaf = point.clone().requires_grad_()
    (grad,) = torch.autograd.grad(op(leaf), leaf)
    assert math.isclose(grad.item(), slope, rel_tol=TOL[torch.float64]["grad"])


@pytest.mark.parametrize(
    "fn, point, want",
    [
        pytest.param(sp.xlogy, (0.0, 0.0), (0.0, 0.0), id="xlogy-at-0-0"),
        pytest.param(sp.xlog1py, (0.0, -1.0), (0.0, 0.0), id="xlog1py-at-0-minus1"),
        # d/dp of n log(1 - p) at p = 0, through binom's xlog1py with k = 0
        pytest.param(
            lambda k, p: st.binom.logpmf(k, 5, p), (0.0, 0.0), (None, -5.0), id="binom-k0-p0"
        ),
    ],
)
def test_a_zero_coefficient_gives_a_finite_gradient(fn, point, want):
    # SciPy's value there is 0 (x log y with x = 0), constant in y: torch's y-gradient
    # x / y was 0 / 0 = nan, poisoning a loss with an exact zero probability
    x, y = (np.float64(v) for v in point)
    grads = npgrad.grad(lambda a, b: fn(a, b), argnums=(0, 1))(x, y)
    for got, expected in zip(grads, want):
        if expected is not None:
            assert got == expected


def test_review_regressions_of_the_stable_formulas():
    # each found by review of the formulas above, against closed forms
    hess = npgrad.hessian(lambda a, b: sp.betaln(a, b), argnums=(0, 1))(25.0, 25.0)
    # a tie of the arguments: min/max had split its second derivative in halves
    assert math.isclose(hess[0][0], sp.polygamma(1, 25.0) - sp.polygamma(1, 50.0), rel_tol=1e-9)
    assert math.isclose(hess[0][1], -sp.polygamma(1, 50.0), rel_tol=1e-9)
    # a Python number delta, and the curvature 1 at r = 0 (|r|'s derivative is 0 there)
    assert npgrad.hessian(lambda r: sp.pseudo_huber(1.0, r))(0.0) == 1.0
    value, slope = npgrad.value_and_grad(lambda r: sp.pseudo_huber(2.0, r))(3.0)
    assert math.isclose(value, sp.pseudo_huber(2.0, 3.0), rel_tol=1e-15)
    assert math.isclose(slope, 3.0 / math.sqrt(1 + (3.0 / 2.0) ** 2), rel_tol=1e-12)
    # expm1: inf past exp's overflow (the stand-in had made it inf - inf), and -0.0 kept
    assert npgrad.value_and_grad(sp.expm1)(710.0)[0] == math.inf
    assert math.copysign(1.0, npgrad.value_and_grad(sp.expm1)(-0.0)[0]) == -1.0
    # rel_entr's y-derivative -x / y in float32 near its smallest normal numbers
    g = npgrad.grad(lambda y: sp.rel_entr(np.float32(1.0), y))(np.float32(1e-23))
    assert math.isclose(float(g), -1e23, rel_tol=1e-6)
