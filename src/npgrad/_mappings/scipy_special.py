"""``scipy.special`` ufuncs, registered by name and matched by identity once the
user's code imports SciPy (``import npgrad`` never imports it)."""

from __future__ import annotations

import math

import torch

from .._errors import TraceError
from .._trace._registry import implements
from .._trace._state import here, wide
from ._refuse import refuse

_F = dict(float_result=True)
_TORCH = {
    "log_expit": torch.nn.functional.logsigmoid,
    "erf": torch.special.erf,
    "erfc": torch.special.erfc,
    "erfinv": torch.special.erfinv,
    # torch's CPU lgamma keeps its relative digits next to the zeros at 1 and 2
    # (exact against mpmath at 1 +- 1e-8, where SciPy's is 1e-9 off)
    "gammaln": torch.special.gammaln,
    "psi": torch.special.digamma,
    "digamma": torch.special.digamma,
    "i0": torch.special.i0,
    "i0e": torch.special.i0e,
    "i1": torch.special.i1,
    "i1e": torch.special.i1e,
    "ndtri": torch.special.ndtri,
    "log_ndtr": torch.special.log_ndtr,
    "entr": torch.special.entr,
    "log1p": torch.special.log1p,
    "exp2": torch.special.exp2,
}
_SQRT_HALF = math.sqrt(0.5)


def xlogy(x, y):
    """x log y, 0 where x = 0 (SciPy's), and so is its gradient in y there: torch's
    x / y is 0 / 0 = nan at x = y = 0 (a term p log q of a loss with p = q = 0, a
    probability that is exactly 0)."""
    return torch.special.xlogy(x, torch.where((x == 0) & (y == 0), 1.0, y))


def xlog1py(x, y):
    """x log1p(y), with xlogy's care at x = 0, y = -1."""
    return torch.special.xlog1py(x, torch.where((x == 0) & (y == -1), 0.0, y))


def ndtr(x):
    """Phi(x) with its relative digits in both tails.  torch's ndtr goes through
    1 + erf(x / sqrt 2), which cancels to 0 left of about -8 (and loses digits from
    -3 on); erfc of a non-negative argument does not, and right of 0 the value is
    1 minus a small erfc, exact to rounding."""
    t = x * _SQRT_HALF
    return torch.where(x < 0, 0.5 * torch.special.erfc(-t), 1 - 0.5 * torch.special.erfc(t))


def _with_derivative_of(value, stand_in):
    """``value``, differentiated as ``stand_in`` (a function equal to it that torch
    differentiates accurately): the difference stand_in - stand_in.detach() is an
    exact zero whose derivatives, of every order and in forward mode too, are
    stand_in's.  (An autograd.Function would lose forward mode and torch.func's
    jvp, and cost a Python backward.)  Always built: a forward-mode dual tensor
    reports requires_grad=False."""
    return value.detach() + (stand_in - stand_in.detach())


def expm1(x):
    """expm1 whose derivative is exp(x): torch's backward uses expm1(x) + 1, which
    is 0 once expm1 rounds to -1 (x below about -37), a silent zero gradient.  Only
    left of 0: right of it torch's derivative is exact, and a stand-in there would
    overflow with exp (inf - inf) and turn -0.0 into +0.0."""
    value = torch.special.expm1(x)
    left = x < 0
    xl = torch.where(left, x, -1.0)
    return torch.where(left, _with_derivative_of(value, torch.exp(xl) - 1), value)


_LN2 = math.log(2)


def log1mexp(a):
    """log(1 - exp(-a)) for a >= 0: log(-expm1(-a)) near 0, log1p(-exp(-a)) past
    log 2, where 1 - exp(-a) is near 1 and its log would round to 0."""
    near = a < _LN2
    an = torch.where(near, a, 1.0)
    af = torch.where(near, 1.0, a)
    return torch.where(near, torch.log(-expm1(-an)), torch.log1p(-torch.exp(-af)))


