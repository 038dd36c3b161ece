"""Searching and counting: searchsorted, digitize, isin, bincount, lexsort, unique
(and NumPy 2's unique_values, unique_counts, unique_inverse, unique_all), histogram,
histogram_bin_edges, histogram2d.

Their results are integers or booleans (no gradient), except bincount's sums of
weights.  NumPy's order puts nan after everything, +inf included; torch's binary
search and sort are told so where they would differ.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
from typing import Any

import numpy as np
import torch

from .._dtypes import TORCH_TO_NP, is_inexact, result_type, to_int64
from .._errors import TraceError
from .._trace._array import TracedArray, tensor
from .._trace._promote import common
from .._trace._registry import implements, normalise_axis
from .._trace._state import STATE, here, unsupported, values_hidden, wide


def _readable(name: str, what: str) -> None:
    """Refuse where values cannot be read (torch.func, torch.compile)."""
    if values_hidden():
        raise TraceError(
            f"{here()}: {name} needs {what} here, which cannot be read under torch.func or "
            "torch.compile; call it outside the transform, or use mode='numeric'"
        )


def _traced(x: Any) -> bool:
    """Whether ``x``'s values come from the trace (a traced array, or a NumPy array a
    compiled trace lifts to an input), so cannot be read under torch.func or
    torch.compile; a NumPy constant can always be read (as NumPy)."""
    return isinstance(x, (TracedArray, torch.Tensor)) or id(x) in STATE.lifted


def _orderable(t: torch.Tensor, name: str) -> torch.Tensor:
    """A tensor torch's sort and search take, in the same order: bool as uint8, the
    wide unsigned integers as int64 (uint64's order kept by the sign flip)."""
    if t.is_complex():
        raise unsupported(f"{name} of complex values")
    if t.dtype is torch.bool:
        return t.to(torch.uint8)
    return to_int64(t, ordered=True)[0]


def _search(a: torch.Tensor, v: torch.Tensor, right: bool, name: str) -> torch.Tensor:
    """np.searchsorted's indices of the 1-d ``a`` (sorted in NumPy's order) for ``v``."""
    a, v = common(a, v)
    a, v = _orderable(a, name), _orderable(v, name)
    side = "right" if right else "left"
    if not is_inexact(a.dtype):
        # torch warns of strided boundaries or values
        return torch.searchsorted(a.contiguous(), v.contiguous(), side=side)
    # nan sorts last: searched as +inf, then the places where nan and +inf differ
    # (nan itself; +inf searched from the right, which stops before a's nans)
    an, vn = torch.isnan(a), torch.isnan(v)
    r = torch.searchsorted(
        torch.where(an, torch.inf, a), torch.where(vn, 0, v).contiguous(), side=side
    )
    finite = (~an).sum()
    if right:
        r = torch.where(v == torch.inf, finite, r)
    return torch.where(vn, a.numel() if right else finite, r)


def _side(side: Any) -> bool:
    if side not in ("left", "right"):
        raise ValueError(f"np.searchsorted: search side must be 'left' or 'right' (got {side!r})")
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


def _monotonic(bins: np.ndarray) -> int:
    """NumPy's _monotonicity (on float64, as NumPy's): 1 increasing, -1 decreasing, 0
    neither.  The direction is set by the first value that differs from the first
    (by ==: a leading nan reads as decreasing), then any pair going the other way
    makes it neither."""
    b = bins.astype(np.float64)
    if b.size < 2:
        return 1
    differs = np.flatnonzero(b[1:] != b[0])
    if not differs.size:
        return 1
    lo, hi = b[:-1], b[1:]
    if b[0] < b[differs[0] + 1]:
        return 0 if bool((lo > hi).any()) else 1
    return 0 if bool((lo < hi).any()) else -1


@implements(np.digitize, differentiable=False)
def _np_digitize(x, bins, right=False):
    """NumPy's digitize: searchsorted on the bins, reversed where they decrease; the
    bins' direction is read from their values (refused where a traced array's cannot
    be read).  nan bins are followed where they come last in the order searched
    (NumPy's nan-last order); elsewhere NumPy's search of an unsorted sequence is
    refused."""
    t, b = tensor(x), tensor(bins)
    if t.is_complex():
        raise TypeError("x may not be complex")
    if b.ndim != 1:
        raise ValueError("object too deep for desired array")
    if b.is_complex():
        raise unsupported("np.digitize of complex bins")
    if _traced(bins):
        what = "its bins' values (to tell increasing from decreasing)"
        if id(bins) in STATE.lifted:
            # a NumPy array the function captures is an input of the compiled graph
            # (a later change to it reaches the compiled code): its values are not read
            what += ", a NumPy array the function captures (give the bins as a list or tuple)"
        _readable("np.digitize", what)
        values = b.detach().cpu().numpy()
    else:
        values = np.asarray(bins)
    mono = _monotonic(values)
    if mono == 0:
        raise ValueError("bins must be monotonically increasing or decreasing")
    searched = values if mono == 1 else values[::-1]
    nan = np.isnan(searched) if searched.dtype.kind in "fc" else np.zeros(0, bool)
    if nan.any() and not nan[int(np.argmax(nan)) :].all():
        raise TraceError(
            f"{here()}: np.digitize with nan bins followed only where the nans come "
            "last in the order searched (NumPy's search of bins out of order is its own)"
        )
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
    if minlength is None:
        raise TypeError("use 0 instead of None for minlength")
    minlength = operator.index(minlength)  # NumPy's TypeError for a float
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
    if not hasattr(type(axis), "__index__"):
        raise TypeError(f"integer argument expected, got {type(axis).__name__}")
    axis = operator.index(axis)
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


def _groups(keys: list[torch.Tensor], equal_nan: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The stable order of rows given as columns ``keys`` (the first the most
    significant) and the mask of each sorted row that starts a new value."""
    order = None
    for k in reversed(keys):  # least significant first; stable sorts keep the rest
        k = k if order is None else k[order]
        idx = torch.argsort(k, stable=True)
        order = idx if order is None else order[idx]
    n = keys[0].numel()
    new = torch.ones(n, dtype=torch.bool, device=keys[0].device)
    if n > 1:
        differs = torch.zeros(n - 1, dtype=torch.bool, device=new.device)
        for k in keys:
            s = k[order]
            step = s[1:] != s[:-1]
            if equal_nan and is_inexact(s.dtype):
                step = step & ~(torch.isnan(s[1:]) & torch.isnan(s[:-1]))
            differs = differs | step
        new[1:] = differs
    return order, new


@implements(np.unique, axis="row")
def _np_unique(
    ar,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    *,
    equal_nan=True,
    sorted=True,
):
    """The sorted unique values (or slices along ``axis``), with NumPy's index, inverse
    and counts.  The values are the input's elements at the first occurrence of each
    (return_index's): the gradient goes there, none to the later repeats.  The number
    of unique values is read from the data (refused under torch.func, torch.compile)."""
    if not sorted:
        raise unsupported("np.unique(..., sorted=False) (an order NumPy leaves open)")
    t = tensor(ar)
    if t.is_complex():
        raise unsupported("np.unique of complex values")
    _readable("np.unique", "its values (how many are unique)")
    if axis is None:
        flat = t.reshape(-1)
        order, new = _groups([_orderable(flat, "np.unique")], bool(equal_nan))
        first = order[new]
        values = flat[first]
    else:
        axis = normalise_axis(axis, t.ndim, many=False, name="unique")
        moved = t.movedim(axis, 0)
        rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))
        if is_inexact(rows.dtype) and bool(torch.isnan(rows).any()):
            # NumPy compares slices as structured records, whose nan order is its own
            raise unsupported("np.unique(..., axis=...) of slices holding nan")
        keys = list(_orderable(rows, "np.unique").unbind(1))
        if keys:
            order, new = _groups(keys, False)
        else:  # empty slices are all equal, as NumPy's empty records: one value
            order = torch.arange(rows.shape[0], device=t.device)
            new = order == 0
        first = order[new]
        values = moved[first].movedim(0, axis)
    extra = []
    if return_index:
        extra.append(first)
    if return_inverse:
        inverse = torch.empty_like(order)
        inverse[order] = torch.cumsum(new, 0) - 1
        extra.append(inverse.reshape(t.shape) if axis is None else inverse)
    if return_counts:
        starts = torch.nonzero(new).reshape(-1)
        ends = torch.cat([starts[1:], starts.new_tensor([new.numel()])])
        extra.append(ends - starts)
    return (values, *extra) if extra else values


# NumPy 2's array-API spellings of np.unique: equal_nan=False, namedtuple results
_RESULTS = {f: type(f(np.zeros(1))) for f in (np.unique_counts, np.unique_inverse, np.unique_all)}


@functools.cache
def _sorts(dtype: torch.dtype) -> bool:
    """Whether np.unique_values returns ``dtype``'s values sorted.  NumPy 2.3 finds them
    by a hash table where it has one for the dtype (integers: their order is the
    table's) and sorts the rest; NumPy's own test of the dtype is asked, since which
    dtypes hash may change (before 2.3 every dtype was sorted)."""
    probe = getattr(sys.modules.get("numpy.lib._arraysetops_impl"), "_unique_hash", None)
    if probe is None:  # NumPy before 2.3 sorts every dtype; a later one, unknown: refused
        return np.lib.NumpyVersion(np.__version__) < "2.3.0"
    twin = TORCH_TO_NP.get(dtype)  # bfloat16 has none: NumPy never sees it, refused
    return twin is not None and probe(np.zeros(1, twin), equal_nan=False) is NotImplemented


@implements(np.unique_values)
def _np_unique_values(x):
    """np.unique(x, equal_nan=False) where NumPy sorts the values (floats, bools);
    integers, which NumPy returns in a hash table's order, are refused."""
    t = tensor(x)
    if not t.is_complex() and not _sorts(t.dtype):
        shown = TORCH_TO_NP.get(t.dtype, t.dtype)
        raise unsupported(
            f"np.unique_values of {shown} (NumPy returns them in its hash table's order; "
            "np.unique(x) gives them sorted)"
        )
    return _np_unique(t, equal_nan=False)


@implements(np.unique_counts)
def _np_unique_counts(x):
    """np.unique(x, return_counts=True, equal_nan=False) as NumPy's named result."""
    return _RESULTS[np.unique_counts](*_np_unique(x, return_counts=True, equal_nan=False))


@implements(np.unique_inverse)
def _np_unique_inverse(x):
    """np.unique(x, return_inverse=True, equal_nan=False); the inverse has x's shape."""
    r = _np_unique(x, return_inverse=True, equal_nan=False)
    return _RESULTS[np.unique_inverse](*r)


@implements(np.unique_all)
def _np_unique_all(x):
    """Values, first indices, inverse and counts (equal_nan=False); the values' gradient
    goes to each value's first occurrence, as np.unique's."""
    r = _np_unique(x, True, True, True, equal_nan=False)
    return _RESULTS[np.unique_all](*r)


def _uniform_edges(
    t: torch.Tensor, bins: int, range: Any, name: str, dd: bool = False
) -> torch.Tensor:
    """NumPy's edges for ``bins`` equal bins: linspace of the range (given, or the data's
    min and max, widened by 0.5 each way where they are equal), in NumPy's dtypes.  From
    the data they are differentiable (through min and max)."""
    if range is not None:
        first, last = range
        if first > last:
            raise ValueError("max must be larger than min in range parameter.")
        if not (np.isfinite(first) and np.isfinite(last)):
            raise ValueError(f"supplied range of [{first}, {last}] is not finite")
        if first == last:
            first, last = first - 0.5, last + 0.5
        # np.histogram computes in the data's dtype; histogramdd's linspace in the range's
        like = 1.0 if dd else np.empty(0, TORCH_TO_NP[t.dtype])
        kind = np.result_type(first, last, like)
        kind = np.result_type(kind, float) if np.issubdtype(kind, np.integer) else kind
        # constants: NumPy's own linspace gives them exactly
        edges = np.linspace(first, last, bins + 1, endpoint=True, dtype=kind)
        return torch.as_tensor(edges, device=t.device)
    if t.numel() == 0:
        return torch.as_tensor(np.linspace(0, 1, bins + 1), device=t.device)
    _readable(name, "the data's range (bins from its min and max)")
    lo, hi = t.min(), t.max()
    if not bool(torch.isfinite(lo) & torch.isfinite(hi)):
        raise ValueError(f"autodetected range of [{lo.item()}, {hi.item()}] is not finite")
    if not is_inexact(t.dtype):
        lo, hi = lo.to(wide()), hi.to(wide())  # NumPy's int - 0.5 and linspace: float64
    if bool(lo == hi):
        lo, hi = lo - 0.5, hi + 0.5
    # np.linspace's arithmetic: points i * step + first, the last one exactly last
    step = (hi - lo) / bins
    y = torch.arange(bins + 1, dtype=lo.dtype, device=lo.device) * step + lo
    return torch.cat([y[:-1], hi.reshape(1)])


def _histogram_data(a: Any, name: str) -> torch.Tensor:
    t = tensor(a).reshape(-1)
    if t.is_complex() or t.dtype is torch.bool:
        # (NumPy warns of booleans and counts them as uint8)
        raise unsupported(f"{name} of {t.dtype}")
    return t


def _edges(t: torch.Tensor, bins: Any, range: Any, name: str) -> torch.Tensor:
    """np.histogram's bin edges for the flat data ``t``: the given ones (checked), or
    ``bins`` equal bins over range= or the data's min and max."""
    if isinstance(bins, str):
        raise unsupported(f"{name}(..., bins={bins!r}) (followed: a number or edges)")
    traced = _traced(bins)
    if (tensor(bins).ndim if traced else np.ndim(bins)) == 1:
        edges = tensor(bins)
        if traced:
            _readable(name, "its edges' values (to check their order)")
            values = edges.detach().cpu().numpy()
        else:  # a constant's values are read as NumPy reads them, under any transform
            values = np.asarray(bins)
        if values.dtype.kind in "fc" and np.isnan(values).any():
            raise unsupported(f"{name} with nan among the edges")
        if (values[:-1] > values[1:]).any():
            raise ValueError("`bins` must increase monotonically, when an array")
    elif (tensor(bins).ndim if traced else np.ndim(bins)) == 0:
        try:
            n = operator.index(bins)
        except TypeError as e:
            raise TypeError("`bins` must be an integer, a string, or an array") from e
        if n < 1:
            raise ValueError("`bins` must be positive, when an integer")
        edges = _uniform_edges(t, n, range, name)
        if bool((edges[:-1] >= edges[1:]).any()):
            raise ValueError(f"Too many bins for data range. Cannot create {n} finite-sized bins.")
    else:
        raise ValueError("`bins` must be 1d, when an array")
    return edges


def _binned(t: torch.Tensor, edges: torch.Tensor, nbins: int) -> tuple:
    """Each value's bin (edges[i] <= x < edges[i + 1], the last bin its right edge too)
    and whether it falls in one (nan and values outside do not)."""
    x, e = common(t, edges.detach())
    x, e = _orderable(x, "np.histogram"), _orderable(e, "np.histogram")
    if not nbins:
        return x.to(torch.int64), x > 0  # empty
    keep = (x >= e[0]) & (x <= e[-1])
    where = torch.searchsorted(e.contiguous(), x.contiguous(), side="right") - 1
    return torch.where(x == e[-1], nbins - 1, where).clamp(0, nbins - 1), keep


@implements(np.histogram)
def _np_histogram(a, bins=10, range=None, density=None, weights=None):
    """Counts (no gradient) or sums of weights per bin, and the edges; bin i holds
    edges[i] <= x < edges[i + 1], the last bin its right edge too, as in NumPy (range=
    is read only with a number of bins, as NumPy reads it).  With
    weights= the sums are differentiable in the weights; density= divides by the
    bins' widths, differentiable in the edges (given, or from the data's min and max).
    """
    t = _histogram_data(a, "np.histogram")
    edges = _edges(t, bins, range, "np.histogram")
    nbins = max(edges.numel() - 1, 0)
    if nbins == 0:  # no edges, or one: no bins, nothing counted (NumPy's empty counts)
        t = t[:0]
    where, keep = _binned(t, edges, nbins)
    if weights is None:
        counts = torch.zeros(nbins, dtype=torch.int64, device=t.device)
        counts = counts.index_add(0, where, keep.to(torch.int64))
    else:
        w = tensor(weights)
        if w.shape != tensor(a).shape:
            raise ValueError("weights should have the same shape as a.")
        if w.is_complex() or w.dtype is torch.bool:
            raise unsupported(f"np.histogram(..., weights=<{w.dtype}>)")
        w = w.reshape(-1)[: t.numel()]
        # NumPy sums float weights in float64, then casts to the weights' dtype
        acc = w.dtype if not is_inexact(w.dtype) else torch.promote_types(w.dtype, wide())
        kept = torch.where(keep, w.to(acc), torch.zeros((), dtype=acc, device=w.device))
        counts = torch.zeros(nbins, dtype=acc, device=w.device).index_add(0, where, kept)
        counts = counts.to(w.dtype)
    if density:
        # NumPy's widths: the edges' differences, in float64
        widths = (edges[1:] - edges[:-1]).to(wide())
        want = result_type(counts, widths, device_type=STATE.device.type)
        counts = counts.to(want) / widths.to(want) / counts.sum().to(want)
    return counts, edges


@implements(np.histogram_bin_edges)
def _np_histogram_bin_edges(a, bins=10, range=None, weights=None):
    """np.histogram's edges (NumPy reads weights= only for the string bins refused
    here; its shape is checked as NumPy checks it)."""
    t = _histogram_data(a, "np.histogram_bin_edges")
    if weights is not None and tensor(weights).shape != tensor(a).shape:
        raise ValueError("weights should have the same shape as a.")
    return _edges(t, bins, range, "np.histogram_bin_edges")


def _dd_edges(t: torch.Tensor, bins: Any, range: Any, i: int) -> torch.Tensor:
    """np.histogramdd's edges along one axis: its own checks and messages, and the
    range's numbers computed in their own dtype (float64 for Python numbers)."""
    traced = _traced(bins)
    ndim = tensor(bins).ndim if traced else np.ndim(bins)
    if ndim == 0:
        if traced:
            raise unsupported("np.histogram2d(..., bins=<a traced number>) (bins as numbers)")
        if bins < 1:
            raise ValueError(f"`bins[{i}]` must be positive, when an integer")
        try:
            n = operator.index(bins)
        except TypeError as e:
            raise TypeError(f"`bins[{i}]` must be an integer, when a scalar") from e
        return _uniform_edges(t, n, range, "np.histogram2d", dd=True)
    if ndim != 1:
        raise ValueError(f"`bins[{i}]` must be a scalar or 1d array")
    if traced:
        _readable("np.histogram2d", "its edges' values (to check their order)")
    values = tensor(bins).detach().cpu().numpy() if traced else np.asarray(bins)
    if values.dtype.kind in "fc" and np.isnan(values).any():
        raise unsupported("np.histogram2d with nan among the edges")
    if (values[:-1] > values[1:]).any():
        raise ValueError(f"`bins[{i}]` must be monotonically increasing, when an array")
    return tensor(bins)


@implements(np.histogram2d)
def _np_histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    """NumPy's histogramdd of the points (x, y): float64 counts (no gradient) or sums
    of weights (differentiable in them), and the two axes' edges, from the data's min
    and max differentiable in it; density= divides by the bins' areas and the total."""
    tx, ty = tensor(x), tensor(y)
    if tx.ndim != 1 or ty.ndim != 1 or tx.shape != ty.shape:
        raise unsupported("np.histogram2d of x and y other than two 1-d arrays of one length")
    tx, ty = common(tx, ty)  # NumPy's sample: one array of both
    if tx.is_complex() or tx.dtype is torch.bool:
        raise unsupported(f"np.histogram2d of {tx.dtype}")
    try:
        count = len(bins)
    except TypeError:  # one number of bins for both axes
        count = None
    if count == 1:
        raise ValueError("The dimension of bins must be equal to the dimension of the sample x.")
    if count != 2:
        bins = [bins, bins]  # a number, or one array of edges for both axes
    if range is None:
        range = (None, None)
    elif len(range) != 2:
        raise ValueError("range argument must have one entry per dimension")
    ex, ey = (_dd_edges(t, b, r, i) for i, (t, b, r) in enumerate(zip((tx, ty), bins, range)))
    nx, ny = max(ex.numel() - 1, 0), max(ey.numel() - 1, 0)
    (wx, kx), (wy, ky) = _binned(tx, ex, nx), _binned(ty, ey, ny)
    f64 = wide()
    if weights is None:
        w = torch.ones(tx.shape, dtype=f64, device=tx.device)
    else:
        w = tensor(weights)
        if w.shape != tx.shape:
            raise unsupported("np.histogram2d(..., weights=) of a shape other than x's")
        if w.is_complex():
            raise TypeError("Cannot cast array data from dtype('complex128') to dtype('float64')")
        w = w.to(f64)  # np.bincount's weights are doubles
    kept = torch.where(kx & ky, w, torch.zeros((), dtype=f64, device=w.device))
    hist = torch.zeros(nx * ny, dtype=f64, device=w.device)
    if nx * ny:
        hist = hist.index_add(0, wx * ny + wy, kept)
    hist = hist.reshape(nx, ny)
    if density:
        total = hist.sum()
        hist = hist / (ex[1:] - ex[:-1]).to(f64)[:, None] / (ey[1:] - ey[:-1]).to(f64)[None, :]
        hist = hist / total
    return hist, ex, ey
