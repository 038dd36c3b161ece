"""``scipy.special`` Bessel functions (j0, j1, y0, y1, yn, jv, iv, ive; k0, k1, k0e,
k1e, kv, kve), on torch.

torch's ``bessel_y0`` and kin have no derivative at all (their values come back
without a graph, which would be a silent zero gradient): each is wrapped here in
an autograd.Function whose backward is written with the others, so it can be
differentiated again.  Orders: integers (j, y, i), and real orders v >= 0 for iv
and ive (an ascending series, 0 <= x < 200); other real orders raise a TraceError;
no gradient in the order.  K_v: any real order, by its integral (torch's
``modified_bessel_k0``/``k1`` have no derivative), differentiable in x and v.
"""

from __future__ import annotations

import math

import torch

from .._errors import TraceError
from .._trace._registry import implements
from .._trace._state import here, unsupported, values_hidden, wide
from ._refuse import refuse


def _kernel(name: str, forward, derivative):
    class Bessel(torch.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return forward(x)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * derivative(x)

    Bessel.__name__ = name
    return Bessel.apply


# Y0' = -Y1, Y1' = Y0 - Y1/x (torch's kernels are good to about 1e-9 in float64)
y0 = _kernel("Y0", torch.special.bessel_y0, lambda x: -y1(x))
y1 = _kernel("Y1", torch.special.bessel_y1, lambda x: y0(x) - y1(x) / x)

for _name, _fn in (("y0", y0), ("y1", y1)):
    implements(f"scipy.special.{_name}", float_result=True)(_fn)


def _integer_order(name: str, n):
    """The order as a tensor of integers, with no gradient through it."""
    if not isinstance(n, torch.Tensor):
        if n != math.floor(n):
            raise TraceError(
                f"{here()}: scipy.special.{name}(v, x) of the real order {n}: only integer "
                "orders are followed (real orders need series npgrad does not have); use "
                "mode='numeric'"
            )
        return n
    if not values_hidden() and bool((n != n.round()).any()):
        raise TraceError(
            f"{here()}: scipy.special.{name}(v, x) with real (non-integer) orders: only "
            "integer orders are followed; use mode='numeric'"
        )
    return n.detach()


def _order_message(name: str) -> str:
    return (
        f"{here()}: scipy.special.{name}(v, x) has no gradient with respect to the order "
        "v (it is followed at integer orders only); pass v as a constant"
    )


@implements("scipy.special.yn", float_result=True, tensor_only=True)
def _yn(n, x):
    order = _integer_order("yn", n)
    k = torch.as_tensor(order, device=x.device)
    m = k.abs()
    top = int(m.max()) if m.numel() else 0
    prev, cur = y0(x), y1(x)
    out = torch.where(m == 0, prev, cur)
    for j in range(1, top):  # upward recurrence: stable for Y
        prev, cur = cur, 2 * j / x * cur - prev
        out = torch.where(m == j + 1, cur, out)
    sign = torch.where((k < 0) & (torch.remainder(m, 2) == 1), -1.0, 1.0).to(x.dtype)
    return refuse(out * sign, n, _order_message("yn"))


_NODES = 256  # the trapezoid rule on a full period converges geometrically: |x| + |n| < ~200


_SERIES_TERMS = 40


def _ascending(n, x, sign: float):
    """sum_k sign^k (x/2)^(2k+n) / (k! (k+n)!) for integer n >= 0: J_n (sign -1) or
    I_n (+1).  Used where x^2 < 4 (n + 1): the terms fall from the first on, so the
    sum keeps relative digits where the integrals below keep only absolute ones
    (J_5(1e-3) is 2.6e-19; the integral's rounding is 1e-17)."""
    half = x / 2
    top = int(n.max()) if n.numel() else 0
    power = torch.ones_like(x)
    for j in range(top):  # (x/2)^n / n! by products: a finite gradient at x = 0
        power = torch.where(j < n, power * half / (j + 1), power)
    q = sign * half * half
    term, total = power, power
    for k in range(1, _SERIES_TERMS):
        term = term * q / (k * (n + k))
        total = total + term
    return total


def _j_integer(order, x):
    # in float64 where the device has it: the phase x sin t carries x's rounding,
    # a relative 1e-5 of J at x = 100 in float32
    dtype = x.dtype
    x = x.to(wide()) if x.is_floating_point() and not x.is_complex() else x
    return _j_integer_wide(order, x).to(dtype)


def _j_integer_wide(order, x):
    n, x = torch.broadcast_tensors(torch.as_tensor(order, dtype=x.dtype, device=x.device), x)
    tau = torch.arange(_NODES, dtype=x.dtype, device=x.device) * (2 * math.pi / _NODES)
    # Bessel's integral: J_n(x) = mean over a period of cos(n t - x sin t); more
    # accurate than torch's bessel_j0/j1 kernels (about 1e-9), and differentiable
    value = torch.cos(n[..., None] * tau - x[..., None] * torch.sin(tau)).mean(-1)
    # J_-n = (-1)^n J_n
    m = n.abs()
    odd = torch.remainder(m, 2) == 1
    series = _ascending(m, torch.where(x * x < 4 * (m + 1), x, 0.0), -1.0)
    series = torch.where((n < 0) & odd, -series, series)
    value = torch.where(x * x < 4 * (m + 1), series, value)
    return torch.where(x.abs() + n.abs() < 200, value, torch.full_like(value, math.nan))


@implements("scipy.special.j0", float_result=True)
def _j0(x):
    return _j_integer(0, x)


@implements("scipy.special.j1", float_result=True)
def _j1(x):
    return _j_integer(1, x)


@implements("scipy.special.jv", float_result=True, tensor_only=True)
def _jv(v, x):
    return refuse(_j_integer(_integer_order("jv", v), x), v, _order_message("jv"))


def _ive_integer(name: str, v, x):
    order = _integer_order(name, v)
    n, x = torch.broadcast_tensors(torch.as_tensor(order, dtype=x.dtype, device=x.device), x)
    tau = torch.arange(_NODES, dtype=x.dtype, device=x.device) * (2 * math.pi / _NODES)
    # I_n(x) exp(-|x|) = mean over a period of exp(x cos t - |x|) cos(n t)
    xe = x[..., None]
    value = (torch.exp(xe * torch.cos(tau) - xe.abs()) * torch.cos(n[..., None] * tau)).mean(-1)
    # the rule's error is about exp(-(nodes - |n|)^2 / 2|x|): past that, nan, not a guess
    fine = (_NODES - n.abs()) ** 2 > 80 * x.abs()
    # I_-n = I_n; the ascending series near 0 (relative digits), as for J
    m = n.abs()
    near = x * x < 4 * (m + 1)
    series = _ascending(m, torch.where(near, x, 0.0), 1.0) * torch.exp(-x.abs())
    value = torch.where(near, series, value)
    return torch.where(fine, value, torch.full_like(value, math.nan)), x


_TERMS = 256  # the ascending series' terms peak at k ~ x/2: good for 0 < x < _SERIES_MAX
_SERIES_MAX = 200.0


def _integers(v) -> bool:
    """Whether every order is an integer (True where values cannot be read: the
    integer route then refuses real orders as before)."""
    if not isinstance(v, torch.Tensor):
        return v == math.floor(v)
    if values_hidden():
        return True
    return bool((v == v.round()).all())


def _ive_real(name: str, v, x):
    """I_v(x) exp(-|x|) for real orders v >= 0: integer orders by the integral above,
    the others by the ascending series sum_k (x/2)^(2k+v) / (k! Gamma(k+v+1)) in log
    space (every term positive for x > 0, so nothing cancels).  Negative real orders
    are refused; x < 0 with a real order is nan, x > 200 nan (not a guess)."""
    if _integers(v):
        return _ive_integer(name, v, x)
    vt = torch.as_tensor(v, dtype=x.dtype, device=x.device).detach()
    vt, xb = torch.broadcast_tensors(vt, x)
    integer = vt == vt.round()
    if bool(((vt < 0) & ~integer).any()):
        raise TraceError(
            f"{here()}: scipy.special.{name}(v, x) of a negative real order: only orders "
            "v >= 0 and negative integers are followed; use mode='numeric'"
        )
    inside = (xb > 0) & (xb < _SERIES_MAX)
    xs = torch.where(inside, xb, torch.ones_like(xb))  # finite gradients where discarded
    k = torch.arange(_TERMS, dtype=x.dtype, device=x.device)
    ve = vt[..., None]
    terms = (
        (2 * k + ve) * torch.log(xs / 2)[..., None] - torch.lgamma(k + 1) - torch.lgamma(k + ve + 1)
    )
    series = torch.exp(torch.logsumexp(terms, -1) - xs)
    series = torch.where(inside, series, torch.where(xb == 0, 0.0, math.nan).to(x.dtype))
    integral, _ = _ive_integer(name, torch.where(integer, vt, torch.zeros_like(vt)), xb)
    return torch.where(integer, integral, series), xb


@implements("scipy.special.ive", float_result=True, tensor_only=True)
def _ive(v, x):
    value, _ = _ive_real("ive", v, x)
    return refuse(value, v, _order_message("ive"))


@implements("scipy.special.iv", float_result=True, tensor_only=True)
def _iv(v, x):
    value, xb = _ive_real("iv", v, x)
    return refuse(value * torch.exp(xb.abs()), v, _order_message("iv"))


# ---------------------------------------------------------------- K_v, any real order
_K_STEP = 1 / 16
# the nodes in t and in s, up to 32: numbers, made tensors per call (see
# scipy_special's _RYBICKI_N)
_K_T = _K_S = tuple(i * _K_STEP for i in range(32 * 16 + 1))
_K_NARROW = 16.0  # past it, the integrand in t is too narrow for the step


def _trapezoid(f: torch.Tensor) -> torch.Tensor:
    """The trapezoid rule on [0, end] for an integrand even about 0 (the node at 0
    weighs half): its error falls geometrically with the step."""
    return _K_STEP * (f.sum(-1) - f[..., 0] / 2)


def _log_cosh(y: torch.Tensor) -> torch.Tensor:
    y = y.abs()
    return y + torch.log1p(torch.exp(-2 * y)) - math.log(2)


def _kve(v, x) -> torch.Tensor:
    """K_v(x) exp(x) for real v and x >= 0 from K_v(x) = int_0^inf exp(-x cosh t)
    cosh(v t) dt.  Up to x = 16 the rule in t; past it the integrand is narrow in
    t, so in s with x (cosh t - 1) = s^2: a Gaussian times cosh(v t(s)), which moves
    its peak to about s = v / sqrt(2x), within the nodes (s <= 32) for |v| up to
    26 sqrt(2x).  Both are smooth in x and v, so autograd follows them in each.  K is
    inf at 0 and nan left of it (as SciPy's); below about 1e-11, where the integral
    in t would be cut short, the small-x forms of ``_kve_small`` (other orders
    refused); nan past 26 sqrt(2x), not a guess; float64 to about 1e-13 elsewhere."""
    wide_t = wide()
    xt = x.to(wide_t)
    vt = torch.as_tensor(v, device=x.device).to(wide_t)
    vt, xt = torch.broadcast_tensors(vt.abs(), xt)  # K_-v = K_v
    t = torch.tensor(_K_T, device=x.device, dtype=wide_t)
    s = torch.tensor(_K_S, device=x.device, dtype=wide_t)
    narrow = xt > _K_NARROW
    near_cut = xt * (math.cosh(32.0) - 1) - vt * 32 < 40
    far_cut = vt > 26 * torch.sqrt(2 * xt)
    inner = (xt > 0) & ~narrow & ~near_cut
    outer = narrow & ~far_cut
    # each branch sees safe values where the other's (or an edge's) result is used
    xa = torch.where(inner, xt, torch.ones_like(xt))[..., None]
    va = torch.where(inner, vt, torch.zeros_like(vt))[..., None]
    e = -xa * (torch.cosh(t) - 1)
    near = _trapezoid((torch.exp(va * t + e) + torch.exp(-va * t + e)) / 2)
    xb = torch.where(outer, xt, torch.full_like(xt, 100.0))[..., None]
    vb = torch.where(outer, vt, torch.zeros_like(vt))[..., None]
    bend = 2 * torch.asinh(s / torch.sqrt(2 * xb))
    far = _trapezoid(torch.exp(_log_cosh(vb * bend) - s * s) * 2 / torch.sqrt(2 * xb + s * s))
    edge = torch.where(xt == 0, math.inf, math.nan).to(wide_t)
    small = (xt > 0) & ~narrow & near_cut
    edge = torch.where(small, _kve_small(vt, torch.where(small, xt, 1.0)), edge)
    out = torch.where(outer, far, torch.where(inner, near, edge))
    if not values_hidden() and bool(torch.isnan(out.detach())[small].any()):
        raise unsupported(
            "scipy.special's K_v at x below about 1e-11 for an order v that is not a "
            "whole or half-whole number (npgrad has no formula there)"
        )
    return out.to(x.dtype)


def _kve_small(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """K_v(x) exp(x) where the integral is cut short (x below about 1e-11): for a
    half-whole v the closed form, exact (sqrt(pi / 2x) exp(-x) times a polynomial in
    1/x); for a whole v the leading term, Gamma(v)/2 (2/x)^v, or -log(x/2) - gamma at
    v = 0, whose next terms are x^2 log(x) smaller; other orders nan (refused above)."""
    n = torch.round(v)
    whole = v == n
    half = (v - 0.5) == torch.round(v - 0.5)
    lead = torch.where(
        n == 0,
        -torch.log(x / 2) - _EULER_GAMMA,
        0.5 * torch.exp(torch.lgamma(torch.where(n == 0, 1.0, n)) + n * torch.log(2 / x)),
    )
    closed = torch.sqrt(math.pi / (2 * x)) * _half_order_polynomial(v, 1 / x)
    return torch.where(whole, lead * torch.exp(x), torch.where(half, closed, math.nan))


def _half_order_polynomial(v: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """sum_k (m + k)! / (k! (m - k)!) (r/2)^k for v = m + 1/2 (m up to 20; nan past):
    K_v(x) exp(x) = sqrt(pi / 2x) times it, with r = 1/x."""
    m = torch.round(v - 0.5).clamp(0, 20)
    total, term = torch.ones_like(r), torch.ones_like(r)
    for k in range(1, 21):
        # the ratio of term k to term k - 1: (m + k)(m - k + 1) / (2k) r, 0 past k = m
        step = torch.where(k <= m, (m + k) * (m - k + 1) / (2 * k) * r, 0.0)
        term = term * step
        total = total + term
    return torch.where(v - 0.5 <= 20, total, math.nan)


_EULER_GAMMA = 0.5772156649015329


@implements("scipy.special.kve", float_result=True, tensor_only=True)
def _kve_row(v, x):
    # SciPy's kve (AMOS) is nan at x = inf; its k0e, k1e and kv are 0 there
    return torch.where(torch.isinf(x), math.nan, _kve(v, x))


@implements("scipy.special.kv", float_result=True, tensor_only=True)
def _kv(v, x):
    return _kve(v, x) * torch.exp(-x)


@implements("scipy.special.k0e", float_result=True)
def _k0e(x):
    return _kve(0.0, x)


@implements("scipy.special.k1e", float_result=True)
def _k1e(x):
    return _kve(1.0, x)


@implements("scipy.special.k0", float_result=True)
def _k0(x):
    return _kve(0.0, x) * torch.exp(-x)


@implements("scipy.special.k1", float_result=True)
def _k1(x):
    return _kve(1.0, x) * torch.exp(-x)
