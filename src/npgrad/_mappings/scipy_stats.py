"""``scipy.stats`` distributions: the methods of ``norm``, ``t``, ``gamma``, ``chi2``, ``beta``,
``expon``, ``laplace``, ``logistic``, ``cauchy``, ``poisson``, ``multivariate_normal``
and ``dirichlet`` (followed by the trampolines of ``_trace._scipy``).

A continuous distribution is written once, standardised (``z = (x - loc) / scale``),
and :func:`continuous` registers each method with SciPy's signature and SciPy's
edges: ``nan`` for invalid parameters, the support's limits outside it.  Frozen
distributions (``norm(mu, s).logpdf(x)``) call the same methods, so they are
followed too.  Values are computed in float64, as SciPy's are, whatever the inputs'
dtype (float32 on a device without float64); an npgrad op casts its result back to
its inputs' dtype.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import torch

from .._errors import TraceError
from .._trace._array import tensor
from .._trace._registry import implements
from .._trace._state import here, values_hidden, wide
from .scipy_linalg import symmetric
from .scipy_special import _betainc, expit, expm1, log1mexp, logit, ndtr, xlog1py, xlogy

_LOG_2PI = math.log(2 * math.pi)
_INF = math.inf
_NUMBER = (int, float)  # a Python number (np.float64 too), not a NumPy array or a tensor


def _floats(*xs: Any) -> list[torch.Tensor]:
    """The arguments as tensors of SciPy's dtype: float64 (where the device has it)."""
    dtype = wide()
    return [tensor(x).to(dtype) for x in xs]


def _no_grad(name: str, which: str, t: torch.Tensor) -> None:
    """torch has no derivative for this parameter: refuse a traced one."""
    if t.requires_grad:
        raise TraceError(
            f"{here()}: {name} has no gradient with respect to {which} in torch; pass "
            f"{which} as a constant (a NumPy array), or use mode='numeric'"
        )


