"""``scipy.spatial.distance``: ``cdist`` and ``pdist`` with a metric named by a
string, and ``squareform`` (followed by the trampolines of ``_trace._scipy``).

The distances are computed from the differences of the points themselves, never
with torch's matrix-product shortcut for Euclidean distances (``|a|^2 + |b|^2 -
2 a.b``), which cancels digits for nearby points.  SciPy computes every one of
these metrics in float64, whatever the inputs' dtype, and returns float64: so do
these rows.

Where a distance is not differentiable (a zero Euclidean, standardised Euclidean,
Mahalanobis or Minkowski distance: ``cdist(X, X)``'s diagonal, duplicate points;
a zero coordinate difference in ``cityblock`` or in ``minkowski`` with ``p < 1``)
the gradient is the subgradient 0, never nan.  A second derivative through a
zero root-distance between two different points (coinciding points, whose distance
is not differentiable there) has no such choice: the subgradient would silently
drop the curvature of a smooth function of the distance (``cdist(X, X) ** 2``), so
a backward that builds a graph (``npgrad.hessian``, ``create_graph=True``) and
reaches one raises, naming the pair.  ``cdist(X, X)``'s own diagonal is exempt:
each of its differences is zero whatever the points.  ``chebyshev`` (the largest
coordinate difference) shares its gradient evenly among tied coordinates, as
``np.max`` does.

Only an exact zero is special: nan or inf coordinates, a negative or zero ``V`` and
a ``VI`` that is not positive definite give SciPy's values (nan, inf), and such a
distance carries no gradient, so that the finite distances sharing its points keep
theirs.  ``chebyshev`` passes over nan coordinate differences as SciPy's does (its
running maximum, from 0, skips them): a pair with nothing else is at distance 0.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .._errors import TraceError
from .._trace._array import TracedArray, tensor
from .._trace._registry import implements
from .._trace._state import here, values_hidden, wide

_S = dict(kind="scipy")

# SciPy's names for the metrics followed here (lower case: SciPy lowers the name)
_ALIASES = {
    alias: name
    for name, aliases in {
        "euclidean": ("euclidean", "euclid", "eu", "e"),
        "sqeuclidean": ("sqeuclidean", "sqe", "sqeuclid"),
        "cityblock": ("cityblock", "cblock", "cb", "c"),
        "chebyshev": ("chebyshev", "chebychev", "cheby", "cheb", "ch"),
        "minkowski": ("minkowski", "mi", "m", "pnorm"),
        "cosine": ("cosine", "cos"),
        "correlation": ("correlation", "co"),
        "seuclidean": ("seuclidean", "se", "s"),
        "mahalanobis": ("mahalanobis", "mahal", "mah"),
    }.items()
    for alias in aliases
}
# SciPy's other metrics: known to SciPy, not followed (boolean, ratio and
# probability metrics)
_OTHERS = frozenset(
    "braycurtis canberra dice hamming matching hamm ha h jaccard jacc ja j "
    "jensenshannon js rogerstanimoto russellrao sokalsneath yule".split()
)
# the keywords each metric takes
_KEYWORDS = {
    "euclidean": ("w",),
    "sqeuclidean": ("w",),
    "cityblock": ("w",),
    "chebyshev": ("w",),
    "minkowski": ("p", "w"),
    "cosine": ("w",),
    "correlation": ("w",),
    "seuclidean": ("V",),
    "mahalanobis": ("VI",),
}


def _metric_name(fn: str, metric: Any) -> str:
    if callable(metric):
        raise TraceError(
            f"{here()}: scipy.spatial.distance.{fn}(..., metric=<a function>) is not "
            "followed (only metrics named by a string are); compute the distances with "
            "NumPy, or use mode='numeric'"
        )
    if not isinstance(metric, str):
        raise TypeError("2nd argument metric must be a string identifier or a function.")
    name = metric.lower()
    if name in _ALIASES:
        return _ALIASES[name]
    if name in _OTHERS or name.startswith("test_"):
        raise TraceError(
            f"{here()}: scipy.spatial.distance.{fn}(..., metric={metric!r}) is not "
            f"followed (the metrics followed: {', '.join(_KEYWORDS)}); use mode='numeric'"
        )
    raise ValueError(f"Unknown Distance Metric: {name}")


def _points(x: Any, fn: str, what: str) -> torch.Tensor:
    t = tensor(x)
    if t.is_complex():
        raise TraceError(
            f"{here()}: scipy.spatial.distance.{fn} of complex points is not followed "
            "(SciPy drops their imaginary parts)"
        )
    if t.ndim != 2:
        raise ValueError(what)
    return t.to(wide())  # SciPy computes in float64 and returns float64


def _options(fn: str, name: str, kwargs: dict, n: int) -> dict:
    """The metric's keywords checked as SciPy checks them, arrays as float64."""
    allowed = _KEYWORDS[name]
    # SciPy lets every metric take w=None, and pdist V=None and VI=None too
    unset = ("w", "V", "VI") if fn == "pdist" else ("w",)
    for k, v in kwargs.items():
        if k not in allowed and not (v is None and k in unset):
            raise TypeError(f"{fn}() got an unexpected keyword argument {k!r} (metric {name!r})")
    opts = {k: v for k, v in kwargs.items() if v is not None or k == "p"}
    if "w" in opts:
        w = tensor(opts["w"]).to(wide())
        if w.ndim != 1:
            raise ValueError("Weights must be a vector (ndim = 1)")
        if w.shape[0] != n:
            raise ValueError(f"Weights must have same size as input vector. {w.shape[0]} vs. {n}.")
        # a value check: skipped where values cannot be read (torch.func, compile)
        if not values_hidden() and bool((w < 0).any()):
            raise ValueError("Input weights should be all non-negative")
        opts["w"] = w
    if "p" in opts:
        p = opts["p"]
        if isinstance(p, (TracedArray, torch.Tensor)):
            raise TraceError(
                f"{here()}: scipy.spatial.distance.{fn}(..., p=<a traced array>): the "
                "order p is followed as a number only"
            )
        p = float(p)
        if not p > 0:
            raise TraceError(
                f"{here()}: scipy.spatial.distance.{fn}(..., metric='minkowski', p={p!r}) "
                "is not followed (SciPy requires p > 0)"
            )
        opts["p"] = p
    if "V" in opts:
        v = tensor(opts["V"]).to(wide())
        if v.ndim != 1:
            raise ValueError("Variance vector V must be one-dimensional.")
        if v.shape[0] != n:
            raise ValueError(
                "Variance vector V must be of the same dimension as the vectors on which "
                "the distances are computed."
            )
        opts["V"] = v
    if "VI" in opts:
        vi = tensor(opts["VI"]).to(wide())
        if vi.shape != (n, n):
            # SciPy reads past a wrong-sized matrix and returns garbage
            raise TraceError(
                f"{here()}: scipy.spatial.distance.{fn}(..., metric='mahalanobis', VI=...) "
                f"of shape {tuple(vi.shape)}: VI must be {n}x{n}"
            )
        opts["VI"] = vi
    return opts


