"""Polynomials as coefficient vectors, highest power first: polyadd, polysub, polymul,
polyder, polyint (np.polyval is elementwise in x: ``elementwise``; np.polyfit is least
squares: ``linalg``).  A ``np.poly1d`` argument is refused: NumPy would return a
poly1d, which cannot hold traced coefficients."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._dtypes import result_type
from .._trace._array import tensor
from .._trace._promote import common, no_bool_subtract
from .._trace._registry import implements
from .._trace._state import STATE, unsupported, values_hidden, wide
from .contractions import _convolve


def _vector(p: Any, name: str) -> torch.Tensor:
    """A coefficient vector: NumPy's atleast_1d, and refusals of what is not one."""
    if isinstance(p, np.poly1d):
        raise unsupported(f"{name} of a np.poly1d (pass its coefficients, p.coeffs)")
    t = tensor(p)
    if t.ndim > 1:
        raise unsupported(f"{name} of a {t.ndim}-d array (a 1-d coefficient vector)")
    return t.reshape(1) if t.ndim == 0 else t


def _padded(a1: Any, a2: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Both vectors in NumPy's common dtype, the shorter with zeros in front (its
    highest powers), as np.polyadd lines them up."""
    t1, t2 = common(_vector(a1, name), _vector(a2, name))
    n = max(t1.shape[0], t2.shape[0])
    return (torch.cat([t.new_zeros(n - t.shape[0]), t]) for t in (t1, t2))


@implements(np.polyadd)
def _polyadd(a1, a2):
    t1, t2 = _padded(a1, a2, "np.polyadd")
    return t1 + t2


@implements(np.polysub)
def _polysub(a1, a2):
    t1, t2 = _padded(a1, a2, "np.polysub")
    no_bool_subtract(t1)
    return t1 - t2


@implements(np.polymul)
def _polymul(a1, a2):
    """np.convolve of the two coefficient vectors without their leading zeros (NumPy
    reads both as poly1d, which drops them; an empty or all-zero one is [0]).  The
    dropped zeros get no gradient: the result's length depends on them being zero."""
    return _convolve(*(_leading_zeros_dropped(a) for a in (a1, a2)))


def _leading_zeros_dropped(p: Any) -> torch.Tensor:
    t = _vector(p, "np.polymul")
    if t.numel() == 0:
        return t.new_zeros(1)
    if values_hidden():
        raise unsupported(
            "np.polymul under torch.func or torch.compile (NumPy drops leading zero "
            "coefficients: the result's length is read from the values)"
        )
    nonzero = torch.nonzero(t.detach() != 0)
    return t[int(nonzero[0]) if nonzero.numel() else t.numel() - 1 :]


def _order(m: Any, what: str, other: str) -> int:
    m = int(m)
    if m < 0:
        raise ValueError(f"Order of {what} must be positive (see {other})")
    return m


def _descending(n: int, like: torch.Tensor) -> torch.Tensor:
    """NumPy's ``arange(n, 0, -1)``: int64, so it joins the promotion (float32
    coefficients give float64, as in NumPy)."""
    return torch.arange(max(n, 0), 0, -1, dtype=torch.int64, device=like.device)


@implements(np.polyder)
def _polyder(p, m=1):
    """The m-th derivative: each step multiplies by the powers and drops the constant."""
    m = _order(m, "derivative", "polyint")
    if isinstance(p, np.poly1d):
        raise unsupported("np.polyder of a np.poly1d (pass its coefficients, p.coeffs)")
    t = tensor(p)
    if t.ndim == 0:
        raise TypeError("len() of unsized object")
    if t.ndim > 1:
        raise unsupported(f"np.polyder of a {t.ndim}-d array (a 1-d coefficient vector)")
    for _ in range(m):
        powers = _descending(t.shape[0] - 1, t)
        want = result_type(t, powers, device_type=STATE.device.type)
        t = t[:-1].to(want) * powers.to(want)
    return t


@implements(np.polyint)
def _polyint(p, m=1, k=None):
    """The m-th antiderivative; its constants are k (zeros by default), the first
    joined first, as NumPy's.  A traced k is differentiable (NumPy dispatches on p
    alone: with p a NumPy array NumPy's own code runs, and refuses a traced k)."""
    m = _order(m, "integral", "polyder")
    if isinstance(p, np.poly1d):
        raise unsupported("np.polyint of a np.poly1d (pass its coefficients, p.coeffs)")
    t = tensor(p)
    if t.ndim == 0 and m:
        raise TypeError("len() of unsized object")
    if t.ndim > 1 and m:
        raise unsupported(f"np.polyint of a {t.ndim}-d array (a 1-d coefficient vector)")
    if m == 0:
        return t
    f64 = wide()  # NumPy's float
    if k is None:
        consts = torch.zeros(m, dtype=f64, device=t.device)
    else:
        consts = tensor(k)
        if consts.ndim > 1:
            raise unsupported("np.polyint(..., k=<a 2-d array>) (a number or a 1-d array)")
        consts = consts.reshape(-1)
        if consts.shape[0] == 1 and m > 1:
            # NumPy's k[0] * ones(m, float): k's dtype joins float64's
            ones = torch.ones(m, dtype=f64, device=t.device)
            want = result_type(consts, ones, device_type=STATE.device.type)
            consts = consts.to(want) * ones.to(want)
    if consts.shape[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    for i in range(m):
        powers = _descending(t.shape[0], t)
        want = result_type(t, powers, torch.empty((), dtype=f64), device_type=STATE.device.type)
        t = t.to(want) / powers.to(want)
        t, c = common(t, consts[i : i + 1])
        t = torch.cat([t, c])
    return t
