"""Covariance and correlation: cov, corrcoef (NumPy computes them in float64 at
least, and so does npgrad)."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .._dtypes import result_type
from .._trace._array import tensor
from .._trace._registry import implements
from .._trace._state import STATE, wide


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
