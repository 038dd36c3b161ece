"""Arrays made like another (zeros_like, ones_like, empty_like, full_like), and
linspace between traced ends, meshgrid; the index arrays of an array's triangles and
diagonal (triu_indices_from, tril_indices_from, diag_indices_from)."""

from __future__ import annotations

import math
import operator

import numpy as np
import torch

from .._dtypes import is_inexact, result_type
from .._trace._array import tensor, unwrap
from .._trace._registry import implements
from .._trace._state import STATE, constant, unsupported


def _like(a, dtype, shape, fill):
    t = tensor(a)
    dtype = dtype or t.dtype
    if shape is not None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        t = torch.empty(shape, dtype=dtype, device=t.device)
    return fill(t, dtype)


# order= only chooses a memory layout, which a traced array does not expose
@implements(np.zeros_like, dtype="row", handles=("order", "subok"), differentiable=False)
def _zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, dtype, shape, lambda t, d: torch.zeros_like(t, dtype=d))


@implements(np.ones_like, dtype="row", handles=("order", "subok"), differentiable=False)
def _ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, dtype, shape, lambda t, d: torch.ones_like(t, dtype=d))


# empty_like's contents are arbitrary in NumPy: zeros are a valid (and safe) choice
@implements(np.empty_like, dtype="row", handles=("order", "subok"), differentiable=False)
def _empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(prototype, dtype, shape, lambda t, d: torch.zeros_like(t, dtype=d))


@implements(np.full_like, dtype="row", handles=("order", "subok"))
def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    v = unwrap(fill_value)
    if isinstance(v, torch.Tensor):  # a traced fill value (x[1] ** 2): its gradient kept
        return _like(a, dtype, shape, lambda t, d: _filled(t, v, d))
    return _like(a, dtype, shape, lambda t, d: torch.full_like(t, v, dtype=d))


def _filled(t: torch.Tensor, v: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    try:
        return torch.broadcast_to(v.to(dtype), t.shape).clone()  # memory of its own
    except RuntimeError:  # NumPy's words (np.copyto's), not torch's
        raise ValueError(
            f"could not broadcast input array from shape {tuple(v.shape)} into shape "
            f"{tuple(t.shape)}"
        ) from None


@implements(np.linspace, axis="row", dtype="row")
def _linspace(
    start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None
):
    # reached when start or stop is traced: the points follow them, num stays an int
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    # Python numbers stay weak in NumPy's promotion: linspace(x32, 2.0) is float32
    want = result_type(unwrap(start), unwrap(stop), 1.0, device_type=STATE.device.type)
    lo, hi = tensor(start), tensor(stop)
    lo, hi = torch.broadcast_tensors(lo.to(want), hi.to(want))
    div = num - 1 if endpoint else num
    delta = hi - lo
    steps = torch.arange(num, dtype=want, device=lo.device).reshape((-1,) + (1,) * delta.ndim)
    if div > 0:
        step = delta / div
        y = steps * step + lo
    else:  # one point without its end, or none: NumPy's step is nan
        step = torch.full_like(delta, math.nan)
        y = steps * delta + lo
    if endpoint and num > 1:
        y = torch.cat([y[:-1], hi.unsqueeze(0)])  # the end exactly, as NumPy
    if axis != 0:
        y = torch.movedim(y, 0, axis if axis >= 0 else axis + y.ndim)
    if dtype is not None:
        y = torch.floor(y).to(dtype) if not is_inexact(dtype) else y.to(dtype)
    return (y, step) if retstep else y


@implements(np.meshgrid)
def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays, each in its input's dtype. With copy=False NumPy returns
    views of the inputs (broadcast ones), as torch does: writes into them are refused."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ts = [tensor(x).reshape(-1) for x in xi]
    n = len(ts)
    outs = []
    for i, t in enumerate(ts):
        shape = [1] * n
        shape[i] = -1
        if indexing == "xy" and n > 1 and i < 2:
            shape[0], shape[1] = shape[1], shape[0]  # the first two axes swapped
        outs.append(t.reshape(shape))
    if not sparse:
        full = torch.broadcast_shapes(*(o.shape for o in outs))
        outs = [o.expand(full) for o in outs]
    if copy:
        outs = [o.clone(memory_format=torch.contiguous_format) for o in outs]
    return tuple(outs)


# ------------------------------------------------------------------ indices of a shape
# they depend on the array's shape alone, which is known under every transform: NumPy
# computes them from it, exactly (int64)
def _offset(k, name: str) -> int:
    """An integer k (NumPy's arithmetic on another number is not repeated)."""
    if not isinstance(k, (int, np.integer)):
        raise unsupported(f"{name}(..., k={type(k).__name__}) (k= as an integer)")
    return int(k)


def _triangle_indices(arr, k, which) -> tuple:
    shape = tuple(tensor(arr).shape)
    if len(shape) != 2:
        raise ValueError("input array must be 2-d")
    k = _offset(k, f"np.{which.__name__}_from")
    return tuple(constant(i) for i in which(shape[0], k=k, m=shape[1]))


@implements(np.triu_indices_from, differentiable=False)
def _triu_indices_from(arr, k=0):
    return _triangle_indices(arr, k, np.triu_indices)


@implements(np.tril_indices_from, differentiable=False)
def _tril_indices_from(arr, k=0):
    return _triangle_indices(arr, k, np.tril_indices)


@implements(np.diag_indices_from, differentiable=False)
def _diag_indices_from(arr):
    shape = tuple(tensor(arr).shape)
    if len(shape) < 2:
        raise ValueError("input array must be at least 2-d")
    if len(set(shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return tuple(constant(i) for i in np.diag_indices(shape[0], len(shape)))
