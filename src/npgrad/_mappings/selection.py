"""Selection and comparison: where, select, choose, compress, extract, clip, take,
sort, triangles and diagonals."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import torch

from .._dtypes import (
    TORCH_TO_NP,
    UNSIGNED_WIDE,
    from_int64,
    is_inexact,
    ordered_int64,
    result_type,
    to_int64,
)
from .._trace._array import tensor, unwrap
from .._trace._promote import check_fits, common
from .._trace._registry import implements, normalise_axis
from .._trace._state import STATE, constant, values_hidden, wide
from .search import _readable, _traced


@implements(np.select)
def _select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(choicelist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    xs = [unwrap(c) for c in choicelist] + [unwrap(default)]
    want = result_type(*xs, device_type=STATE.device.type)
    ts = [constant(v, STATE.device) if not isinstance(v, torch.Tensor) else v for v in xs]
    ts = [v.to(want) if v.dtype != want else v for v in ts]
    conds = [tensor(c) for c in condlist]
    if any(c.dtype != torch.bool for c in conds):
        raise TypeError("invalid entry in condlist: should be boolean ndarray")
    out = ts[-1]
    for c, v in zip(reversed(conds), reversed(ts[:-1])):  # the first true condition wins
        out = torch.where(c, v, out)
    return torch.broadcast_to(
        out, torch.broadcast_shapes(*(t.shape for t in ts), *(c.shape for c in conds))
    )


@implements(np.choose, methods=("choose",))
def _choose(a, choices, out=None, mode="raise"):
    """``choices[a[i]][i]``, a and the choices broadcast together (mode='raise' only):
    the gradient goes to the chosen element of each place.  The range of a traced
    ``a`` is checked where values can be read (under torch.func and torch.compile,
    torch.gather's own bound check applies)."""
    idx = tensor(a)
    if is_inexact(idx.dtype):
        raise TypeError(
            f"Cannot cast array data from dtype('{TORCH_TO_NP[idx.dtype]}') to "
            "dtype('int64') according to the rule 'safe'"
        )
    parts = list(choices) if isinstance(choices, (list, tuple)) else list(tensor(choices))
    if not parts:
        raise ValueError("0-length sequence.")
    xs = [unwrap(c) for c in parts]
    want = result_type(*xs, device_type=STATE.device.type)  # numbers weak, as NumPy's
    ts = [(v if isinstance(v, torch.Tensor) else constant(v)).to(want) for v in xs]
    shape = torch.broadcast_shapes(idx.shape, *(t.shape for t in ts))
    idx = idx.to(torch.int64).expand(shape)
    if not (values_hidden() and _traced(a)) and bool(((idx < 0) | (idx >= len(ts))).any()):
        raise ValueError("invalid entry in choice array")
    stacked = torch.stack([t.expand(shape) for t in ts])
    return torch.gather(stacked, 0, idx.unsqueeze(0)).squeeze(0)


def _true_places(condition, n: int, axis: int, name: str) -> torch.Tensor:
    """The flat positions where ``condition`` is nonzero, among the first ``n``; their
    number is the result's length, so a traced condition is read (refused under
    torch.func and torch.compile), a NumPy constant is read as NumPy reads it."""
    if _traced(condition):
        _readable(name, "the condition's values (how many places it keeps)")
        places = torch.nonzero(tensor(condition).reshape(-1)).reshape(-1)
        last = int(places[-1]) if places.numel() else -1
    else:
        found = np.flatnonzero(np.asarray(condition))
        places = constant(found)
        last = int(found[-1]) if found.size else -1
    if last >= n:
        raise IndexError(f"index {last} is out of bounds for axis {axis} with size {n}")
    return places


def _compress_method(self, condition, axis=None, out=None):
    return np.compress(condition, self, axis=axis, out=out)


@implements(np.compress, axis="row", methods=(("compress", _compress_method),))
def _compress(condition, a, axis=None, out=None):
    """The slices along ``axis`` (of the flat array for None) where the 1-d condition
    is nonzero; a condition shorter than the axis leaves out the rest."""
    t = tensor(a)
    ndim = tensor(condition).ndim if _traced(condition) else np.ndim(condition)
    if ndim != 1:
        raise ValueError("condition must be a 1-d array")
    if axis is None:
        t, axis = t.reshape(-1), 0
    else:
        axis = normalise_axis(axis, t.ndim, many=False, name="compress")
    places = _true_places(condition, t.shape[axis], axis, "np.compress")
    return torch.index_select(t, axis, places)


@implements(np.extract)
def _extract(condition, arr):
    """The flat elements where the (flattened) condition is nonzero."""
    t = tensor(arr).reshape(-1)
    return t[_true_places(condition, t.shape[0], 0, "np.extract")]


@implements(np.where)
def _where(condition, x=None, y=None, /):
    if x is None and y is None:
        return _nonzero(condition)
    c = tensor(condition).to(torch.bool)
    xs = [unwrap(x), unwrap(y)]
    want = result_type(*xs, device_type=STATE.device.type)
    if want is None:  # two numbers: NumPy's array of them
        xs[0] = constant(xs[0], c.device)
        want = result_type(*xs, device_type=STATE.device.type)
    xs = [v.to(want) if isinstance(v, torch.Tensor) and v.dtype != want else v for v in xs]
    return torch.where(c, *xs)


_NO = np._NoValue


def _clip_method(self, min=None, max=None, out=None, **kwargs):
    return np.clip(self, min, max, out=out, **kwargs)


def _bound_int64(v: Any, unsigned: torch.dtype) -> Any:
    """A bound of a uint16/32/64 clip in to_int64's ordered int64 (a tensor already
    cast to the array's dtype, or a Python int)."""
    if v is None:
        return None
    if isinstance(v, torch.Tensor):
        return to_int64(v, ordered=True)[0]
    return ordered_int64(v) if unsigned is torch.uint64 else v


def _dropped(v: Any, dtype: torch.dtype, *, low: bool) -> Any:
    """NumPy 2's clip of an integer array drops a Python int bound at or past the
    dtype's limit on its own side (cast, -1 would wrap to a uint8 255 and clamp every
    element to it); one past the other limit is the ufunc's OverflowError, later."""
    if type(v) is not int:
        return v
    info = np.iinfo(TORCH_TO_NP[dtype])
    return None if ((v <= info.min) if low else (v >= info.max)) else v


@implements(np.clip, methods=(("clip", _clip_method),))
def _clip(a, a_min=_NO, a_max=_NO, out=None, *, min=_NO, max=_NO):
    lo = a_min if a_min is not _NO else (None if min is _NO else min)
    hi = a_max if a_max is not _NO else (None if max is _NO else max)
    t = tensor(a)
    lo, hi = unwrap(lo), unwrap(hi)
    if not (t.is_floating_point() or t.is_complex() or t.dtype is torch.bool):
        lo, hi = _dropped(lo, t.dtype, low=True), _dropped(hi, t.dtype, low=False)
    if lo is None and hi is None:
        if t.dtype is torch.bool:  # NumPy's identity of no bounds is np.positive
            raise TypeError("np.clip: no bounds of a bool array (np.positive has no bool loop)")
        return t.clone()
    want = result_type(t, *(v for v in (lo, hi) if v is not None),
                       device_type=STATE.device.type)  # fmt: skip
    check_fits(lo, want)
    check_fits(hi, want)
    if want != t.dtype:
        t = t.to(want)
    if isinstance(lo, torch.Tensor) or isinstance(hi, torch.Tensor):
        lo = None if lo is None else torch.as_tensor(lo, dtype=t.dtype, device=t.device)
        hi = None if hi is None else torch.as_tensor(hi, dtype=t.dtype, device=t.device)
    if t.dtype in UNSIGNED_WIDE:  # no uint16/32/64 clamp kernel: int64, then back
        wide_t, unsigned = to_int64(t, ordered=True)
        lo, hi = (_bound_int64(v, unsigned) for v in (lo, hi))
        return from_int64(torch.clamp(wide_t, lo, hi), unsigned, ordered=True)
    return torch.clamp(t, lo, hi)


@implements(np.take_along_axis, axis="row")
def _take_along_axis(arr, indices, axis=-1):
    # through gather, which refuses an index out of range (take_along_dim wraps it)
    t, idx = tensor(arr), tensor(indices)
    if axis is None:
        t, idx, axis = t.reshape(-1), idx.reshape(-1), 0
    if idx.ndim != t.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    if not -t.ndim <= axis < t.ndim:
        raise np.exceptions.AxisError(axis, t.ndim)
    axis %= t.ndim
    n = t.shape[axis]
    idx = torch.where(idx < 0, idx + n, idx)
    # the other dimensions broadcast, as in NumPy
    common_shape = list(
        torch.broadcast_shapes(
            t.shape[:axis] + (1,) + t.shape[axis + 1 :],
            idx.shape[:axis] + (1,) + idx.shape[axis + 1 :],
        )
    )
    t = t.expand(common_shape[:axis] + [n] + common_shape[axis + 1 :])
    idx = idx.expand(common_shape[:axis] + [idx.shape[axis]] + common_shape[axis + 1 :])
    return torch.gather(t, axis, idx)


@implements(np.take, axis="one", methods=("take",), handles=("mode",))
def _take(a, indices, axis=None, out=None, mode="raise"):
    t, idx = tensor(a), tensor(indices)
    if axis is None:
        t, axis = t.reshape(-1), 0
    n = t.shape[axis]
    flat = idx.reshape(-1)
    if not flat.is_floating_point() and flat.dtype not in (torch.int64, torch.bool):
        flat = flat.long()  # uint8 or int16 labels: torch's index_select takes int64
    if mode == "wrap":
        flat = torch.remainder(flat, n) if n else flat
    elif mode == "clip":  # NumPy's clip: negative indices go to 0, not from the end
        flat = flat.clamp(0, max(n - 1, 0))
    elif mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    flat = torch.where(flat < 0, flat + n, flat)
    return torch.index_select(t, axis, flat).reshape(
        t.shape[:axis] + idx.shape + t.shape[axis + 1 :]
    )


@implements(np.sort, axis="one", handles=("kind",))
def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    t = tensor(a)
    if t.ndim == 0 and axis is not None:  # torch sorts a 0-d tensor along "axis -1"
        raise np.exceptions.AxisError(axis, 0)
    if axis is None:
        t, axis = t.reshape(-1), 0
    return torch.sort(t, dim=axis, stable=True).values


def _argsort_method(self, axis=-1, kind=None, order=None, *, stable=None):
    return np.argsort(self, axis=axis, kind=kind, order=order, stable=stable)


@implements(np.argsort, axis="one", handles=("kind",), differentiable=False,
            methods=(("argsort", _argsort_method),))  # fmt: skip
def _argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    t = tensor(a)
    if axis is None or t.ndim == 0:  # NumPy's argsort of a 0-d array: its flat one
        t, axis = t.reshape(-1), 0
    return torch.argsort(t, dim=axis, stable=True)


def _nonzero_method(self):
    return np.nonzero(self)


# NumPy 2.1 refuses a 0-d array's nonzero (before, a deprecation warning and the
# array's atleast_1d answer)
_NONZERO_0D_REFUSED = np.lib.NumpyVersion(np.__version__) >= "2.1.0"


@implements(np.nonzero, differentiable=False, methods=(("nonzero", _nonzero_method),))
def _nonzero(a):
    t = tensor(a)
    if t.ndim == 0 and _NONZERO_0D_REFUSED:
        raise ValueError(
            "Calling nonzero on 0d arrays is not allowed. Use np.atleast_1d(scalar).nonzero() "
            "instead. If the context of this error is of the form `arr[nonzero(cond)]`, just "
            "use `arr[cond]`."
        )
    return tuple(torch.nonzero(t, as_tuple=True))


@implements(np.flatnonzero, differentiable=False)
def _flatnonzero(a):
    return torch.nonzero(tensor(a).reshape(-1)).reshape(-1)


@implements(np.argwhere, differentiable=False)
def _argwhere(a):
    return torch.nonzero(tensor(a))


@implements(np.diag)
def _diag(v, k=0):
    t = tensor(v)
    if t.ndim == 2:
        # NumPy gives a view of the diagonal (torch.diag a copy): writes into either
        # are then refused as aliases, never missed
        return torch.diagonal(t, k)
    return torch.diag(t, k)


@implements(np.diagflat)
def _diagflat(v, k=0):
    """The flattened input on the k-th diagonal of a square matrix of zeros."""
    return torch.diagflat(tensor(v), operator.index(k))


@implements(np.diagonal, methods=("diagonal",), matrix="diag")
def _diagonal(a, offset=0, axis1=0, axis2=1):
    return torch.diagonal(tensor(a), offset, axis1, axis2)


def _square_rows(t: torch.Tensor) -> torch.Tensor:
    # NumPy's triu/tril broadcast a vector against its (n, n) mask: n copies of it
    return t.expand(t.shape[0], t.shape[0]) if t.ndim == 1 else t


@implements(np.triu)
def _triu(m, k=0):
    return torch.triu(_square_rows(tensor(m)), operator.index(k))


@implements(np.tril)
def _tril(m, k=0):
    return torch.tril(_square_rows(tensor(m)), operator.index(k))


@implements(np.nan_to_num)
def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return torch.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


@implements(np.allclose, differentiable=False)
def _allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    ta, tb = common(tensor(a), tensor(b))
    if not is_inexact(ta.dtype):
        ta, tb = ta.to(wide()), tb.to(wide())
    return bool(torch.allclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan))