def expit(x):
    """1 / (1 + exp(-x)), written so that its gradient keeps the tail right of 0:
    torch's sigmoid differentiates as s (1 - s), 0 once s rounds to 1."""
    return torch.where(x < 0, torch.sigmoid(x), 1 - torch.sigmoid(-x))


def logit(p):
    """log(p / (1 - p)); between 1/4 and 3/4 as 2 atanh(2p - 1) (2p - 1 is exact
    there), since the ratio's rounding is a large relative error of a log near 0."""
    mid = (p - 0.5).abs() < 0.25
    pm = torch.where(mid, p, 0.5)
    po = torch.where(mid, 0.25, p)
    return torch.where(mid, 2 * torch.atanh(2 * pm - 1), torch.log(po) - torch.log1p(-po))


_ERFCX_FAR = 50.0
_RSQRT_PI = 1 / math.sqrt(math.pi)


def erfcx(x):
    """erfcx with a derivative that keeps its digits far right: torch's backward,
    2x erfcx(x) - 2 / sqrt(pi), cancels there (1e-6 at x = 1e5, 0 at 1e10); past
    _ERFCX_FAR it is differentiated as its asymptotic series
    1 / (sqrt(pi) x) (1 - 1 / 2x^2 + 3 / (2x^2)^2 - ...), whose next term is below
    1e-17 relative there."""
    value = torch.special.erfcx(x)
    far = x > _ERFCX_FAR
    xf = torch.where(far, x, _ERFCX_FAR)
    r = 1 / (2 * xf * xf)
    term, total = torch.ones_like(xf), torch.ones_like(xf)
    for k in range(1, 8):
        term = -term * (2 * k - 1) * r
        total = total + term
    series = total * _RSQRT_PI / xf
    return torch.where(far, _with_derivative_of(value, series), value)


implements("scipy.special.erfcx", **_F)(erfcx)
# tensor_only: a Python number beside a traced array arrives as a 0-d tensor (the
# formulas' torch.where takes no two numbers)
implements("scipy.special.xlogy", float_result=True, tensor_only=True)(xlogy)
implements("scipy.special.xlog1py", float_result=True, tensor_only=True)(xlog1py)
implements("scipy.special.expit", **_F)(expit)
implements("scipy.special.logit", **_F)(logit)
implements("scipy.special.ndtr", **_F)(ndtr)
implements("scipy.special.expm1", **_F)(expm1)

# scipy.special.sinc is numpy.sinc, a function (not a ufunc): its row is in elementwise
for _name, _fn in _TORCH.items():
    implements(f"scipy.special.{_name}", **_F)(_fn)


@implements("scipy.special.rel_entr", float_result=True, tensor_only=True)
def _rel_entr(x, y):
    # x log(x / y) as SciPy: the difference of the two logs cancels when x ~ y; it
    # is kept only where the ratio over- or underflows; near x = y, log1p of the
    # exact difference (x - y) / y, as the ratio's rounding is all of a log near 0
    ratio = x / y
    normal = torch.isfinite(ratio) & (ratio > 0)
    apart = xlogy(x, x) - xlogy(x, y)
    close = normal & ((x - y).abs() < 0.5 * y)
    yc = torch.where(close, y, 1.0)
    near = x * torch.log1p((torch.where(close, x, 2.0) - yc) / yc)
    # off the band the difference of the logs: differentiated through the ratio, the
    # y-derivative x / y^2 would overflow where -x / y is finite (float32 KL terms)
    inside = torch.where(close, near, apart)
    edge = torch.where(
        (x == 0) & (y >= 0), torch.zeros_like(x * y), torch.full_like(x * y, math.inf)
    )
    return torch.where((x > 0) & (y > 0), inside, edge)


@implements("scipy.special.kl_div", float_result=True, tensor_only=True)
def _kl_div(x, y):
    # rel_entr's cases, the same ones: y where x is 0, inf off the domain
    return _rel_entr(x, y) - x + y


# ---------------------------------------------------------------- Box-Cox
_BOXCOX_ZERO = 1e-19  # SciPy's: below it, lambda counts as 0


