"""More ``scipy.stats`` continuous distributions, on ``scipy_stats``' machinery
(one standardised kernel per method, SciPy's loc, scale and edges): ``uniform``,
``halfnorm``, ``lognorm``, ``weibull_min``, ``gumbel_r``, ``invgamma``, ``pareto``
and ``skewnorm`` (its logpdf and pdf; its cdf needs Owen's T, which torch lacks);
the logpmf and pmf of ``binom``, ``nbinom``, ``geom`` and ``bernoulli`` (the counts
k, and binom's n, are constants: no gradient flows into them, as poisson's k).
"""

from __future__ import annotations

import inspect
import math

import torch

from .._trace._registry import implements
from .scipy_special import _SQRT_HALF, expm1, log1mexp, ndtr, xlog1py, xlogy
from .scipy_stats import _INF, Continuous, _log_tail, _no_grad, _pdf_from_log, counts

_LOG_2PI = math.log(2 * math.pi)

# ------------------------------------------------------------------ uniform
uniform = Continuous("uniform", support=(0.0, 1.0))
_pdf_from_log(uniform, torch.zeros_like)
uniform.register("cdf")(lambda z: z)
uniform.register("logcdf")(torch.log)
uniform.register("sf")(lambda z: 1 - z)
uniform.register("logsf")(lambda z: torch.log1p(-z))
uniform.register("ppf")(lambda q: q)
uniform.register("isf")(lambda q: 1 - q)

# ------------------------------------------------------------------ halfnorm
halfnorm = Continuous("halfnorm", support=(0.0, _INF))
_pdf_from_log(halfnorm, lambda z: -0.5 * z * z, 0.5 * math.log(math.pi / 2))


def _halfnorm_logcdf(z):
    # log erf(t) is log of a number near 1 from t = 1 on: there log1p(-erfc(t))
    t = z * _SQRT_HALF
    return _log_tail(t < 1, torch.special.erf(t), torch.special.erfc(t))


def _halfnorm_logsf(z):
    # log erfc(t) = log1p(-erf(t)) near 0 (log 2 + log_ndtr(-z) cancels there)
    t = z * _SQRT_HALF
    near = t < 1
    tn = torch.where(near, t, 0.5)
    zf = torch.where(near, 2.0, z)
    return torch.where(
        near, torch.log1p(-torch.special.erf(tn)), math.log(2) + torch.special.log_ndtr(-zf)
    )


halfnorm.register("cdf")(lambda z: torch.special.erf(z * _SQRT_HALF))
halfnorm.register("logcdf")(_halfnorm_logcdf)
halfnorm.register("sf")(lambda z: torch.special.erfc(z * _SQRT_HALF))
halfnorm.register("logsf")(_halfnorm_logsf)
halfnorm.register("ppf")(lambda q: torch.special.ndtri((1 + q) / 2))
halfnorm.register("isf")(lambda q: -torch.special.ndtri(q / 2))


