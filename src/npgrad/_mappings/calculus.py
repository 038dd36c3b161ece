"""Finite differences, interpolation and integration on samples: gradient, interp,
trapezoid; unwrap."""

from __future__ import annotations

import numpy as np
import torch

from .._dtypes import TORCH_TO_NP, is_inexact, result_type
from .._trace._array import tensor, unwrap
from .._trace._promote import common
from .._trace._registry import implements, normalise_axis
from .._trace._state import STATE, unsupported, wide


def _along(t: torch.Tensor, axis: int, start, stop=None) -> torch.Tensor:
    """``t[..., start:stop, ...]`` on ``axis`` (an int start alone: that one slice)."""
    if stop is None:
        return t.narrow(axis, start % t.shape[axis], 1)
    return t.narrow(axis, start, (stop % t.shape[axis] if stop <= 0 else stop) - start)


def _shaped(c: torch.Tensor, axis: int, ndim: int) -> torch.Tensor:
    """A 1-d coefficient vector laid along ``axis`` of an ndim array."""
    return c.reshape((-1,) + (1,) * (ndim - 1 - axis))


def _derivative(f: torch.Tensor, h, axis: int, edge_order: int) -> torch.Tensor:
    n = f.shape[axis]
    if n < edge_order + 1:
        raise ValueError(
            "Shape of array too small to calculate a numerical gradient, at least "
            "(edge_order + 1) elements are required."
        )
    nd = f.ndim
    f0, f1 = _along(f, axis, 0), _along(f, axis, 1)
    fl, fl1 = _along(f, axis, -1), _along(f, axis, -2)
    if not isinstance(h, torch.Tensor) or h.ndim == 0:  # one spacing
        inner = (_along(f, axis, 2, n) - _along(f, axis, 0, n - 2)) / (2 * h)
        if edge_order == 1:
            first, last = (f1 - f0) / h, (fl - fl1) / h
        else:
            f2, fl2 = _along(f, axis, 2), _along(f, axis, -3)
            first = (-1.5 * f0 + 2 * f1 - 0.5 * f2) / h
            last = (0.5 * fl2 - 2 * fl1 + 1.5 * fl) / h
        return torch.cat([first, inner, last], axis)
    if h.ndim != 1 or h.shape[0] != n:
        raise ValueError("when 1d, distances must match the length of the corresponding dimension")
    dx = torch.diff(h.to(f.dtype) if is_inexact(h.dtype) else h.to(wide()))
    dx1, dx2 = dx[:-1], dx[1:]
    a = _shaped(-dx2 / (dx1 * (dx1 + dx2)), axis, nd)
    b = _shaped((dx2 - dx1) / (dx1 * dx2), axis, nd)
    c = _shaped(dx1 / (dx2 * (dx1 + dx2)), axis, nd)
    inner = (
        a * _along(f, axis, 0, n - 2) + b * _along(f, axis, 1, n - 1) + c * _along(f, axis, 2, n)
    )
    if edge_order == 1:
        first, last = (f1 - f0) / dx[0], (fl - fl1) / dx[-1]
    else:
        f2, fl2 = _along(f, axis, 2), _along(f, axis, -3)
        d1, d2 = dx[0], dx[1]
        first = (
            -(2 * d1 + d2) / (d1 * (d1 + d2)) * f0
            + (d1 + d2) / (d1 * d2) * f1
            - d1 / (d2 * (d1 + d2)) * f2
        )
        d1, d2 = dx[-2], dx[-1]
        last = (
            d2 / (d1 * (d1 + d2)) * fl2
            - (d2 + d1) / (d1 * d2) * fl1
            + (2 * d2 + d1) / (d2 * (d1 + d2)) * fl
        )
    return torch.cat([first, inner, last], axis)