def _boxcox_of_log(lg, lmbda, zero):
    """(exp(lambda lg) - 1) / lambda, lg itself where ``zero``; there lg + lambda
    lg^2 / 2 (its value is lg to rounding; lg itself where infinite), so that the
    gradient in lambda is the limit's, lg^2 / 2, not 0."""
    safe = torch.where(zero, torch.ones_like(lmbda), lmbda)
    limit = torch.where(torch.isinf(lg), lg, lg + lmbda * lg * lg / 2)
    return torch.where(zero, limit, torch.expm1(lmbda * lg) / safe)


@implements("scipy.special.boxcox", float_result=True, tensor_only=True)
def _boxcox(x, lmbda):
    return _boxcox_of_log(torch.log(x), lmbda, lmbda.abs() < _BOXCOX_ZERO)


@implements("scipy.special.boxcox1p", float_result=True, tensor_only=True)
def _boxcox1p(x, lmbda):
    lg = torch.log1p(x)
    # SciPy's second case: a tiny log1p(x) is its own transform (no underflow in expm1)
    zero = (lmbda.abs() < _BOXCOX_ZERO) | ((lg.abs() < 1e-289) & (lmbda.abs() < 1e273))
    return _boxcox_of_log(lg, lmbda, zero)


@implements("scipy.special.inv_boxcox", float_result=True, tensor_only=True)
def _inv_boxcox(y, lmbda):
    zero = lmbda == 0
    safe = torch.where(zero, torch.ones_like(lmbda), lmbda)
    # at lambda = 0, exp(y) (1 - lambda y^2 / 2): exp(y), with the limit's gradient
    return torch.where(
        zero, torch.exp(y) * (1 - lmbda * y * y / 2), torch.exp(torch.log1p(lmbda * y) / safe)
    )


# ---------------------------------------------------------------- Dawson, erfi
_RYBICKI_H = 0.25  # the sum's error is about exp(-(pi / 2h)^2): below 1e-17
# odd offsets: |n h| to 7.25.  Numbers, made a tensor per call: a tensor made at import
# would take on the modes of the first trace, which imports the rows (a fake tensor)
_RYBICKI_N = tuple(float(n) for n in range(-29, 30, 2))
_DAWSON_SERIES = 0.2  # below, the sum's terms cancel: the Taylor series instead


def _dawson(x):
    """Dawson's integral exp(-x^2) int_0^x exp(t^2) dt: Rybicki's sum over odd n of
    exp(-(x - n h)^2) / n / sqrt(pi), the odd n nearest x / h only; its Taylor
    series x sum (-2x^2)^k / (2k + 1)!! near 0.  Smooth in x: autograd follows."""
    if x.is_complex():
        raise TraceError(f"{here()}: scipy.special.dawsn or erfi of complex values is not followed")
    small = x.abs() < _DAWSON_SERIES
    xs = torch.where(small, x, 0.0)
    term, total, x2 = xs, xs, xs * xs
    for k in range(1, 12):
        term = term * (-2 * x2) / (2 * k + 1)
        total = total + term
    xl = torch.where(small, 1.0, x)
    h = _RYBICKI_H
    # the nearest even multiple of h: the odd n around it (a constant; x carries the slope)
    offsets = torch.tensor(_RYBICKI_N, device=x.device, dtype=x.dtype)
    n = 2 * torch.round(xl.detach() / (2 * h))[..., None] + offsets
    rybicki = (torch.exp(-((xl[..., None] - n * h) ** 2)) / n).sum(-1) / math.sqrt(math.pi)
    # far out, x - n h keeps no digits of x: the asymptotic series 1/2x sum
    # (2k - 1)!! / (2x^2)^k instead, to 1e-16 from |x| = 50 (0 at +-inf)
    far = x.abs() > _DAWSON_FAR
    xf = torch.where(far, x, _DAWSON_FAR)
    r, term, tail = 1 / (2 * xf * xf), torch.ones_like(xf), torch.ones_like(xf)
    for k in range(1, 8):
        term = term * (2 * k - 1) * r
        tail = tail + term
    asymptotic = tail / (2 * xf)
    return torch.where(small, total, torch.where(far, asymptotic, rybicki))


