"""Searching and counting: searchsorted, digitize, isin, bincount, lexsort.

Their results are integers or booleans (no gradient), except bincount's sums of
weights.  NumPy's order puts nan after everything, +inf included; torch's binary
search and sort are told so where they would differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._dtypes import TORCH_TO_NP, UNSIGNED_WIDE, is_inexact, ordered_int64
from .._errors import TraceError
from .._trace._array import tensor, unwrap
from .._trace._promote import common
from .._trace._registry import implements
from .._trace._state import abstract, here, unsupported, wide


def _readable(name: str, what: str) -> None:
    """Refuse where values cannot be read (torch.func, torch.compile)."""
    if abstract() or torch.compiler.is_compiling():
        raise TraceError(
            f"{here()}: {name} needs {what} here, which cannot be read under torch.func or "
            "torch.compile; call it outside the transform, or use mode='numeric'"
        )


def _orderable(t: torch.Tensor, name: str) -> torch.Tensor:
    """A tensor torch's sort and search take, in the same order: bool as uint8, the
    wide unsigned integers as int64 (uint64's order kept by the sign flip)."""
    if t.is_complex():
        raise unsupported(f"{name} of complex values")
    if t.dtype is torch.bool:
        return t.to(torch.uint8)
    if t.dtype in UNSIGNED_WIDE:
        flip = t.dtype is torch.uint64
        t = t.to(torch.int64)
        return ordered_int64(t) if flip else t
    return t


def _search(a: torch.Tensor, v: torch.Tensor, right: bool, name: str) -> torch.Tensor:
    """np.searchsorted's indices of the 1-d ``a`` (sorted in NumPy's order) for ``v``."""
    a, v = common(a, v)
    a, v = _orderable(a, name), _orderable(v, name)
    side = "right" if right else "left"
    if not is_inexact(a.dtype):
        return torch.searchsorted(a, v, side=side)
    # nan sorts last: searched as +inf, then the places where nan and +inf differ
    # (nan itself; +inf searched from the right, which stops before a's nans)
    an, vn = torch.isnan(a), torch.isnan(v)
    r = torch.searchsorted(torch.where(an, torch.inf, a), torch.where(vn, 0, v), side=side)
    finite = (~an).sum()
    if right:
        r = torch.where(v == torch.inf, finite, r)
    return torch.where(vn, a.numel() if right else finite, r)


def _side(side: Any) -> bool:
    if side not in ("left", "right"):
        raise ValueError(f"search side must be 'left' or 'right' (got {side!r})")
    return side == "right"


@implements(np.searchsorted, methods=("searchsorted",), differentiable=False)
def _np_searchsorted(a, v, side="left", sorter=None):
    """Indices in int64 (NumPy's intp); nan sorts after +inf, as in NumPy."""
    right = _side(side)
    t = tensor(a)
    if t.ndim != 1:
        raise ValueError(
            "object too deep for desired array"
            if t.ndim > 1
            else "object of too small depth for desired array"
        )
    if sorter is not None:
        s = tensor(sorter)
        if s.is_floating_point() or s.is_complex() or s.dtype is torch.bool:
            raise TypeError("sorter must only contain integers")
        if s.shape != t.shape:
            raise ValueError("sorter.size must equal a.size")
        t = t[s.to(torch.int64)]  # the sorted sequence itself (an index past a: IndexError)
    return _search(t, tensor(v), right, "np.searchsorted")


def _monotonic(bins: torch.Tensor) -> int:
    """NumPy's _monotonicity: 1 increasing, -1 decreasing, 0 neither (nan: neither)."""
    if bins.numel() < 2:
        return 1
    lo, hi = bins[:-1], bins[1:]
    if bool((hi >= lo).all()):
        return 1
    if bool((hi <= lo).all()):
        return -1
    return 0


@implements(np.digitize, differentiable=False)
def _np_digitize(x, bins, right=False):
    """NumPy's digitize: searchsorted on the bins, reversed where they decrease; the
    bins' direction is read from their values (refused where they cannot be read)."""
    t, b = tensor(x), tensor(bins)
    if t.is_complex():
        raise TypeError("x may not be complex")
    if b.ndim != 1:
        raise ValueError("object too deep for desired array")
    if isinstance(unwrap(bins), torch.Tensor):
        _readable("np.digitize", "its bins' values (to tell increasing from decreasing)")
    mono = _monotonic(_orderable(b, "np.digitize"))
    if mono == 0:
        raise ValueError("bins must be monotonically increasing or decreasing")
    # NumPy searches from the other side: right=False counts bins <= x
    if mono == -1:
        return b.numel() - _search(b.flip(0), t, not right, "np.digitize")
    return _search(b, t, not right, "np.digitize")


@implements(np.isin, differentiable=False)
def _np_isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """torch.isin in the common dtype; nan is in nothing, as in NumPy.  assume_unique=
    only lets NumPy go faster: the result is computed exactly either way."""
    e, s = common(tensor(element), tensor(test_elements))
    if e.is_complex():
        raise unsupported("np.isin of complex values")
    e, s = _orderable(e, "np.isin"), _orderable(s, "np.isin")
    return torch.isin(e, s.reshape(-1), invert=bool(invert))


@implements(np.bincount)
def _np_bincount(x, /, weights=None, minlength=0):
    """Counts (int64) or sums of weights (float64, differentiable in the weights).  The
    length is max(x) + 1: read from the values (refused where they cannot be read)."""
    t = tensor(x)
    if t.is_floating_point() or t.is_complex():
        raise TypeError(
            f"Cannot cast array data from dtype('{TORCH_TO_NP[t.dtype]}') to "
            "dtype('int64') according to the rule 'safe'"
        )
    if t.dtype is torch.uint64:
        raise unsupported("np.bincount of uint64")
    if t.ndim != 1:
        raise ValueError("object too deep for desired array" if t.ndim > 1 else "object of too "
                         "small depth for desired array")  # fmt: skip
    minlength = int(minlength)
    if minlength < 0:
        raise ValueError("'minlength' must not be negative")
    _readable("np.bincount", "the largest of its values (the result's length)")
    t = t.to(torch.int64)
    if t.numel() and bool((t < 0).any()):
        raise ValueError("'list' argument must have no negative elements")
    n = max(int(t.max()) + 1 if t.numel() else 0, minlength)
    if weights is None:
        return torch.bincount(t, minlength=n)
    w = tensor(weights)
    if w.shape != t.shape:
        raise ValueError("The weights and list don't have the same length.")
    if w.is_complex():
        raise TypeError("Cannot cast array data from dtype('complex128') to dtype('float64')")
    w = w.to(wide())  # NumPy sums the weights in float64
    # index_add: differentiable in the weights, where torch.bincount is not
    return torch.zeros(n, dtype=w.dtype, device=w.device).index_add(0, t, w)


@implements(np.lexsort, axis="row", differentiable=False)
def _np_lexsort(keys, axis=-1):
    """Indices (int64) sorting by the last key first, ties broken by the earlier ones:
    stable sorts from the first key to the last."""
    t = tensor(keys) if not isinstance(keys, list | tuple) else None
    if t is not None:
        if t.ndim < 2:
            raise unsupported("np.lexsort of a 0-d or 1-d array (a sequence of arrays)")
        parts = list(t.unbind(0))
    else:
        parts = [tensor(k) for k in keys]
    if not parts:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    shape = parts[0].shape
    if any(p.shape != shape for p in parts):
        raise ValueError("all keys need to be the same shape")
    if not parts[0].ndim:
        raise unsupported("np.lexsort of 0-d keys")
    ndim = len(shape)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    order = None
    for p in parts:
        p = _orderable(p, "np.lexsort")
        if order is not None:
            p = torch.take_along_dim(p, order, dim=axis)
        idx = torch.argsort(p, dim=axis, stable=True)
        order = idx if order is None else torch.take_along_dim(order, idx, dim=axis)
    return order
