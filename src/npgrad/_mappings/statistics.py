"""Weighted averages, covariance, correlation and quantiles: average, cov, corrcoef
(NumPy computes cov and corrcoef in float64 at least, and so does npgrad), quantile,
percentile, median and their nan-variants."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .._dtypes import HALF, is_inexact, result_type
from .._trace._array import tensor, unwrap
from .._trace._registry import implements
from .._trace._state import STATE, unsupported, values_hidden, wide
from .reductions import _dims, _mean, _sum, reduction


def _observations(m, y, rowvar: bool, dtype) -> torch.Tensor:
    """The variables as rows, in NumPy's dtype for cov (float64 at the least)."""
    tm = tensor(m)
    if tm.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    ts = [tm] if y is None else [tm, tensor(y)]
    if len(ts) == 2 and ts[1].ndim > 2:
        raise ValueError("y has more than 2 dimensions")
    if dtype is None:
        dtype = result_type(*ts, torch.empty((), dtype=wide()), device_type=STATE.device.type)
    rows = []
    for t in ts:
        t = t.to(dtype).reshape(1, -1) if t.ndim < 2 else t.to(dtype)
        if not rowvar and t.shape[0] != 1:
            t = t.T
        rows.append(t)
    return torch.cat(rows, 0)


def _weights(w, n: int, kind: str, dtype) -> torch.Tensor | None:
    if w is None:
        return None
    t = tensor(w)
    if t.ndim > 1:
        raise RuntimeError(f"cannot handle multidimensional {kind}")
    if t.shape[0] != n:
        raise RuntimeError(f"incompatible numbers of samples and {kind}")
    return t.to(dtype)


@implements(np.cov, dtype="row")
def _cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
         dtype=None):  # fmt: skip
    x = _observations(m, y, rowvar, dtype)
    if ddof is None:
        ddof = 0 if bias else 1
    n = x.shape[1]
    fw = _weights(fweights, n, "fweights", x.dtype)
    aw = _weights(aweights, n, "aweights", x.dtype)
    w = fw if aw is None else (aw if fw is None else fw * aw)
    if w is None:
        avg, fact = x.mean(1), n - ddof
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aw is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * (w * aw).sum() / w_sum
    if isinstance(fact, (int, float)) and fact <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=4)
        fact = 0.0
    xc = x - avg[:, None]
    xw = xc if w is None else xc * w
    c = xc @ xw.T.conj() / fact
    return c.squeeze()


# NumPy 2.4's corrcoef has no bias= or ddof= (they had no effect on a correlation)
@implements(np.corrcoef, dtype="row")
def _corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = _cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c  # one variable: NumPy's 1 (nan for a constant one)
    d = torch.diagonal(c)
    std = torch.sqrt(d.real)
    c = c / std[:, None] / std[None, :]
    # rounding may step past +-1, which NumPy clips back
    if c.is_complex():
        return torch.complex(c.real.clamp(-1, 1), c.imag.clamp(-1, 1))
    return c.clamp(-1, 1)


def _weights_along(w: torch.Tensor, shape: tuple, axis: tuple | None) -> torch.Tensor:
    """NumPy's check of average's weights, laid out to broadcast against ``a``."""
    if tuple(w.shape) == tuple(shape):
        return w
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    if tuple(w.shape) != tuple(shape[ax] for ax in axis):
        raise ValueError(
            "Shape of weights must be consistent with shape of a along specified axis."
        )
    order = sorted(range(len(axis)), key=lambda i: axis[i])
    return w.permute(*order).reshape([s if ax in axis else 1 for ax, s in enumerate(shape)])


@implements(np.average, axis="many")
def _average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    t = tensor(a)
    axes = (axis,) if isinstance(axis, int) else axis
    if weights is None:
        avg = reduction(_mean, t, axes, None, keepdims, float_only=True)
        count = t.numel() / max(avg.numel(), 1)
        scale = torch.full(avg.shape, count, dtype=avg.dtype, device=avg.device)
    else:
        w = _weights_along(tensor(weights), tuple(t.shape), axes)
        if is_inexact(t.dtype):
            want = result_type(t, w, device_type=STATE.device.type)
        else:  # NumPy averages integers and bools in float64 at the least
            want = result_type(t, w, torch.empty((), dtype=wide()), device_type=STATE.device.type)
        scale = reduction(_sum, w.to(want), axes, None, keepdims)
        if not values_hidden() and bool((scale == 0).any()):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = reduction(_sum, t.to(want) * w.to(want), axes, None, keepdims) / scale
    if not returned:
        return avg
    # the weights' sum, broadcast to the average's shape as NumPy does (a copy)
    return avg, scale.expand(avg.shape).clone() if scale.shape != avg.shape else scale


# -------------------------------------------------------------------- quantiles
def _single(t: torch.Tensor) -> torch.Tensor:
    """float32 for a half-precision tensor: torch's quantile takes float and double."""
    return t.float() if t.dtype in HALF else t