def _defaults(name: str, opts: dict, *blocks: torch.Tensor) -> dict:
    """SciPy's V and VI computed from all the points (``blocks`` stacked) when not
    given, their gradient through the points included."""
    missing = {"seuclidean": "V", "mahalanobis": "VI"}.get(name)
    if missing is None or missing in opts:
        return opts
    points = torch.cat(blocks) if len(blocks) > 1 else blocks[0]
    m, n = points.shape
    if name == "seuclidean":
        opts["V"] = torch.var(points, dim=0, correction=1)
        return opts
    if m <= n:
        raise ValueError(
            f"The number of observations ({m}) is too small; the covariance matrix is "
            f"singular. For observations with {n} dimensions, at least {n + 1} "
            "observations are required."
        )
    opts["VI"] = torch.linalg.inv(torch.cov(points.T).reshape(n, n)).T
    return opts


def _root(s: torch.Tensor, p: float = 2.0, ctx: tuple = ()) -> torch.Tensor:
    """``s ** (1/p)`` of sums ``s >= 0``, with the subgradient 0 where ``s`` is 0
    (the root's slope is infinite there; the distance is not differentiable).
    ``ctx``: the function's name and whether its zeros on the diagonal are
    structural (``cdist(X, X)``)."""
    # only an exact zero is special: a nan sum (nan or inf coordinates) or a negative
    # one (a VI that is not positive definite) gives nan, as SciPy's root does
    zero = s == 0
    safe = torch.where(zero, 1.0, s)
    r = torch.sqrt(safe) if p == 2.0 else safe ** (1.0 / p)
    if ctx and s.requires_grad and torch.is_grad_enabled() and not values_hidden():
        _guard_second_order(s, zero, *ctx)
    return torch.where(zero, 0.0, r)