_DAWSON_FAR = 50.0


@implements("scipy.special.dawsn", **_F)
def _dawsn(x):
    return _dawson(x)


@implements("scipy.special.erfi", **_F)
def _erfi(x):
    d = _dawson(x)
    # 2 / sqrt(pi) exp(x^2) D(x), in logs past |x| = 1: exp(x^2) alone would overflow
    # before the product does
    big = x.abs() > 1
    db = torch.where(big, d, 1.0)
    logs = torch.sign(x) * torch.exp(x * x + torch.log(db.abs()))
    value = 2 / math.sqrt(math.pi) * torch.where(big, logs, torch.exp(x * x) * d)
    return torch.where(torch.isinf(x), x, value)  # SciPy's +-inf there (0 * inf above)


# ---------------------------------------------------------------- exponential integrals
_EULER = 0.5772156649015329
_E1_TERMS = 100  # the continued fraction's depth: 3e-16 at x = 1, better past it


def _real(name: str, x):
    if x.is_complex():
        raise TraceError(f"{here()}: scipy.special.{name} of complex values is not followed")
    return x.to(torch.float64) if x.dtype != torch.float64 and wide() is torch.float64 else x


def _e1_positive(x):
    """E1(x) for x > 0: its series up to x = 1, -gamma - log x - sum (-x)^k / (k k!);
    past it the continued fraction exp(-x) / (x + 1 - 1 / (x + 3 - 4 / (x + 5 - ...))),
    from its tail."""
    small = x <= 1
    xs = torch.where(small, x, 1.0)
    term, total = torch.ones_like(xs), torch.zeros_like(xs)
    for k in range(1, 26):
        term = term * (-xs) / k
        total = total - term / k
    series = -_EULER - torch.log(xs) + total
    xl = torch.where(small, 2.0, x)
    f = xl + 2 * _E1_TERMS + 1
    for k in range(_E1_TERMS - 1, -1, -1):
        f = xl + 2 * k + 1 - (k + 1) ** 2 / f
    return torch.where(small, series, torch.exp(-xl) / f)


@implements("scipy.special.exp1", **_F)
def _exp1(x):
    t = _real("exp1", x)
    # SciPy's real exp1: inf at 0, nan left of it
    pos = t > 0
    value = _e1_positive(torch.where(pos, t, 1.0))
    value = torch.where(pos, value, torch.where(t == 0, math.inf, math.nan))
    return value.to(x.dtype)


def _ei_positive(x):
    """Ei(x) for x > 0: gamma + log x + sum x^k / (k k!) up to x = 50 (positive
    terms, 200 of them), past it exp(x) / x sum k! / x^k to k = 25."""
    series = x <= 50
    xs = torch.where(series, x, 1.0)
    term, total = torch.ones_like(xs), torch.zeros_like(xs)
    for k in range(1, 201):
        term = term * xs / k
        total = total + term / k
    xl = torch.where(series, 100.0, x)
    t, tail = torch.ones_like(xl), torch.ones_like(xl)
    for k in range(1, 26):
        t = t * k / xl
        tail = tail + t
    far = torch.where(torch.isinf(xl), math.inf, torch.exp(xl) / xl * tail)  # not inf / inf
    return torch.where(series, _EULER + torch.log(xs) + total, far)


@implements("scipy.special.expi", **_F)
def _expi(x):
    t = _real("expi", x)
    pos, neg = t > 0, t < 0
    value = torch.where(
        pos,
        _ei_positive(torch.where(pos, t, 1.0)),
        -_e1_positive(torch.where(neg, -t, 1.0)),  # Ei(x) = -E1(-x) left of 0
    )
    value = torch.where(pos | neg, value, torch.where(t == 0, -math.inf, math.nan))
    return value.to(x.dtype)


