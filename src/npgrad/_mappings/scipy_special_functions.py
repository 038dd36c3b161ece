"""``scipy.special`` functions that are not ufuncs: ``logsumexp``, ``softmax``,
``log_softmax``, ``softplus``, ``polygamma``, ``multigammaln`` (followed by the
trampolines of ``_trace._scipy``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .._dtypes import is_inexact
from .._errors import TraceError
from .._trace._array import tensor
from .._trace._registry import implements
from .._trace._state import here, values_hidden, wide

_S = dict(kind="scipy", axis="many")


def floating(x: Any) -> torch.Tensor:
    """SciPy computes integer and bool inputs in float64."""
    t = tensor(x)
    return t if is_inexact(t.dtype) else t.to(wide())


def dims(t: torch.Tensor, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(t.ndim))
    return axis if isinstance(axis, tuple) else (axis,)


@implements("scipy.special.logsumexp", **_S)
def _logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    t = floating(a)
    if t.is_complex():
        raise TypeError("npgrad: scipy.special.logsumexp of complex values is not followed")
    d = dims(t, axis)
    if b is None:
        if t.ndim == 0:
            out = t.clone()  # torch.logsumexp wants a dimension
        else:
            out = torch.logsumexp(t, dim=d, keepdim=keepdims)
        if return_sign:
            return out, torch.ones_like(out)
        return out
    w = tensor(b)
    t, w = torch.broadcast_tensors(t, w.to(t.dtype) if not is_inexact(w.dtype) else w)
    if t.ndim == 0:
        t, w = t.reshape(1), w.reshape(1)
        d, squeeze = (0,), True
    else:
        squeeze = False
    # the maximum over the terms that count (b != 0), a constant: the shift cancels
    m = torch.amax(torch.where(w != 0, t, -torch.inf), dim=d, keepdim=True).detach()
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    s = torch.sum(w * torch.exp(t - m), dim=d, keepdim=True)
    sign = torch.sign(s)
    out = torch.log(torch.abs(s) if return_sign else s) + m
    if not keepdims:
        out, sign = out.squeeze(d), sign.squeeze(d)
    if squeeze:
        out, sign = out.reshape(()), sign.reshape(())
    if return_sign:
        return out, sign
    return out


def _flat(fn: Any, x: Any, axis: Any) -> torch.Tensor:
    t = floating(x)
    if axis is None or t.ndim == 0:
        return fn(t.reshape(-1), dim=0).reshape(t.shape)
    if isinstance(axis, tuple):
        # over several axes: move them last and flatten them together
        rest = [i for i in range(t.ndim) if i not in axis]
        p = t.permute(*rest, *axis)
        shape = p.shape
        r = fn(p.reshape(*shape[: len(rest)], -1), dim=-1).reshape(shape)
        inverse = [0] * t.ndim
        for i, k in enumerate([*rest, *axis]):
            inverse[k] = i
        return r.permute(*inverse)
    return fn(t, dim=axis)


@implements("scipy.special.softmax", **_S)
def _softmax(x, axis=None):
    return _flat(torch.softmax, x, axis)


@implements("scipy.special.log_softmax", **_S)
def _log_softmax(x, axis=None):
    return _flat(torch.log_softmax, x, axis)


@implements("scipy.special.softplus", kind="scipy")
def _softplus(x, **kwargs):
    # SciPy's softplus is np.logaddexp(0, x, **kwargs): that row follows it, its
    # ufunc options (out=, where=, dtype=) handled or refused there
    return np.logaddexp(0, x, **kwargs)


def _psi_order(k: int, t: torch.Tensor) -> torch.Tensor:
    """The k-th derivative of digamma.  The trigamma (k = 1) is the Hurwitz zeta
    function ζ(2, x): torch's own trigamma kernel is good to about 5e-10 relative in
    float64 near x = 1 and gives 6.6e32 at the pole -1 (SciPy: inf), while its zeta
    is exact to the last digit there and has the derivative -2 ζ(3, x), the
    tetragamma, as exactly.  Torch computes the higher orders through zeta already."""
    if k != 1:
        return torch.special.polygamma(k, t)
    # far right, 1/x + 1/(2x^2) is the trigamma to the last digit, where zeta underflows
    # (0 from about 1e155) and is nan at inf; each branch sees safe values only, so
    # neither puts a nan in the other's gradient
    far = t > 1e15
    x = torch.where(far, 1.0, t)
    try:
        z = torch.special.zeta(2.0, x)
    except NotImplementedError:  # forward-mode AD (jvp, jacfwd): zeta has no rule
        pole = (x <= 0) & (x == torch.floor(x))  # torch's kernel: 6.6e32 at -1, nan at -inf
        z = torch.special.polygamma(1, torch.where(x == -math.inf, 0.0, x))
        z = z + torch.where(pole, math.inf, 0.0)
    r = 1 / torch.where(far, t, 1e16)  # (r + r^2 / 2 keeps the gradient 0 at inf)
    return torch.where(far, r + 0.5 * r * r, z)


@implements("scipy.special.polygamma", kind="scipy")
def _polygamma(n, x):
    t = floating(x).to(wide())  # SciPy's result is float64 for any input
    if not isinstance(n, torch.Tensor):
        if not hasattr(n, "__len__") and getattr(n, "ndim", 0) == 0 and n == int(n):
            return _psi_order(int(n), t)
        n = tensor(n)
    if n.is_floating_point() and n.requires_grad:
        raise TraceError(f"{here()}: scipy.special.polygamma(n, x) has no gradient in the order n")
    if values_hidden():
        raise TraceError(
            f"{here()}: scipy.special.polygamma(n, x) needs its orders n as numbers here"
        )
    n, t = torch.broadcast_tensors(n.detach(), t)
    out = torch.full_like(t, math.nan)
    for k in torch.unique(n).tolist():  # torch's polygamma takes one integer order
        if k == int(k) and k >= 0:
            out = torch.where(n == k, _psi_order(int(k), t), out)
    return out


@implements("scipy.special.multigammaln", kind="scipy")
def _multigammaln(a, d):
    t = floating(a).to(wide())  # SciPy's result is float64 for any input
    if isinstance(d, torch.Tensor):
        d = d.item()
    if d != int(d) or d <= 0:
        raise ValueError("d should be a positive integer (dimension)")
    d = int(d)
    # SciPy raises for a <= (d - 1) / 2; this computes there what the sum gives (nan or inf)
    out = d * (d - 1) / 4 * math.log(math.pi)
    for j in range(d):
        out = out + torch.lgamma(t - j / 2)
    return out