def _guard_second_order(
    s: torch.Tensor, zero: torch.Tensor, fn: str, diagonal: bool, stand_ins: Any = None
) -> None:
    """Refuse a graph-building backward through the zero distances of different
    points (see the module's docstring); a first-order backward passes.
    ``stand_ins``: the pairs :func:`_distance` replaced (no gradient reaches them)."""
    if stand_ins is not None:
        zero = zero & ~stand_ins
    if diagonal:
        zero = zero & ~torch.eye(*zero.shape, dtype=torch.bool, device=zero.device)
    if not bool(zero.any()):
        return
    where = here()

    def check(g: torch.Tensor) -> None:
        # the gradient's own derivative is lost there too (a function of the
        # distance whose slope is 0 at 0, like d ** 2, sends a zero that varies)
        if torch.is_grad_enabled() and (g.requires_grad or bool((g[zero] != 0).any())):
            pair = [int(i) for i in zero.nonzero()[0]]
            raise TraceError(
                f"{where}: scipy.spatial.distance.{fn}: a second derivative through the "
                f"zero distance of two coinciding points (entry {pair}) is not defined (the "
                "distance has no derivative there); for a function of squared distances use "
                "metric='sqeuclidean', or keep the points apart"
            )

    s.register_hook(check)


def _distance(name: str, u: torch.Tensor, v: torch.Tensor, opts: dict, ctx: tuple) -> torch.Tensor:
    """The metric between broadcast points ``u`` and ``v`` (over the last axis), as
    SciPy's values: nan or inf where SciPy's are.  A non-finite distance carries no
    gradient: its local slopes (``2 * inf``, ``0 / 0``) times the zero gradient of
    the other distances would be nan, and the points it shares with finite
    distances would get nan where their central differences are finite.
    ``ctx`` as :func:`_root` takes it."""
    r = _metric(name, u, v, opts, ctx)
    if not r.requires_grad:
        return r
    bad = ~torch.isfinite(r.detach())
    if not values_hidden() and not bool(bad.any()):
        return r
    # the pairs at a non-finite distance recomputed at stand-in points (equal,
    # not constant: every metric finite there), their value kept without gradient
    n = u.shape[-1]
    stand_in = torch.arange(1.0, n + 1.0, dtype=u.dtype, device=u.device)
    keep = bad[..., None]
    safe = dict(opts)
    if "V" in opts:
        safe["V"] = torch.where(keep, 1.0, opts["V"])
    r_safe = _metric(
        name,
        torch.where(keep, stand_in, u),
        torch.where(keep, stand_in, v),
        safe,
        (*ctx, bad) if ctx else (),
    )
    return torch.where(bad, r.detach(), r_safe)


def _metric(name: str, u: torch.Tensor, v: torch.Tensor, opts: dict, ctx: tuple) -> torch.Tensor:
    """The metric between broadcast points ``u`` and ``v`` (over the last axis)."""
    w = opts.get("w")
    if name in ("cosine", "correlation"):
        if w is not None:
            w = w / w.sum()  # SciPy normalises the weights of these two
        if name == "correlation":
            if w is None:
                u, v = u - u.mean(-1, keepdim=True), v - v.mean(-1, keepdim=True)
            else:
                u = u - (u * w).sum(-1, keepdim=True)
                v = v - (v * w).sum(-1, keepdim=True)
        uw, vw = (u, v) if w is None else (u * w, v * w)
        uv, uu, vv = (u * vw).sum(-1), (u * uw).sum(-1), (v * vw).sum(-1)
        # SciPy clips the rounding past [0, 2] (parallel points)
        return torch.clamp(1.0 - uv / (torch.sqrt(uu) * torch.sqrt(vv)), 0.0, 2.0)
    d = u - v
    if name == "minkowski":
        p = opts.get("p", 2.0)
        name = {1.0: "cityblock", 2.0: "euclidean", math.inf: "chebyshev"}.get(p, name)
    if name in ("euclidean", "sqeuclidean"):
        s = (d * d if w is None else w * d * d).sum(-1)
        return s if name == "sqeuclidean" else _root(s, ctx=ctx)
    if name == "cityblock":
        a = d.abs()  # torch's slope of |0| is 0: the subgradient 0
        return (a if w is None else w * a).sum(-1)
    if name == "chebyshev":
        # SciPy's running maximum starts at 0 and skips a nan difference (its
        # comparison is False): nan coordinates (and inf - inf) are passed over,
        # and a pair with no other coordinate is at distance 0
        skip = torch.isnan(d)
        if w is not None:  # SciPy's weights only choose the coordinates (w > 0)
            skip = skip | ~(w > 0)
        a = torch.where(skip, 0.0, d).abs()
        return a.amax(-1) if a.shape[-1] else a.sum(-1)
    if name == "minkowski":
        a = d.abs()
        zero = a == 0  # not a nan difference: that stays nan
        # |d| ** p with the subgradient 0 at d = 0 (infinite slope there for p < 1)
        ap = torch.where(zero, 0.0, torch.where(zero, 1.0, a) ** p)
        return _root((ap if w is None else w * ap).sum(-1), p, ctx)
    if name == "seuclidean":
        return _root((d * d / opts["V"]).sum(-1), ctx=ctx)
    # mahalanobis: (u - v)^T VI (u - v), as SciPy's loop sums it
    return _root(torch.einsum("...i,ij,...j->...", d, opts["VI"], d), ctx=ctx)


