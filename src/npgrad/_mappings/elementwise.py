"""Elementwise functions that are not ufuncs: real, imag, isreal, iscomplex, angle,
real_if_close, sinc, i0, fix, polyval (elementwise in x)."""

from __future__ import annotations

import numpy as np
import torch

from .._dtypes import is_inexact, result_type
from .._trace._array import tensor
from .._trace._registry import implements
from .._trace._state import STATE, wide


@implements(np.real)
def _real(val):
    t = tensor(val)
    return t.real if t.is_complex() else t


# the imaginary part of a real array is the constant zero: its gradient is zero indeed
@implements(np.imag)
def _imag(val):
    t = tensor(val)
    return t.imag if t.is_complex() else torch.zeros_like(t)


@implements(np.isreal, differentiable=False)
def _isreal(x):
    t = tensor(x)
    return t.imag == 0 if t.is_complex() else torch.ones(t.shape, dtype=torch.bool, device=t.device)


@implements(np.iscomplex, differentiable=False)
def _iscomplex(x):
    t = tensor(x)
    return (
        t.imag != 0 if t.is_complex() else torch.zeros(t.shape, dtype=torch.bool, device=t.device)
    )


@implements(np.angle)
def _angle(z, deg=False):
    t = tensor(z)
    if not is_inexact(t.dtype):
        t = t.to(wide())
    a = torch.angle(t)
    return torch.rad2deg(a) if deg else a


@implements(np.real_if_close)
def _real_if_close(a, tol=100):
    t = tensor(a)
    if not t.is_complex():
        return t
    eps = torch.finfo(t.real.dtype).eps
    limit = tol * eps if tol > 1 else tol  # NumPy: tol > 1 counts machine epsilons
    # which dtype comes back depends on the values, as in NumPy: one read of a bool
    return t.real if bool((t.imag.abs() < limit).all()) else t


@implements(np.sinc)
def _sinc(x):
    t = tensor(x)
    return torch.sinc(t if is_inexact(t.dtype) else t.to(wide()))


@implements(np.i0)
def _i0(x):
    """The modified Bessel function of order 0 in the input's float dtype (integers:
    float64), computed in float64 as NumPy's Chebyshev series is; complex refused."""
    t = tensor(x)
    if t.is_complex():
        raise TypeError("i0 not supported for complex values")
    want = t.dtype if t.is_floating_point() else wide()
    return torch.special.i0(t.to(wide())).to(want)


@implements(np.fix)
def _fix(x, out=None):
    """Rounding toward zero: the gradient is 0 (torch.trunc's), the derivative away
    from the integers, where the value jumps."""
    t = tensor(x)
    return torch.trunc(t) if is_inexact(t.dtype) else t.clone()


@implements(np.polyval)
def _polyval(p, x):
    tp, tx = tensor(p), tensor(x)
    if tp.ndim == 0:
        raise TypeError("iteration over a 0-d array")
    if isinstance(x, np.poly1d):
        raise TypeError("np.polyval of a poly1d x is not followed; pass an array")
    # NumPy's Horner loop from zeros_like(x): x's dtype, then each coefficient's
    want = result_type(tx, tp, device_type=STATE.device.type) if len(tp) else tx.dtype
    y = torch.zeros(tx.shape, dtype=want, device=tx.device)
    tx, tp = tx.to(want), tp.to(want)
    for k in range(tp.shape[0]):
        y = y * tx + tp[k]
    return y