@implements(np.isclose, differentiable=False)
def _isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    ta, tb = common(tensor(a), tensor(b))
    return torch.isclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _rounded(a: Any, decimals: int) -> torch.Tensor:
    t = tensor(a)
    if not is_inexact(t.dtype):
        if decimals >= 0:
            return t.clone()  # NumPy leaves integers as they are
        scale = 10 ** (-decimals)  # to tens, hundreds, ...: half to even, as NumPy
        return (torch.round(t.double() / scale) * scale).to(t.dtype)
    if t.is_complex():  # each part on its own, as NumPy
        return torch.complex(*(torch.round(p, decimals=decimals) for p in (t.real, t.imag)))
    return torch.round(t, decimals=decimals)


def _round_method(self, decimals=0, out=None):
    return np.round(self, decimals, out=out)


@implements(np.round, methods=(("round", _round_method),))
def _round(a, decimals=0, out=None):
    return _rounded(a, decimals)


if np.around is not np.round:

    @implements(np.around)
    def _around(a, decimals=0, out=None):
        return _rounded(a, decimals)


def _check_kth(t: torch.Tensor, kth, axis: int) -> None:
    n = t.shape[axis]
    ks = unwrap(kth)
    ks = ks.tolist() if isinstance(ks, torch.Tensor) else ks  # an integer array: readable
    for k in np.asarray(ks).reshape(-1):
        if not -n <= int(k) < n:
            raise ValueError(f"kth(={int(k)}) out of bounds ({n})")


# a full sort is one valid partition for every kth: the kth elements are NumPy's,
# the order of the others is unspecified in NumPy too
@implements(np.partition, axis="one", handles=("kind",))
def _partition(a, kth, axis=-1, kind="introselect", order=None):
    t = tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    _check_kth(t, kth, axis)
    return torch.sort(t, dim=axis, stable=True).values


@implements(np.argpartition, axis="one", handles=("kind",), differentiable=False)
def _argpartition(a, kth, axis=-1, kind="introselect", order=None):
    t = tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    _check_kth(t, kth, axis)
    return torch.argsort(t, dim=axis, stable=True)