@implements("scipy.spatial.distance.cdist", **_S)
def _cdist(XA, XB, metric="euclidean", *, out=None, **kwargs):
    """Subgradient 0 at zero distances (see the module's docstring)."""
    a = _points(XA, "cdist", "XA must be a 2-dimensional array.")
    b = _points(XB, "cdist", "XB must be a 2-dimensional array.")
    if a.shape[1] != b.shape[1]:
        raise ValueError("XA and XB must have the same number of columns (i.e. feature dimension.)")
    name = _metric_name("cdist", metric)
    opts = _defaults(name, _options("cdist", name, kwargs, a.shape[1]), a, b)
    same = isinstance(XA, TracedArray) and XA is XB  # cdist(X, X): a structural diagonal
    return _distance(name, a[:, None, :], b[None, :, :], opts, ("cdist", same))


@implements("scipy.spatial.distance.pdist", **_S)
def _pdist(X, metric="euclidean", *, out=None, **kwargs):
    """The condensed distances (pairs i < j, row by row); subgradient 0 at zero
    distances (see the module's docstring)."""
    t = tensor(X)
    x = _points(X, "pdist", f"A 2-dimensional array must be passed. (Shape was {tuple(t.shape)}).")
    name = _metric_name("pdist", metric)
    opts = _defaults(name, _options("pdist", name, kwargs, x.shape[1]), x)
    i, j = torch.triu_indices(x.shape[0], x.shape[0], 1, device=x.device)
    return _distance(name, x[i], x[j], opts, ("pdist", False))


@implements("scipy.spatial.distance.squareform", **_S)
def _squareform(X, force="no", checks=True):
    """A condensed vector to its symmetric matrix (zero diagonal), or a matrix's
    upper triangle to the vector: a gather, whose gradient is the scatter back (the
    lower triangle of a matrix gets none: SciPy does not read it)."""
    t = tensor(X)
    how = force.lower()
    if how == "tomatrix" and t.ndim != 1:
        raise ValueError("Forcing 'tomatrix' but input X is not a distance vector.")
    if how == "tovector" and t.ndim != 2:
        raise ValueError("Forcing 'tovector' but input X is not a distance matrix.")
    if t.ndim == 1:
        k = t.shape[0]
        if k == 0:
            return t.new_zeros((1, 1))
        d = math.ceil(math.sqrt(k * 2))
        if d * (d - 1) != k * 2:
            raise ValueError(
                "Incompatible vector size. It must be a binomial coefficient n choose 2 "
                "for some integer n >= 2."
            )
        i, j = torch.triu_indices(d, d, 1, device=t.device)
        flat = torch.zeros(d * d, dtype=t.dtype, device=t.device)
        # each value twice, at (i, j) and (j, i): positions distinct, a plain scatter
        flat = flat.index_put((i * d + j,), t).index_put((j * d + i,), t)
        return flat.reshape(d, d)
    if t.ndim == 2:
        if t.shape[0] != t.shape[1]:
            raise ValueError("The matrix argument must be square.")
        # value checks: skipped where values cannot be read (torch.func, compile)
        if checks and not values_hidden() and t.numel():
            if not bool((t == t.T).all()):
                raise ValueError("Distance matrix 'X' must be symmetric.")
            if not bool((torch.diagonal(t) == 0).all()):
                raise ValueError("Distance matrix 'X' diagonal must be zero.")
        d = t.shape[0]
        if d <= 1:
            return t.new_zeros((0,))
        i, j = torch.triu_indices(d, d, 1, device=t.device)
        return t[i, j]
    raise ValueError(
        "The first argument must be one or two dimensional array. A "
        f"{t.ndim}-dimensional array is not permitted"
    )