# ------------------------------------------------------------------ lognorm
def _positive(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where z > 0, and z made 1 elsewhere: a log's gradient stays finite where
    ``torch.where`` discards it."""
    inside = z > 0
    return inside, torch.where(inside, z, 1.0)


def _lognorm_logpdf(z, s):
    inside, zs = _positive(z)
    lz = torch.log(zs)
    value = -torch.log(s) - lz - 0.5 * _LOG_2PI - lz * lz / (2 * s * s)
    return torch.where(inside, value, -_INF)


def _log_over(z, s):
    """log(z) / s, -inf at z = 0."""
    inside, zs = _positive(z)
    return torch.where(inside, torch.log(zs) / s, -_INF)


lognorm = Continuous("lognorm", ("s",), support=(0.0, _INF), valid=lambda s: s > 0)
_pdf_from_log(lognorm, _lognorm_logpdf)
lognorm.register("cdf")(lambda z, s: ndtr(_log_over(z, s)))
lognorm.register("logcdf")(lambda z, s: torch.special.log_ndtr(_log_over(z, s)))
lognorm.register("sf")(lambda z, s: ndtr(-_log_over(z, s)))
lognorm.register("logsf")(lambda z, s: torch.special.log_ndtr(-_log_over(z, s)))
lognorm.register("ppf")(lambda q, s: torch.exp(s * torch.special.ndtri(q)))
lognorm.register("isf")(lambda q, s: torch.exp(-s * torch.special.ndtri(q)))


# ------------------------------------------------------------------ weibull_min
def _power(z, c):
    """z ** c, 0 at z = 0 for c > 0, with a finite gradient there."""
    inside, zs = _positive(z)
    return torch.where(inside, zs**c, 0.0)


def _weibull_logpdf(z, c):
    return torch.log(c) + xlogy(c - 1, z) - _power(z, c)


weibull_min = Continuous("weibull_min", ("c",), support=(0.0, _INF), valid=lambda c: c > 0)
_pdf_from_log(weibull_min, _weibull_logpdf)
weibull_min.register("cdf")(lambda z, c: -expm1(-_power(z, c)))
weibull_min.register("logcdf")(lambda z, c: log1mexp(_power(z, c)))
weibull_min.register("sf")(lambda z, c: torch.exp(-_power(z, c)))
weibull_min.register("logsf")(lambda z, c: -_power(z, c))
weibull_min.register("ppf")(lambda q, c: (-torch.log1p(-q)) ** (1 / c))
weibull_min.register("isf")(lambda q, c: (-torch.log(q)) ** (1 / c))

# ------------------------------------------------------------------ gumbel_r
gumbel_r = Continuous("gumbel_r")
_pdf_from_log(gumbel_r, lambda z: -z - torch.exp(-z))
gumbel_r.register("cdf")(lambda z: torch.exp(-torch.exp(-z)))
gumbel_r.register("logcdf")(lambda z: -torch.exp(-z))
gumbel_r.register("sf")(lambda z: -expm1(-torch.exp(-z)))
gumbel_r.register("logsf")(lambda z: log1mexp(torch.exp(-z)))
gumbel_r.register("ppf")(lambda q: -torch.log(-torch.log(q)))
gumbel_r.register("isf")(lambda q: -torch.log(-torch.log1p(-q)))


# ------------------------------------------------------------------ invgamma
def _invgamma_logpdf(z, a):
    inside, zs = _positive(z)
    value = -(a + 1) * torch.log(zs) - torch.lgamma(a) - 1 / zs
    return torch.where(inside, value, -_INF)


def _invgamma_tail(z, a, upper: bool, name: str):
    _no_grad(f"scipy.stats.invgamma.{name}", "the shape a", a)
    inside, zs = _positive(z)
    # P(X <= z) = Q(a, 1/z): torch differentiates the incomplete gamma in its second
    # argument only
    value = (torch.special.gammainc if upper else torch.special.gammaincc)(a, 1 / zs)
    return torch.where(inside, value, 1.0 if upper else 0.0)


invgamma = Continuous("invgamma", ("a",), support=(0.0, _INF), valid=lambda a: a > 0)
_pdf_from_log(invgamma, _invgamma_logpdf)
invgamma.register("cdf")(lambda z, a: _invgamma_tail(z, a, False, "cdf"))
invgamma.register("sf")(lambda z, a: _invgamma_tail(z, a, True, "sf"))


# ------------------------------------------------------------------ pareto
def _pareto_log_sf(z, b):
    # log1p(z - 1): z - 1 is exact next to the support's edge at 1, where log(z)
    # keeps only the rounding of z's distance from 1
    return -b * torch.log1p(z - 1)


pareto = Continuous("pareto", ("b",), support=(1.0, _INF), valid=lambda b: b > 0)
_pdf_from_log(pareto, lambda z, b: torch.log(b) - (b + 1) * torch.log(z))
pareto.register("cdf")(lambda z, b: -expm1(_pareto_log_sf(z, b)))
pareto.register("sf")(lambda z, b: torch.exp(_pareto_log_sf(z, b)))
pareto.register("logsf")(_pareto_log_sf)
pareto.register("logcdf")(lambda z, b: log1mexp(-_pareto_log_sf(z, b)))
pareto.register("ppf")(lambda q, b: torch.exp(-torch.log1p(-q) / b))
pareto.register("isf")(lambda q, b: torch.exp(-torch.log(q) / b))

# ------------------------------------------------------------------ skewnorm
skewnorm = Continuous("skewnorm", ("a",), valid=lambda a: torch.isfinite(a))
_pdf_from_log(
    skewnorm,
    lambda z, a: -0.5 * z * z + torch.special.log_ndtr(a * z),
    0.5 * _LOG_2PI - math.log(2),
)


# ------------------------------------------------------------------ discrete
def _pmf_rows(name: str, logpmf, params: str) -> None:
    """Register ``name``'s logpmf and pmf with SciPy's signature (the parameters,
    then loc): -inf (0) off the support, nan for invalid parameters."""

    def log_mass(k, *args):
        *values, loc = args
        k, *values = counts(k, loc, *values)
        value, inside, valid = logpmf(k, *values)
        value = torch.where(inside, value, -_INF)
        return torch.where(valid & ~torch.isnan(k), value, math.nan)

    names = params.split()
    sig = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("k", *names)]
        + [inspect.Parameter("loc", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=0)]
    )
    for method, out in (("logpmf", log_mass), ("pmf", lambda *a: torch.exp(log_mass(*a)))):

        def impl(*args, _out=out, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            return _out(*bound.arguments.values())

        impl.__signature__ = sig
        impl.__name__ = f"_{name}_{method}"
        implements(f"scipy.stats.{name}.{method}", kind="scipy")(impl)


def _whole(x: torch.Tensor) -> torch.Tensor:
    return x == torch.floor(x)


def _binom_logpmf(k, n, p):
    """n is a count too (no gradient in it); p in [0, 1]."""
    n = n.detach()
    inside = _whole(k) & (k >= 0) & (k <= n)
    ks = torch.where(inside, k, 0.0)
    ns = torch.where(inside, n, 0.0)
    comb = torch.lgamma(ns + 1) - torch.lgamma(ks + 1) - torch.lgamma(ns - ks + 1)
    value = comb + xlogy(ks, p) + xlog1py(ns - ks, -p)
    return value, inside, (n >= 0) & _whole(n) & (p >= 0) & (p <= 1)


def _nbinom_logpmf(k, n, p):
    """n > 0 real (differentiable), p in (0, 1]."""
    inside = _whole(k) & (k >= 0)
    ks = torch.where(inside, k, 0.0)
    ok = (n > 0) & (p > 0) & (p <= 1)
    ns, ps = torch.where(ok, n, 1.0), torch.where(ok, p, 0.5)
    value = (
        torch.lgamma(ns + ks)
        - torch.lgamma(ks + 1)
        - torch.lgamma(ns)
        + ns * torch.log(ps)
        + xlog1py(ks, -ps)
    )
    return value, inside, ok


def _geom_logpmf(k, p):
    inside = _whole(k) & (k >= 1)
    ok = (p > 0) & (p <= 1)
    ps = torch.where(ok, p, 0.5)
    value = xlog1py(torch.where(inside, k, 1.0) - 1, -ps) + torch.log(ps)
    return value, inside, ok


def _bernoulli_logpmf(k, p):
    return _binom_logpmf(k, torch.ones_like(p), p)


_pmf_rows("binom", _binom_logpmf, "n p")
_pmf_rows("nbinom", _nbinom_logpmf, "n p")
_pmf_rows("geom", _geom_logpmf, "p")
_pmf_rows("bernoulli", _bernoulli_logpmf, "p")