_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")  # torch's


def _quantile(a, q, axis, method, keepdims, pct, nan=False, median=False):
    """``nan``: the nan-variants, through torch.nanquantile (nan places left out, an
    all-nan slice nan as NumPy's; NumPy's RuntimeWarning for it is not repeated, as
    for the other nan-reductions)."""
    kernel = torch.nanquantile if nan else torch.quantile
    if method not in _QUANTILE_METHODS:
        name = f"np.{'nan' if nan else ''}{'percentile' if pct else 'quantile'}"
        raise unsupported(f"{name}(method={method!r}) (followed: {', '.join(_QUANTILE_METHODS)})")
    t0 = tensor(a)
    if t0.is_complex():  # NumPy's median orders them (real part first); torch cannot
        raise unsupported("a median or quantile of complex values")
    t = _single(t0)
    if not t.is_floating_point():
        t = t.to(wide())
    # q takes part in the promotion: a list of floats is a float64 array, a number weak
    qv, qt = unwrap(q), tensor(q)
    base = t0 if is_inexact(t0.dtype) else t
    want = result_type(base, qv if type(qv) in (int, float) else qt, device_type=STATE.device.type)
    if want not in HALF:  # half precision computes in float32 (above) and returns to it
        t = t.to(want)
    top = 100 if pct else 1
    if not values_hidden() and bool(((qt < 0) | (qt > top)).any()):  # NumPy's words
        raise ValueError(f"{'Percentiles' if pct else 'Quantiles'} must be in the range [0, {top}]")
    qq = qt.to(t.dtype) / top
    if t.numel() == 0:  # torch's quantile refuses every empty tensor
        dims = tuple(range(t.ndim)) if axis is None else _dims(axis)
        if not (nan or median) and any(t.shape[d] == 0 for d in dims):
            raise IndexError("index -1 is out of bounds for axis 0 with size 0")  # NumPy's
        # NumPy's median and nan-quantiles of an empty array are its nanmean's (nan,
        # and no axis for q); the sum keeps the (empty) input in the graph, so that its
        # gradient is an empty array
        r = t.sum(dim=dims, keepdim=keepdims) + torch.nan
        if nan:  # the nanmean keeps the input's inexact dtype: q does not promote it
            return r.to(base.dtype)
        r = r.expand((*qq.shape, *r.shape)).clone()
        return r.to(want) if want in HALF else r
    if isinstance(axis, tuple):
        rest = [i for i in range(t.ndim) if i not in axis]
        flat = t.permute(*rest, *axis).reshape([t.shape[i] for i in rest] + [-1])
        r = kernel(flat, qq, dim=-1, interpolation=method)
        if keepdims:
            shape = list(r.shape[: r.ndim - len(rest)]) + [
                1 if i in axis else t.shape[i] for i in range(t.ndim)
            ]
            r = r.reshape(shape)
    else:
        r = kernel(t, qq, dim=axis, keepdim=keepdims, interpolation=method)
    return r.to(want) if want in HALF else r


@implements(np.quantile, axis="many", handles=("method",))
def _np_quantile(
    a,
    q,
    axis=None,
    out=None,
    overwrite_input=False,
    method="linear",
    keepdims=False,
    *,
    weights=None,
):
    if weights is not None:
        raise unsupported("np.quantile(..., weights=...)")
    return _quantile(a, q, axis, method, keepdims, pct=False)


@implements(np.percentile, axis="many", handles=("method",))
def _np_percentile(
    a,
    q,
    axis=None,
    out=None,
    overwrite_input=False,
    method="linear",
    keepdims=False,
    *,
    weights=None,
):
    if weights is not None:
        raise unsupported("np.percentile(..., weights=...)")
    return _quantile(a, q, axis, method, keepdims, pct=True)


@implements(np.median, axis="many")
def _np_median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return _quantile(a, 0.5, axis, "linear", keepdims, pct=False, median=True)


@implements(np.nanquantile, axis="many", handles=("method",))
def _np_nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                    keepdims=False, *, weights=None):  # fmt: skip
    """nan places carry no gradient; an all-nan slice is nan."""
    if weights is not None:
        raise unsupported("np.nanquantile(..., weights=...)")
    return _quantile(a, q, axis, method, keepdims, pct=False, nan=True)


@implements(np.nanpercentile, axis="many", handles=("method",))
def _np_nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                      keepdims=False, *, weights=None):  # fmt: skip
    """nan places carry no gradient; an all-nan slice is nan."""
    if weights is not None:
        raise unsupported("np.nanpercentile(..., weights=...)")
    return _quantile(a, q, axis, method, keepdims, pct=True, nan=True)


@implements(np.nanmedian, axis="many")
def _np_nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """nan places carry no gradient; an all-nan slice is nan."""
    return _quantile(a, 0.5, axis, "linear", keepdims, pct=False, nan=True)