@implements(np.gradient, axis="many")
def _gradient(f, *varargs, axis=None, edge_order=1):
    t = tensor(f)
    if not is_inexact(t.dtype):
        t = t.to(wide())  # NumPy differentiates integers in float64
    axes = tuple(range(t.ndim)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    spacing = [unwrap(v) for v in varargs]
    spacing = [v if isinstance(v, (torch.Tensor, int, float)) else tensor(v) for v in spacing]
    if not spacing:
        spacing = [1.0] * len(axes)
    elif len(spacing) == 1 and (not isinstance(spacing[0], torch.Tensor) or spacing[0].ndim == 0):
        spacing = spacing * len(axes)
    elif len(spacing) != len(axes):
        raise TypeError("invalid number of arguments")
    outs = [_derivative(t, h, ax, edge_order).to(t.dtype) for h, ax in zip(spacing, axes)]
    return outs[0] if len(outs) == 1 else tuple(outs)


@implements(np.interp)
def _interp(x, xp, fp, left=None, right=None, period=None):
    # NumPy interpolates in float64 (complex128 for complex values)
    tf = tensor(fp)
    want = torch.complex128 if tf.is_complex() else wide()
    tx, txp = tensor(x), tensor(xp)
    for t in (tx, txp):
        if t.is_complex():  # NumPy casts x and xp to float64 safely: complex refused
            raise TypeError(
                f"Cannot cast array data from dtype('{TORCH_TO_NP[t.dtype]}') to "
                "dtype('float64') according to the rule 'safe'"
            )
    tx, txp, tf = tx.to(wide()), txp.to(wide()), tf.to(want)
    if txp.ndim != 1 or tf.ndim != 1:
        raise ValueError("Data points must be 1-D sequences")
    if txp.shape[0] != tf.shape[0]:
        raise ValueError("fp and xp are not of the same length")
    if txp.shape[0] == 0:
        raise ValueError("array of sample points is empty")
    if period is not None:
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None
        tx, txp = torch.remainder(tx, period), torch.remainder(txp, period)
        order = torch.argsort(txp)
        txp, tf = txp[order], tf[order]
        txp = torch.cat([txp[-1:] - period, txp, txp[:1] + period])
        tf = torch.cat([tf[-1:], tf, tf[:1]])
    n = txp.shape[0]
    if n == 1:
        y = tf[0].expand(tx.shape)
    else:
        j = torch.searchsorted(txp.detach().contiguous(), tx.detach().contiguous(), right=True)
        j = j.clamp(1, n - 1)
        x0, x1, f0, f1 = txp[j - 1], txp[j], tf[j - 1], tf[j]
        y = f0 + (tx - x0) * ((f1 - f0) / (x1 - x0))
        y = torch.where(tx == txp[-1], tf[-1], y)  # the last point exactly
    lo = tf[0] if left is None else tensor(left).to(want)
    hi = tf[-1] if right is None else tensor(right).to(want)
    y = torch.where(tx < txp[0], lo, torch.where(tx > txp[-1], hi, y))
    return y


# NumPy 2 removed np.trapz: trapezoid alone is followed
@implements(np.trapezoid, axis="row")
def _trapezoid(y, x=None, dx=1.0, axis=-1):
    t = tensor(y)
    # NumPy differences an x of another rank along the axis as given (-1 of x, not
    # of y): the row normalises it for y alone
    given = axis
    axis = normalise_axis(axis, t.ndim, many=False, name="trapezoid")
    if x is None:
        d = unwrap(dx)
        d = d if isinstance(d, (int, float, complex, torch.Tensor)) else tensor(d)
    else:
        tx = tensor(x)
        if tx.ndim == 1:
            d = torch.diff(tx)
            shape = [1] * t.ndim
            shape[axis] = d.shape[0]
            d = d.reshape(shape)
        else:
            d = torch.diff(tx, dim=given)
    n = t.shape[axis]
    k = max(n - 1, 0)  # no samples: no intervals, and NumPy's empty sum, 0
    hi, lo = t.narrow(axis, min(n, 1), k), t.narrow(axis, 0, k)
    # NumPy's order of operations, each in its result dtype: y[1:] + y[:-1] stays in
    # y's dtype (a logical or for booleans, wrapping for small integers), then * d
    pair = hi | lo if t.dtype is torch.bool else hi + lo
    area = torch.mul(*common(d, pair))  # int8 samples times dx=300: NEP 50's OverflowError
    if not is_inexact(area.dtype):
        area = area.to(wide())  # NumPy's true division by 2.0
    return (area / 2.0).sum(given)  # NumPy's reduce of the product: the given axis


@implements(np.unwrap, axis="one")
def _np_unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """Jumps larger than ``discont`` folded by multiples of ``period``, as NumPy does
    (in its result dtype, its boundary rule). The correction is a step function of p:
    its derivative is zero (also at a jump of exactly period/2), p's own is one."""
    t = tensor(p)
    per = unwrap(period)
    want = result_type(t, per, device_type=STATE.device.type)  # diff keeps t's dtype
    if str(want).startswith("torch.uint") and int(per) // 2:
        if type(period) is int:  # NumPy's dd - (-(period // 2)) in the unsigned dtype
            raise OverflowError(
                f"Python integer {-(int(per) // 2)} out of bounds for {TORCH_TO_NP[want]}"
            )
        # a NumPy unsigned period: NumPy negates it with wrapping (and a warning)
        raise unsupported(f"np.unwrap of {want} with an unsigned integer period")
    dd = torch.diff(t, dim=axis)
    want = result_type(dd, per, device_type=STATE.device.type)
    dd = dd.to(want)
    if is_inexact(want):
        high, ambiguous = per / 2, True
    else:
        per = int(per)
        high, rem = divmod(per, 2)
        ambiguous = rem == 0
    low = -high
    ddmod = torch.remainder(dd - low, per) + low
    if ambiguous:  # a jump of exactly period/2 keeps its sign
        ddmod = torch.where((ddmod == low) & (dd > 0), high, ddmod)
    correct = ddmod - dd
    limit = per / 2 if discont is None else unwrap(discont)
    correct = torch.where(dd.abs() < limit, torch.zeros_like(correct), correct)
    up = t.to(want)
    n = up.shape[axis]
    if n < 2:
        return up.clone() if up is t else up  # NumPy's result is a new array
    rest = (up.narrow(axis, 1, n - 1) + torch.cumsum(correct, dim=axis)).to(want)
    return torch.cat([up.narrow(axis, 0, 1), rest], dim=axis)