@implements("scipy.special.huber", **_F)
def _huber(delta, r):
    return torch.where(torch.abs(r) <= delta, 0.5 * r * r, delta * (torch.abs(r) - 0.5 * delta))


@implements("scipy.special.pseudo_huber", float_result=True, tensor_only=True)
def _pseudo_huber(delta, r):
    # delta^2 (sqrt(1 + u) - 1) = delta^2 u / (sqrt(1 + u) + 1), u = (r / delta)^2:
    # the first cancels for small u (0 instead of 5e-21 at r = 1e-10); u itself, not
    # |r / delta|, keeps the second derivative at r = 0 (|t|'s derivative is 0 there)
    ok = delta > 0
    d = torch.where(ok, delta, 1.0)
    value = d * d * _ratio_over_root(torch.square(r / d))
    # SciPy's edges: 0 for delta = 0, inf below, nan for a nan delta
    edge = torch.where(delta == 0, 0.0, torch.where(torch.isnan(delta), math.nan, math.inf))
    return torch.where(ok, value, edge)


def _ratio_over_root(u):
    """u / (sqrt(1 + u) + 1), and sqrt(u) - 1 once u is past 1e300 (an infinite u
    would give inf / inf)."""
    huge = u > 1e300
    um = torch.where(huge, 1.0, u)
    uh = torch.where(huge, u, 4.0)  # sqrt's derivative at 0 would be inf (nan below)
    return torch.where(huge, torch.sqrt(uh) - 1, um / (torch.sqrt(1 + um) + 1))


# ---------------------------------------------------------------- the gamma family
def _gamma_sign(x):
    """The sign of Gamma(x): 1 right of 0 (and at 0), alternating between the poles
    left of it, nan at the poles."""
    pole = (x < 0) & (x == torch.floor(x))
    alternating = 1 - 2 * torch.remainder(torch.ceil(-x), 2)
    s = torch.where(x >= 0, torch.ones_like(x), alternating)
    return torch.where(pole | torch.isnan(x), torch.full_like(x, math.nan), s)


@implements("scipy.special.gammasgn", float_result=True, differentiable=False)
def _gammasgn(x):
    return _gamma_sign(x.detach())


@implements("scipy.special.loggamma", **_F)
def _loggamma(x):
    if x.is_complex():
        raise TraceError(f"{here()}: scipy.special.loggamma of complex values is not followed")
    # SciPy's real loggamma is nan left of 0 (at -0.0 it is inf, as gammaln)
    return torch.where(x < 0, torch.full_like(x, math.nan), torch.special.gammaln(x))


@implements("scipy.special.gamma", **_F)
def _gamma(x):
    return _gamma_sign(x.detach()) * torch.exp(torch.special.gammaln(x))


@implements("scipy.special.rgamma", **_F)
def _rgamma(x):
    sign = _gamma_sign(x.detach())
    pole = (x <= 0) & (x == torch.floor(x))
    return torch.where(pole, torch.zeros_like(x), sign * torch.exp(-torch.special.gammaln(x)))


def _no_gradient_in_a(name: str, value, a):
    return refuse(
        value,
        a,
        f"{here()}: scipy.special.{name}(a, x) has no gradient with respect to a in torch "
        f"(torch.special.{name} differentiates x only); pass a as a constant (a NumPy "
        "array or a number), or use mode='numeric'",
    )


@implements("scipy.special.gammainc", float_result=True, tensor_only=True)
def _gammainc(a, x):
    return _no_gradient_in_a("gammainc", torch.special.gammainc(a.detach(), x), a)


@implements("scipy.special.gammaincc", float_result=True, tensor_only=True)
def _gammaincc(a, x):
    return _no_gradient_in_a("gammaincc", torch.special.gammaincc(a.detach(), x), a)


@implements("scipy.special.erfcinv", **_F)
def _erfcinv(y):
    return -torch.special.ndtri(y / 2) / math.sqrt(2)


_STIRLING_FROM = 20.0