class Continuous:
    """A continuous distribution's standardised functions of ``z`` and its shapes."""

    def __init__(
        self,
        name: str,
        shapes: tuple[str, ...] = (),
        support: tuple[float, float] = (-_INF, _INF),
        valid: Callable[..., torch.Tensor] | None = None,
    ) -> None:
        self.name, self.shapes, self.support, self.valid = name, shapes, support, valid
        self.const = 0.0  # logpdf's constant term, added to log(scale) on the small tensor

    def register(self, method: str) -> Callable[[Callable], Callable]:
        def decorate(kernel: Callable) -> Callable:
            first = "q" if method in ("ppf", "isf") else "x"
            params = [inspect.Parameter(first, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
            params += [
                inspect.Parameter(s, inspect.Parameter.POSITIONAL_OR_KEYWORD) for s in self.shapes
            ]
            params += [
                inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
                for n, d in (("loc", 0.0), ("scale", 1.0))
            ]
            sig = inspect.Signature(params)
            qualname = f"scipy.stats.{self.name}.{method}"

            n = len(params)

            def impl(*args: Any, **kwargs: Any) -> torch.Tensor:
                if kwargs or not n - 2 <= len(args) <= n:
                    bound = sig.bind(*args, **kwargs)
                    bound.apply_defaults()
                    args = tuple(bound.arguments.values())
                elif len(args) < n:
                    args = (*args, *(0.0, 1.0)[len(args) - n + 2 :])  # loc, scale's defaults
                *rest, loc, scale = args
                if (
                    self.valid is None
                    and isinstance(loc, _NUMBER)
                    and isinstance(scale, _NUMBER)
                    and scale > 0
                    and wide() is torch.float64
                ):
                    # the common call, norm.logpdf(x, 0.3, 1.7): loc and scale stay
                    # Python numbers (float64 arithmetic, the same values as 0-d
                    # float64 tensors give), no tensors made or checked for them
                    x, *shapes = _floats(*rest)
                    return self.evaluate(
                        qualname, method, kernel, x, shapes, float(loc), float(scale)
                    )
                x, *shapes, loc, scale = _floats(*args)
                return self.evaluate(qualname, method, kernel, x, shapes, loc, scale)

            impl.__signature__ = sig  # what the normaliser binds SciPy's call with
            impl.__name__ = f"_{self.name}_{method}"
            implements(qualname, kind="scipy")(impl)
            return kernel

        return decorate

    def evaluate(self, qualname, method, kernel, x, shapes, loc, scale) -> torch.Tensor:
        # as few kernels as the edges allow (this runs once per call of a loss): an
        # invalid parameter becomes nan in the small tensor, and nan flows on
        if isinstance(scale, float):  # a valid Python number (impl checked) and no shapes
            ok, log_scale = True, math.log(scale)
        else:
            ok = scale > 0
            if self.valid is not None:
                ok = ok & self.valid(*shapes)
            scale = torch.where(ok, scale, math.nan)
            log_scale = torch.log(scale)
        lo, hi = self.support
        bounded = lo > -_INF or hi < _INF
        if method in ("ppf", "isf"):
            q = x
            inside = (q > 0) & (q < 1)
            z = kernel(torch.where(inside, q, 0.5), *shapes)
            edge_lo, edge_hi = (lo, hi) if method == "ppf" else (hi, lo)
            z = torch.where(q == 0, edge_lo, torch.where(q == 1, edge_hi, z))
            return torch.where((q >= 0) & (q <= 1) & ok, loc + scale * z, math.nan)
        z = (x - loc) / scale
        if not bounded:
            value = kernel(z, *shapes)
            if method == "logpdf":
                return value - (log_scale + self.const)
            return value / scale if method == "pdf" else value
        inside = (z >= lo) & (z <= hi)
        # the formula sees an interior point outside the support, so that its gradient
        # stays finite where torch.where discards it
        mid = 0.5 if hi < _INF and lo > -_INF else (lo + 1.0 if lo > -_INF else hi - 1.0)
        value = kernel(torch.where(inside, z, mid), *shapes)
        if method in ("logpdf", "pdf"):
            if method == "logpdf":
                value = value - (log_scale + self.const)
            else:
                value = value / scale
            value = torch.where(inside, value, -_INF if method == "logpdf" else 0.0)
        else:
            # below the support: cdf 0, sf 1; above: cdf 1, sf 0
            below = {"cdf": 0.0, "logcdf": -_INF, "sf": 1.0, "logsf": 0.0}[method]
            above = {"cdf": 1.0, "logcdf": 0.0, "sf": 0.0, "logsf": -_INF}[method]
            value = torch.where(z < lo, below, torch.where(z > hi, above, value))
        # SciPy's nan for a nan x or an invalid parameter, which no edge above keeps
        return torch.where(~torch.isnan(z) & ok, value, math.nan)


def _pdf_from_log(d: Continuous, logpdf: Callable, const: float = 0.0) -> None:
    """``logpdf(z) - const`` is the standardised log density."""
    d.const = const
    d.register("logpdf")(logpdf)
    d.register("pdf")(lambda z, *s: torch.exp(logpdf(z, *s) - const))


# ------------------------------------------------------------------ norm
norm = Continuous("norm")
_pdf_from_log(norm, lambda z: -0.5 * z * z, 0.5 * _LOG_2PI)
norm.register("cdf")(ndtr)
norm.register("logcdf")(torch.special.log_ndtr)
norm.register("sf")(lambda z: ndtr(-z))
norm.register("logsf")(lambda z: torch.special.log_ndtr(-z))
norm.register("ppf")(torch.special.ndtri)
norm.register("isf")(lambda q: -torch.special.ndtri(q))


# ------------------------------------------------------------------ t
_T_DF_MAX = 1e6  # above (and finite), lgamma's difference and betainc lose digits


def _t_df(df, name: str):
    """``df`` for the t formulas, an infinite one (the normal limit) replaced by 1 so
    that no nan reaches a gradient, and where it was infinite; a finite ``df`` above
    _T_DF_MAX is refused (the formulas lose digits there; SciPy's do not)."""
    big = (df > _T_DF_MAX) & torch.isfinite(df)
    if not values_hidden() and bool(big.any()):
        raise TraceError(
            f"{here()}: scipy.stats.t.{name}: df above {_T_DF_MAX:g} (got "
            f"{float(df[big].flatten()[0]) if df.ndim else float(df)}) is not followed "
            "to SciPy's digits; use scipy.stats.norm there (the limit), or mode='numeric'"
        )
    inf = torch.isinf(df)
    return torch.where(inf, torch.ones_like(df), df), inf


def _t_logpdf(z, df):
    d, inf = _t_df(df, "logpdf")
    t_value = (
        torch.lgamma((d + 1) / 2)
        - torch.lgamma(d / 2)
        - 0.5 * torch.log(d * math.pi)
        - (d + 1) / 2 * torch.log1p(z * z / d)
    )
    return torch.where(inf, -z * z / 2 - 0.5 * math.log(2 * math.pi), t_value)


t = Continuous("t", ("df",), valid=lambda df: df > 0)
_pdf_from_log(t, _t_logpdf)

_T_SERIES = 1e-4  # |z| below this: t.cdf's Taylor series about 0 (error below z**6)


def _t_center(z, df):
    """P(0 < T < z) for |z| < _T_SERIES, signed (odd in z): the integral of the
    density's series, z (1 - p u / 3 + p (p + 1) u**2 / 10) times the density at 0
    (u = z**2 / df, p = (df + 1) / 2, p u <= z**2), so that the slope at z = 0 is the
    density there (the incomplete beta function has an infinite slope times zero)."""
    p = (df + 1) / 2
    log_c = torch.lgamma(p) - torch.lgamma(df / 2) - 0.5 * torch.log(df * math.pi)
    u = z * z / df
    return torch.exp(log_c) * z * (1 - p * u / 3 + p * (p + 1) * u * u / 10)


def _t_tail(z, df):
    """P(T > |z|) for T ~ t(df), |z| >= _T_SERIES, with its relative digits in the
    tail.  With a = df / 2 and x = df / (df + z**2):

    - x < (a + 1) / (a + 5/2), where betainc's continued fraction is taken at x
      itself: I_x(a, 1/2) / 2, no 1 - (a number near 1);
    - otherwise: 1/2 - I_y(1/2, a) / 2, y = 1 - x computed as z**2 / (df + z**2).

    Each regime is fed safe values where the other is used, so that no nan reaches
    a gradient through ``torch.where``.
    """
    endless = torch.isinf(z)  # the tail beyond an infinite bound is 0, its slope too
    z = torch.where(endless, 1.0, z)  # before squaring: 0 * (2 z = inf) is nan
    zz = z * z
    a = df / 2
    far = df * (a + 2.5) < (a + 1) * (df + zz)
    half = torch.full_like(df, 0.5)
    zf = torch.where(far & ~endless, zz, 4 * df + 4)
    far_v = _betainc(a, half, df / (df + zf)) / 2
    zn = torch.where(far, torch.minimum(df, torch.ones_like(df)) / 4, zz)
    near_v = 0.5 - _betainc(half, a, zn / (df + zn)) / 2
    return torch.where(endless, 0.0, torch.where(far, far_v, near_v))


def _t_parts(z, df):
    """(the series about 0, the tail) and where the series is used."""
    tiny = torch.abs(z) < _T_SERIES
    center = _t_center(torch.where(tiny, z, 0.0), df)
    tail = _t_tail(torch.where(tiny, 1.0, z), df)
    return tiny, center, tail


def _t_cdf(z, df):
    d, inf = _t_df(df, "cdf")
    tiny, center, tail = _t_parts(z, d)
    value = torch.where(tiny, 0.5 + center, torch.where(z < 0, tail, 1 - tail))
    return torch.where(inf, ndtr(z), value)


def _t_logcdf(z, df):
    d, inf = _t_df(df, "logcdf")
    tiny, center, tail = _t_parts(z, d)
    value = torch.where(tiny, torch.log(0.5 + center), _log_tail(z < 0, tail, tail))
    return torch.where(inf, torch.special.log_ndtr(z), value)


t.register("cdf")(_t_cdf)
t.register("sf")(lambda z, df: _t_cdf(-z, df))
t.register("logcdf")(_t_logcdf)
t.register("logsf")(lambda z, df: _t_logcdf(-z, df))


# ------------------------------------------------------------------ gamma, beta
def _gamma_logpdf(z, a):
    return xlogy(a - 1, z) - z - torch.lgamma(a)


def _gamma_cdf(z, a):
    _no_grad("scipy.stats.gamma.cdf", "the shape a", a)
    return torch.special.gammainc(a, z)


def _gamma_sf(z, a):
    _no_grad("scipy.stats.gamma.sf", "the shape a", a)
    return torch.special.gammaincc(a, z)


gamma = Continuous("gamma", ("a",), support=(0.0, _INF), valid=lambda a: a > 0)
_pdf_from_log(gamma, _gamma_logpdf)
gamma.register("cdf")(_gamma_cdf)
gamma.register("sf")(_gamma_sf)


def _chi2_logpdf(z, df):
    half = df / 2
    return xlogy(half - 1, z) - z / 2 - half * math.log(2.0) - torch.lgamma(half)


def _chi2_cdf(z, df):
    _no_grad("scipy.stats.chi2.cdf", "the degrees of freedom df", df)
    return torch.special.gammainc(df / 2, z / 2)


def _chi2_sf(z, df):
    _no_grad("scipy.stats.chi2.sf", "the degrees of freedom df", df)
    return torch.special.gammaincc(df / 2, z / 2)


chi2 = Continuous("chi2", ("df",), support=(0.0, _INF), valid=lambda df: df > 0)
_pdf_from_log(chi2, _chi2_logpdf)
chi2.register("cdf")(_chi2_cdf)
chi2.register("sf")(_chi2_sf)


def _beta_logpdf(z, a, b):
    lbeta = torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)
    return xlogy(a - 1, z) + xlog1py(b - 1, -z) - lbeta


beta = Continuous("beta", ("a", "b"), support=(0.0, 1.0), valid=lambda a, b: (a > 0) & (b > 0))
_pdf_from_log(beta, _beta_logpdf)


def _beta_cdf(z, a, b):
    return _betainc(a, b, z)


def _beta_sf(z, a, b):
    # from z = 1/2 on, the upper tail itself (1 - z is exact there; 1 - cdf would lose
    # the small tail's digits); below, 1 - cdf, as 1 - z rounds a tiny z away
    low = z < 0.5
    upper = _betainc(b, a, 1 - torch.where(low, 0.5, z))
    return torch.where(low, 1 - _beta_cdf(torch.where(low, z, 0.25), a, b), upper)


def _beta_log(z, a, b, lower: bool):
    """log cdf (lower) or log sf, as log1p(-the other tail) where this one is near 1."""
    cdf, sf = _beta_cdf(z, a, b), _beta_sf(z, a, b)
    this, other = (cdf, sf) if lower else (sf, cdf)
    return _log_tail(this <= 0.5, this, other)


def _log_tail(small, p, q):
    """log(p) where ``small``, else log1p(-q) (p = 1 - q near 1), each argument made
    safe where the other branch is taken: a p that underflows to 0 would send
    0 * inf = nan through log's gradient otherwise."""
    return torch.where(
        small, torch.log(torch.where(small, p, 1.0)), torch.log1p(-torch.where(small, 0.0, q))
    )


beta.register("cdf")(_beta_cdf)
beta.register("sf")(_beta_sf)
beta.register("logcdf")(lambda z, a, b: _beta_log(z, a, b, True))
beta.register("logsf")(lambda z, a, b: _beta_log(z, a, b, False))

# ------------------------------------------------------------------ expon, laplace
expon = Continuous("expon", support=(0.0, _INF))
_pdf_from_log(expon, lambda z: -z)
expon.register("cdf")(lambda z: -expm1(-z))
expon.register("logcdf")(log1mexp)
expon.register("sf")(lambda z: torch.exp(-z))
expon.register("logsf")(lambda z: -z)
expon.register("ppf")(lambda q: -torch.log1p(-q))
expon.register("isf")(lambda q: -torch.log(q))

laplace = Continuous("laplace")
_pdf_from_log(laplace, lambda z: -torch.abs(z), math.log(2))
laplace.register("cdf")(
    lambda z: torch.where(
        z < 0, 0.5 * torch.exp(torch.clamp(z, max=0)), 1 - 0.5 * torch.exp(-torch.clamp(z, min=0))
    )
)
laplace.register("sf")(
    lambda z: torch.where(
        z > 0, 0.5 * torch.exp(-torch.clamp(z, min=0)), 1 - 0.5 * torch.exp(torch.clamp(z, max=0))
    )
)
laplace.register("logcdf")(
    lambda z: torch.where(
        z < 0,
        torch.clamp(z, max=0) - math.log(2),
        torch.log1p(-0.5 * torch.exp(-torch.clamp(z, min=0))),
    )
)
laplace.register("logsf")(
    lambda z: torch.where(
        z > 0,
        -torch.clamp(z, min=0) - math.log(2),
        torch.log1p(-0.5 * torch.exp(torch.clamp(z, max=0))),
    )
)
laplace.register("ppf")(lambda q: torch.where(q < 0.5, torch.log(2 * q), -torch.log(2 - 2 * q)))

# ------------------------------------------------------------------ logistic, cauchy
logistic = Continuous("logistic")
_pdf_from_log(logistic, lambda z: -torch.abs(z) - 2 * torch.log1p(torch.exp(-torch.abs(z))))
logistic.register("cdf")(expit)
logistic.register("logcdf")(torch.nn.functional.logsigmoid)
logistic.register("sf")(lambda z: expit(-z))
logistic.register("logsf")(lambda z: torch.nn.functional.logsigmoid(-z))
logistic.register("ppf")(logit)  # torch.logit loses digits near q = 1/2

cauchy = Continuous("cauchy")
_pdf_from_log(cauchy, lambda z: -torch.log1p(z * z), math.log(math.pi))


def _cauchy_cdf(z):
    # 1/2 + atan(z) / pi, as atan2(1, -z) / pi: in the left tail the sum cancels
    # (a relative 2e-7 at z = -1e10), atan2 takes the small angle directly
    return torch.atan2(torch.ones_like(z), -z) / math.pi


def _cauchy_log(z):
    """log cdf: of the small tail itself left of 0, log1p(-sf) right of it."""
    return _log_tail(z < 0, _cauchy_cdf(z), _cauchy_cdf(-z))


cauchy.register("cdf")(_cauchy_cdf)
cauchy.register("sf")(lambda z: _cauchy_cdf(-z))
cauchy.register("logcdf")(_cauchy_log)
cauchy.register("logsf")(lambda z: _cauchy_log(-z))


def _cauchy_ppf(q):
    # tan(pi (q - 1/2)) loses q below 1e-16 (q - 1/2 rounds to -1/2): in the tails
    # -1 / tan(pi q) and 1 / tan(pi (1 - q)), each q - 1/2 exact in between
    low, high = q < 0.25, q > 0.75
    ql = torch.where(low, q, 0.125)
    qh = torch.where(high, q, 0.875)
    qm = torch.where(low | high, 0.5, q)
    return torch.where(
        low,
        -1 / torch.tan(math.pi * ql),
        torch.where(high, 1 / torch.tan(math.pi * (1 - qh)), torch.tan(math.pi * (qm - 0.5))),
    )


cauchy.register("ppf")(_cauchy_ppf)


# ------------------------------------------------------------------ poisson
def counts(k, loc, *params) -> list[torch.Tensor]:
    """k - loc, counts (a constant: no gradient flows into them), and the
    parameters, as float tensors."""
    k, loc, *params = _floats(k, loc, *params)
    return [(k - loc).detach(), *params]


def _poisson(k, mu, loc):
    return counts(k, loc, mu)


@implements("scipy.stats.poisson.logpmf", kind="scipy")
def _poisson_logpmf(k, mu, loc=0):
    k, mu = _poisson(k, mu, loc)
    counts = (k >= 0) & (k == torch.floor(k))
    safe = torch.where(counts, k, torch.zeros_like(k))
    value = xlogy(safe, mu) - mu - torch.lgamma(safe + 1)
    value = torch.where(counts, value, torch.full_like(value, -_INF))
    return torch.where(mu >= 0, value, torch.full_like(value, math.nan))


@implements("scipy.stats.poisson.pmf", kind="scipy")
def _poisson_pmf(k, mu, loc=0):
    return torch.exp(_poisson_logpmf(k, mu, loc))


def _poisson_tail(k, mu, loc, upper: bool) -> torch.Tensor:
    k, mu = _poisson(k, mu, loc)
    n = torch.floor(k)
    safe = torch.where(n >= 0, n, torch.zeros_like(n)) + 1
    # P(K <= n) = Q(n + 1, mu): torch differentiates igammac in its second argument
    tail = torch.special.gammainc(safe, mu) if upper else torch.special.gammaincc(safe, mu)
    value = torch.where(n >= 0, tail, torch.full_like(tail, 1.0 if upper else 0.0))
    return torch.where(mu >= 0, value, torch.full_like(value, math.nan))


@implements("scipy.stats.poisson.cdf", kind="scipy")
def _poisson_cdf(k, mu, loc=0):
    return _poisson_tail(k, mu, loc, upper=False)


@implements("scipy.stats.poisson.sf", kind="scipy")
def _poisson_sf(k, mu, loc=0):
    return _poisson_tail(k, mu, loc, upper=True)


# ------------------------------------------------------------------ multivariate
def _squeeze(out: torch.Tensor) -> torch.Tensor:
    """SciPy's ``_squeeze_output``: size-1 dimensions dropped."""
    return out.squeeze()


@implements("scipy.stats.multivariate_normal.logpdf", kind="scipy")
def _mvn_logpdf(x, mean=None, cov=1, allow_singular=False):
    if allow_singular:
        raise TraceError(
            f"{here()}: scipy.stats.multivariate_normal.logpdf(..., allow_singular=True) "
            "is not followed (a pseudo-inverse); use mode='numeric'"
        )
    x, cov_t = _floats(x, cov)
    # SciPy's dimension: the mean's size, else the covariance matrix's
    if mean is not None:
        (m,) = _floats(mean)
        m = m.to(x.dtype).reshape(-1)
        dim = m.numel()
    else:
        dim = 1 if cov_t.ndim < 2 else cov_t.shape[0]
        m = torch.zeros(dim, dtype=x.dtype, device=x.device)
    if cov_t.ndim == 0:
        cov_t = cov_t * torch.eye(dim, dtype=x.dtype, device=x.device)
    elif cov_t.ndim == 1:
        if cov_t.numel() != dim:
            raise ValueError(f"the covariance has {cov_t.numel()} entries; the mean {dim}")
        cov_t = torch.diag_embed(cov_t)
    if dim == 1 and (x.ndim == 0 or x.shape[-1] != 1):
        x = x[..., None]  # SciPy reads a 1-d x of a 1-d distribution as points
    elif x.ndim == 1 and x.shape[0] != dim:
        raise ValueError(f"x has {x.shape[0]} components; the distribution has {dim}")
    # SciPy reads the covariance's lower triangle (eigh, lower=True): so does the gradient
    chol = torch.linalg.cholesky(symmetric(cov_t, lower=True, conj=False))
    diff = (x - m).unsqueeze(-1)
    sol = torch.linalg.solve_triangular(chol, diff.expand(*diff.shape[:-2], dim, 1), upper=False)
    maha = (sol.squeeze(-1) ** 2).sum(-1)
    logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    return _squeeze(-0.5 * (dim * _LOG_2PI + logdet + maha))


@implements("scipy.stats.multivariate_normal.pdf", kind="scipy")
def _mvn_pdf(x, mean=None, cov=1, allow_singular=False):
    return torch.exp(_mvn_logpdf(x, mean, cov, allow_singular))


@implements("scipy.stats.dirichlet.logpdf", kind="scipy")
def _dirichlet_logpdf(x, alpha):
    x, a = _floats(x, alpha)
    if x.shape[0] == a.shape[0] - 1:
        x = torch.cat([x, (1 - x.sum(0)).unsqueeze(0)])  # the last component implied
    a = a.reshape(a.shape + (1,) * (x.ndim - 1))
    lbeta = torch.lgamma(a).sum(0) - torch.lgamma(a.sum(0))
    return _squeeze(xlogy(a - 1, x).sum(0) - lbeta)


@implements("scipy.stats.dirichlet.pdf", kind="scipy")
def _dirichlet_pdf(x, alpha):
    return torch.exp(_dirichlet_logpdf(x, alpha))


# a frozen multivariate normal holds NumPy parameters (freezing reads them with
# np.asarray, so traced ones stop there: pass them to multivariate_normal.logpdf)
@implements("scipy.stats._multivariate.multivariate_normal_frozen.logpdf", kind="scipy")
def _mvn_frozen_logpdf(self, x):
    return _mvn_logpdf(x, self.mean, self.cov, False)


@implements("scipy.stats._multivariate.multivariate_normal_frozen.pdf", kind="scipy")
def _mvn_frozen_pdf(self, x):
    return torch.exp(_mvn_logpdf(x, self.mean, self.cov, False))