def _stirling_rest(x):
    """lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2), for x >= _STIRLING_FROM
    (the next term, 1 / 1188 x^9, is below 2e-15 there)."""
    r = 1 / (x * x)
    return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r / 1680))) / x


def _betaln_abs(a, b):
    plain = torch.special.gammaln(a) + torch.special.gammaln(b) - torch.special.gammaln(a + b)
    # with one argument large, lgamma(big) - lgamma(small + big) cancels (1e-7 of
    # betaln(1e10, 1)); Stirling's form of that difference does not
    # the pair ordered by selection: min/max would split a tie's derivative into
    # halves, right to first order and wrong to the second (a Hessian at a == b)
    first = a <= b
    small, big = torch.where(first, a, b), torch.where(first, b, a)
    use = (big >= _STIRLING_FROM) & (small > 0)
    sb = torch.where(use, big, _STIRLING_FROM)
    ss = torch.where(use, small, 1.0)
    total = sb + ss
    diff = (
        -(sb - 0.5) * torch.log1p(ss / sb)
        - ss * torch.log(total)
        + ss
        + _stirling_rest(sb)
        - _stirling_rest(total)
    )
    return torch.where(use, torch.special.gammaln(ss) + diff, plain)


@implements("scipy.special.betaln", float_result=True, tensor_only=True)
def _betaln(a, b):
    return _betaln_abs(a, b)


@implements("scipy.special.beta", float_result=True, tensor_only=True)
def _beta(a, b):
    sign = _gamma_sign(a.detach()) * _gamma_sign(b.detach()) * _gamma_sign((a + b).detach())
    sign = torch.where(torch.isnan(sign), torch.ones_like(sign), sign)  # a pole: +-inf
    return sign * torch.exp(_betaln_abs(a, b))


_TINY = 1e-300
_CF_TERMS = 200  # enough for a, b up to about 1e4: the fraction needs O(sqrt(a + b)) terms


def _beta_fraction(a, b, x):
    """The continued fraction of I_x(a, b) (modified Lentz), a fixed number of terms
    so that autograd follows it in a, b and x alike."""
    tiny = _TINY if x.dtype == torch.float64 else 1e-30

    def nonzero(v):
        return torch.where(v.abs() < tiny, torch.full_like(v, tiny), v)

    c = torch.ones_like(x)
    d = 1 / nonzero(1 - (a + b) * x / (a + 1))
    h = d
    for m in range(1, _CF_TERMS + 1):
        for aa in (
            m * (b - m) * x / ((a - 1 + 2 * m) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1 + 2 * m)),
        ):
            d = 1 / nonzero(1 + aa * d)
            c = nonzero(1 + aa / c)
            h = h * d * c
    return h


@implements("scipy.special.betainc", float_result=True, tensor_only=True)
def _betainc(a, b, x):
    a, b, x = torch.broadcast_tensors(a, b, x)
    inside = (a > 0) & (b > 0) & (x > 0) & (x < 1)
    direct = x < (a + 1) / (a + b + 2)  # where the fraction converges fast; else by symmetry
    # each branch sees safe values where it is not used, so no nan leaks into gradients
    half = torch.full_like(x, 0.5)
    one = torch.ones_like(a)
    sa, sb = torch.where(inside, a, one), torch.where(inside, b, one)
    x1 = torch.where(inside & direct, x, half)
    x2 = torch.where(inside & ~direct, x, half)

    def front(p, q, y):
        return torch.exp(p * torch.log(y) + q * torch.log1p(-y) - _betaln_abs(p, q))

    low = front(sa, sb, x1) * _beta_fraction(sa, sb, x1) / sa
    high = 1 - front(sb, sa, 1 - x2) * _beta_fraction(sb, sa, 1 - x2) / sb
    value = torch.where(direct, low, high)
    edge = torch.where(
        (x == 0) & (a > 0) & (b > 0),
        torch.zeros_like(x),
        torch.where((x == 1) & (a > 0) & (b > 0), torch.ones_like(x), torch.full_like(x, math.nan)),
    )
    return torch.where(inside, value, edge)
