"""Automatic gradients for plain NumPy code (``mode="auto"``).

The user's function receives :class:`TracedArray` objects instead of arrays.  They
wrap a torch tensor and implement NumPy's dispatch protocols (``__array_ufunc__``,
NEP 13, and ``__array_function__``, NEP 18), the operators, indexing and the
ndarray methods that NumPy code uses.  Each NumPy call becomes the equivalent torch
op on the tensor itself, so autograd records it and nothing leaves the device.

Whatever would drop the gradient (``np.asarray``, ``float()``, ``.item()`` on a
float, writes into a traced array, a function with no mapping) raises
:class:`~npgrad.TraceError` naming the call and the way out.
"""

from __future__ import annotations

import functools
import math
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from . import _convert, _op
from ._errors import TraceError


class _State(threading.local):
    """Per thread (``nn.DataParallel`` traces on several devices at once): the ops
    being traced, for error messages, and the device of the innermost one, so NumPy
    constants meet the tensors where they are."""

    def __init__(self) -> None:
        self.ops: list[str] = []
        self.device = torch.device("cpu")


_STATE = _State()


_PROXY = getattr(getattr(torch._C, "_TorchDispatchModeKey", None), "PROXY", None)


def _abstract() -> bool:
    """Values cannot be read: under torch.func, or while make_fx traces (linearize)."""
    return torch._C._are_functorch_transforms_active() or (
        _PROXY is not None and torch._C._get_dispatch_mode(_PROXY) is not None
    )


def _op_name() -> str:
    return _STATE.ops[-1] if _STATE.ops else "?"


def _fail(what: str) -> TraceError:
    return TraceError(
        f"npgrad op '{_op_name()}' (mode='auto'): {what} would drop the gradient. "
        "Keep the computation in NumPy functions on the array, or register a backward "
        "with @op.backward, or use mode='numeric'."
    )


def _caller() -> str:
    """The innermost caller outside npgrad and NumPy, for error messages."""
    f = sys._getframe(2)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith(("numpy", "npgrad._trace", "scipy._lib")):
            return f"{mod}.{f.f_code.co_name}"
        f = f.f_back
    return "?"


# ----------------------------------------------------------------- conversion
_TORCH_TO_NP = {
    torch.float16: np.dtype(np.float16),
    torch.bfloat16: np.dtype(np.float32),  # NumPy has no bfloat16: the nearest it knows
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
    torch.complex64: np.dtype(np.complex64),
    torch.complex128: np.dtype(np.complex128),
    torch.int64: np.dtype(np.int64),
    torch.int32: np.dtype(np.int32),
    torch.int16: np.dtype(np.int16),
    torch.int8: np.dtype(np.int8),
    torch.uint8: np.dtype(np.uint8),
    torch.bool: np.dtype(np.bool_),
}


def _torch_dtype(dtype: Any) -> torch.dtype | None:
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return dtype
    nd = np.dtype(dtype)
    for t, n in _TORCH_TO_NP.items():
        if n == nd and t is not torch.bfloat16:
            return t
    raise TypeError(f"npgrad op '{_op_name()}' (mode='auto'): dtype {nd} has no torch twin")


# device types with no float64, NumPy's default float: there NumPy's float64 constants
# and promotions use float32 (and complex64) instead of failing
_NO_FLOAT64 = frozenset({"mps"})
_NARROW = {
    np.dtype(np.float64): np.dtype(np.float32),
    np.dtype(np.complex128): np.dtype(np.complex64),
}


def _constant(x: Any, device: torch.device | None = None) -> torch.Tensor:
    """A NumPy value (array, list, scalar) as a tensor on the traced device."""
    device = _STATE.device if device is None else device
    a = np.asarray(x)
    if device.type in _NO_FLOAT64 and a.dtype in _NARROW:
        a = a.astype(_NARROW[a.dtype])
    return torch.as_tensor(a, device=device)


def _wide() -> torch.dtype:
    """The float NumPy promotes integers to: float64 where the traced device has it."""
    return torch.float32 if _STATE.device.type in _NO_FLOAT64 else torch.float64


def _unwrap(x: Any) -> Any:
    """Tensors for TracedArrays and NumPy arrays; Python numbers stay numbers."""
    if isinstance(x, TracedArray):
        return x.t
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return x.item()  # a 0-d constant behaves like a Python scalar (no promotion)
        return _constant(x)
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (list, tuple)):
        if any(isinstance(v, TracedArray) for v in x):
            return type(x)(_unwrap(v) for v in x)
        return x
    return x


def _tensor(x: Any) -> torch.Tensor:
    x = _unwrap(x)
    if isinstance(x, torch.Tensor):
        return x
    return _constant(x)


def _operand(x: Any) -> Any:
    """A ufunc operand: like ``_unwrap``, and a (nested) list becomes the array NumPy
    would make of it, on the traced device; traced elements keep their gradient."""
    x = _unwrap(x)
    if not isinstance(x, (list, tuple)):
        return x
    if not _holds_tensor(x):
        return _constant(x)
    parts = [_operand(v) if isinstance(v, (list, tuple)) else v for v in x]
    parts = [v.t if isinstance(v, TracedArray) else v for v in parts]
    dtypes = [v.dtype for v in parts if isinstance(v, torch.Tensor)]
    dtype = dtypes[0]
    for d in dtypes[1:]:
        dtype = torch.promote_types(dtype, d)
    if not (dtype.is_floating_point or dtype.is_complex) and any(
        isinstance(v, float) for v in parts
    ):
        dtype = _wide()
    return torch.stack([torch.as_tensor(v, dtype=dtype, device=_STATE.device) for v in parts])


def _holds_tensor(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return any(_holds_tensor(v) for v in x)
    return isinstance(x, (torch.Tensor, TracedArray))


def _wrap(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return TracedArray(x)
    if isinstance(x, (tuple, list)):
        return type(x)(_wrap(v) for v in x)
    return x


# --------------------------------------------------------------- the mappings
def _reduce(fn: Callable, *, float_only: bool = False) -> Callable:
    def run(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if out is not None:
            raise _fail("writing into out= (an in-place write)")
        _refuse_options(kw, "initial", "where")
        t = _tensor(a)
        if dtype is not None:
            t = t.to(_torch_dtype(dtype))
        elif float_only and not (t.is_floating_point() or t.is_complex()):
            t = t.to(_wide())
        r = _reduced(fn, t, axis, keepdims, kw)
        # torch sums small integers into int64; NumPy keeps the dtype asked for
        return r if dtype is None or r.dtype == t.dtype else r.to(t.dtype)

    return run


def _reduced(fn: Callable, t: torch.Tensor, axis: Any, keepdims: bool, kw: dict):
    if axis is None:
        r = fn(t, **kw)
        return r.reshape((1,) * t.ndim) if keepdims else r
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    if axis == ():
        # NumPy reduces over no axis; torch reads dim=() as every axis
        return fn(t.unsqueeze(0), dim=0, keepdim=False, **kw)
    return fn(t, dim=axis, keepdim=keepdims, **kw)


def _refuse_options(kw: dict, *names: str) -> None:
    for name in names:
        if kw.get(name) is not None:
            raise TraceError(
                f"npgrad op '{_op_name()}' (mode='auto'): the option {name}= is not "
                "supported; register a backward, or use mode='numeric'"
            )
        kw.pop(name, None)


def _sum(t, dim=None, keepdim=False):
    if t.dtype == torch.bool:
        t = t.to(torch.int64)
    return t.sum() if dim is None else torch.sum(t, dim=dim, keepdim=keepdim)


def _prod(t, dim=None, keepdim=False):
    if dim is None:
        return t.prod()
    dims = dim if isinstance(dim, tuple) else (dim,)
    for d in sorted((d % t.ndim for d in dims), reverse=True):
        t = t.prod(d, keepdim=keepdim)
    return t


def _amax(t, dim=None, keepdim=False):
    return t.amax() if dim is None else torch.amax(t, dim=dim, keepdim=keepdim)


def _amin(t, dim=None, keepdim=False):
    return t.amin() if dim is None else torch.amin(t, dim=dim, keepdim=keepdim)


def _mean(t, dim=None, keepdim=False):
    return t.mean() if dim is None else torch.mean(t, dim=dim, keepdim=keepdim)


def _var(ddof=0):
    def run(t, dim=None, keepdim=False, ddof=ddof):
        return torch.var(t, dim=dim, correction=ddof, keepdim=keepdim)

    return run


def _std(t, dim=None, keepdim=False, ddof=0):
    return torch.std(t, dim=dim, correction=ddof, keepdim=keepdim)


def _logical(fn):
    return lambda t, dim=None, keepdim=False: (
        fn(t) if dim is None else fn(t, dim=dim, keepdim=keepdim)
    )


def _arg(fn):
    def run(a, axis=None, out=None, keepdims=False):
        t = _tensor(a)
        if t.dtype is torch.bool:
            t = t.to(torch.uint8)  # torch's argmax takes no bool; the first True wins alike
        if axis is None:
            r = fn(t.reshape(-1))
            return r.reshape((1,) * t.ndim) if keepdims else r
        return fn(t, dim=axis, keepdim=keepdims)

    return run


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kw):
    if out is not None:
        raise _fail("writing into out= (an in-place write)")
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    t = _tensor(a)
    lo, hi = _unwrap(lo), _unwrap(hi)
    if not (t.is_floating_point() or t.is_complex()) and any(
        isinstance(v, float) or (isinstance(v, torch.Tensor) and v.is_floating_point())
        for v in (lo, hi)
    ):
        t = t.to(_wide())
    if isinstance(lo, torch.Tensor) or isinstance(hi, torch.Tensor):
        lo = None if lo is None else torch.as_tensor(lo, dtype=t.dtype, device=t.device)
        hi = None if hi is None else torch.as_tensor(hi, dtype=t.dtype, device=t.device)
    return torch.clamp(t, lo, hi)


def _where(cond, x=None, y=None):
    if x is None and y is None:
        return tuple(torch.nonzero(_tensor(cond), as_tuple=True))
    c = _tensor(cond).to(torch.bool)
    xt, yt = _numpy_promotion([_unwrap(x), _unwrap(y)])
    if not isinstance(xt, torch.Tensor) and not isinstance(yt, torch.Tensor):
        xt = _constant(xt, c.device)
    return torch.where(c, xt, yt)


def _concat(arrays, axis=0, out=None, dtype=None, **kw):
    ts = [_tensor(a) for a in arrays]
    if axis is None:
        ts, axis = [t.reshape(-1) for t in ts], 0
    return torch.cat(_promote(ts), dim=axis)


def _promote(ts: list[torch.Tensor]) -> list[torch.Tensor]:
    dtype = ts[0].dtype
    for t in ts[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return [t.to(dtype) for t in ts]


def _stack(arrays, axis=0, out=None, **kw):
    return torch.stack(_promote([_tensor(a) for a in arrays]), dim=axis)


def _reshape(a, *shape, newshape=None, order="C", **kw):
    if order != "C":
        raise TraceError(f"npgrad op '{_op_name()}' (mode='auto'): order={order!r} unsupported")
    shape = shape if shape else (kw.get("shape", newshape),)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _tensor(a).reshape(shape)


def _transpose(a, axes=None):
    t = _tensor(a)
    return t.permute(*reversed(range(t.ndim))) if axes is None else t.permute(*axes)


def _expand_dims(a, axis):
    t = _tensor(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = t.ndim + len(axes)
    for ax in sorted(a % nd for a in axes):
        t = t.unsqueeze(ax)
    return t


def _squeeze(a, axis=None):
    t = _tensor(a)
    if axis is None:
        return t.squeeze()
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    if any(t.shape[ax] != 1 for ax in axes):  # torch would leave such an axis be
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return t.squeeze(tuple(axes))


def _ravel(a, order="C"):
    t = _tensor(a)
    reverse = tuple(range(t.ndim))[::-1]
    if order == "A":  # Fortran order only for a Fortran-contiguous array
        fortran = t.permute(reverse).is_contiguous() and not t.is_contiguous()
        order = "F" if fortran else "C"
    if order == "F":
        return t.permute(reverse).reshape(-1)
    if order == "K":  # the order of the elements in memory
        dims = sorted(range(t.ndim), key=lambda d: -t.stride(d))
        return t.permute(dims).reshape(-1)
    if order != "C":
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    return t.reshape(-1)


def _sign(a):
    t = _tensor(a)
    s = torch.sign(t)
    # NumPy's sign of nan is nan; torch's is 0
    return torch.where(torch.isnan(t), t, s) if t.is_floating_point() else s


def _take_along_axis(arr, indices, axis):
    # through gather, which refuses an index out of range (take_along_dim wraps it)
    t, idx = _tensor(arr), _tensor(indices)
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
    common = list(
        torch.broadcast_shapes(
            t.shape[:axis] + (1,) + t.shape[axis + 1 :],
            idx.shape[:axis] + (1,) + idx.shape[axis + 1 :],
        )
    )
    t = t.expand(common[:axis] + [n] + common[axis + 1 :])
    idx = idx.expand(common[:axis] + [idx.shape[axis]] + common[axis + 1 :])
    return torch.gather(t, axis, idx)


def _take(a, indices, axis=None, out=None, mode="raise"):
    if mode != "raise":
        raise TraceError(
            f"npgrad op '{_op_name()}' (mode='auto'): np.take mode={mode!r} unsupported"
        )
    t, idx = _tensor(a), _tensor(indices)
    if axis is None:
        t, axis = t.reshape(-1), 0
    axis %= t.ndim
    n = t.shape[axis]
    flat = idx.reshape(-1)
    flat = torch.where(flat < 0, flat + n, flat)
    return torch.index_select(t, axis, flat).reshape(
        t.shape[:axis] + idx.shape + t.shape[axis + 1 :]
    )


def _sort(a, axis=-1, **kw):
    t = _tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    return torch.sort(t, dim=axis, stable=True).values


def _argsort(a, axis=-1, **kw):
    t = _tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    return torch.argsort(t, dim=axis, stable=True)


def _cum(fn):
    def run(a, axis=None, dtype=None, out=None):
        t = _tensor(a)
        if dtype is not None:
            t = t.to(_torch_dtype(dtype))
        if axis is None:
            t, axis = t.reshape(-1), 0
        return fn(t, dim=axis)

    return run


def _diff(a, n=1, axis=-1, prepend=None, append=None):
    t = _tensor(a)

    def edge(v):
        if v is None:
            return None
        e = _tensor(v).to(t.dtype)
        if e.ndim == 0:
            shape = list(t.shape)
            shape[axis] = 1
            e = e.expand(shape)
        return e

    return torch.diff(t, n=n, dim=axis, prepend=edge(prepend), append=edge(append))


def _dot(a, b, out=None):
    ta, tb = _promote([_tensor(a), _tensor(b)])
    if ta.ndim == 0 or tb.ndim == 0:
        return ta * tb
    if ta.ndim == 1 and tb.ndim == 1:
        return torch.dot(ta, tb)
    if tb.ndim == 1 or ta.ndim <= 2 and tb.ndim <= 2:
        return torch.matmul(ta, tb)
    return torch.tensordot(ta, tb, dims=([-1], [-2]))


def _tensordot(a, b, axes=2):
    ta, tb = _promote([_tensor(a), _tensor(b)])
    if isinstance(axes, (tuple, list)) and len(axes) == 2:
        # NumPy also takes one axis a side, axes=(1, 0); torch wants lists there
        axes = tuple([ax] if isinstance(ax, int) else list(ax) for ax in axes)
    return torch.tensordot(ta, tb, dims=axes)


def _einsum(subscripts, *operands, **kw):
    return torch.einsum(subscripts, *_promote([_tensor(o) for o in operands]))


def _norm(x, ord=None, axis=None, keepdims=False):
    t = _tensor(x)
    if not (t.is_floating_point() or t.is_complex()):
        t = t.to(_wide())
    if axis is None and (ord is None or t.ndim == 1):
        r = torch.linalg.vector_norm(t.reshape(-1), ord=2 if ord is None else ord)
        return r.reshape((1,) * t.ndim) if keepdims else r
    if axis is None and t.ndim == 2:
        axis = (0, 1)
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis = axis[0]
    if isinstance(axis, int):
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        return torch.linalg.vector_norm(
            t, ord=2 if ord is None else ord, dim=axis, keepdim=keepdims
        )
    if axis is None:
        raise ValueError("Improper number of dimensions to norm.")
    return torch.linalg.matrix_norm(
        t, ord="fro" if ord is None else ord, dim=tuple(axis), keepdim=keepdims
    )


def _like(fill: Callable):
    def run(a, dtype=None, order="K", subok=True, shape=None, **kw):
        t = _tensor(a)
        dtype = _torch_dtype(dtype) or t.dtype
        if shape is not None:
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            return fill(torch.empty(shape, dtype=dtype, device=t.device), dtype=dtype)
        return fill(t, dtype=dtype)

    return run


def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kw):
    t = _tensor(a)
    dtype = _torch_dtype(dtype) or t.dtype
    if shape is not None:
        t = torch.empty((shape,) if isinstance(shape, int) else tuple(shape), device=t.device)
    return torch.full_like(t, _unwrap(fill_value), dtype=dtype)


def _pad(array, pad_width, mode="constant", constant_values=0, **kw):
    t = _tensor(array)
    pw = np.broadcast_to(np.asarray(pad_width), (t.ndim, 2))
    modes = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}
    if mode not in modes:
        raise TraceError(
            f"npgrad op '{_op_name()}' (mode='auto'): np.pad mode={mode!r} unsupported"
        )
    if mode == "constant":
        cv = np.broadcast_to(np.asarray(constant_values, dtype=float), (t.ndim, 2))
        if (cv == cv.flat[0]).all():
            flat = [int(v) for pair in pw[::-1] for v in pair]
            return torch.nn.functional.pad(t, flat, value=float(cv.flat[0]))
        for ax in range(t.ndim):  # one axis at a time, each side its own value
            parts = []
            for side, width in enumerate(pw[ax]):
                shape = list(t.shape)
                shape[ax] = int(width)
                parts.append(torch.full(shape, float(cv[ax, side]), dtype=t.dtype, device=t.device))
            t = torch.cat([parts[0], t, parts[1]], dim=ax)
        return t
    # torch pads the last k dims of a batched input: pad every axis from the first
    # padded one to the end, behind two leading batch dims
    padded = [i for i in range(t.ndim) if any(pw[i])]
    if not padded:
        return t.clone()
    k = t.ndim - padded[0]
    flat = [int(v) for pair in pw[::-1][:k] for v in pair]
    lead = t.shape[: t.ndim - k]
    x = t.reshape((1, -1) + t.shape[t.ndim - k :])
    out = torch.nn.functional.pad(x, flat, mode=modes[mode])
    return out.reshape(lead + out.shape[2:])


def _single(t: torch.Tensor) -> torch.Tensor:
    """float32 for a half-precision tensor: torch's kernels for quantiles, FFTs and
    linear algebra take float and double only (on the CPU, and mostly on CUDA)."""
    return t.float() if t.dtype in _convert.HALF else t


def _back(r: Any, dtype: torch.dtype) -> Any:
    """Floating results in the input's half precision again (complex ones stay)."""
    if dtype not in _convert.HALF:
        return r
    if isinstance(r, tuple):
        return tuple(_back(v, dtype) for v in r)
    return r.to(dtype) if r.is_floating_point() else r


def _quantile(pct: bool):
    def run(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
        t = _tensor(a)
        return _back(_quantile_single(_single(t), q, axis, method, keepdims, pct), t.dtype)

    return run


def _quantile_single(t, q, axis, method, keepdims, pct):
    if not t.is_floating_point():
        t = t.to(_wide())
    qq = _tensor(q).to(t.dtype) / (100 if pct else 1)
    if isinstance(axis, (tuple, list)):
        axes = [ax % t.ndim for ax in axis]
        rest = [i for i in range(t.ndim) if i not in axes]
        flat = t.permute(*rest, *axes).reshape([t.shape[i] for i in rest] + [-1])
        r = torch.quantile(flat, qq, dim=-1, interpolation=method)
        if keepdims:
            shape = list(r.shape[: r.ndim - len(rest)]) + [
                1 if i in axes else t.shape[i] for i in range(t.ndim)
            ]
            r = r.reshape(shape)
        return r
    return torch.quantile(t, qq, dim=axis, keepdim=keepdims, interpolation=method)


def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return _quantile(pct=False)(a, 0.5, axis=axis, keepdims=keepdims)


def _round(a, decimals=0, out=None):
    t = _tensor(a)
    if not (t.is_floating_point() or t.is_complex()):
        if decimals >= 0:
            return t.clone()  # NumPy leaves integers as they are
        scale = 10 ** (-decimals)  # to tens, hundreds, ...: half to even, as NumPy
        return (torch.round(t.double() / scale) * scale).to(t.dtype)
    return torch.round(t, decimals=decimals)


def _flip(m, axis=None):
    t = _tensor(m)
    dims = tuple(range(t.ndim)) if axis is None else axis
    return torch.flip(t, dims=tuple(dims) if isinstance(dims, (tuple, list)) else (dims,))


def _roll(a, shift, axis=None):
    t = _tensor(a)
    if axis is None:
        return torch.roll(t.reshape(-1), shift).reshape(t.shape)
    return torch.roll(t, shift, dims=axis)


def _broadcast_to(array, shape, subok=False):
    # a copy with the same dtype (bool stays bool): never the input itself
    return _tensor(array).expand(shape).clone(memory_format=torch.contiguous_format)


def _fft(fn, real_out=False):
    def run(a, n=None, axis=-1, norm=None, out=None):
        return fn(_single(_tensor(a)), n=n, dim=axis, norm=norm)

    return run


def _diag(v, k=0):
    return torch.diag(_tensor(v), k)


def _trace_fn(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return torch.diagonal(_tensor(a), offset, axis1, axis2).sum(-1)


def _diagonal(a, offset=0, axis1=0, axis2=1):
    return torch.diagonal(_tensor(a), offset, axis1, axis2)


def _outer(a, b, out=None):
    ta, tb = _promote([_tensor(a), _tensor(b)])
    return torch.outer(ta.reshape(-1), tb.reshape(-1))


def _tile(A, reps):
    return _tensor(A).tile(tuple(reps) if isinstance(reps, (tuple, list)) else (reps,))


def _repeat(a, repeats, axis=None):
    t = _tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    reps = _unwrap(repeats)
    if isinstance(reps, (list, tuple, np.ndarray)):
        reps = torch.as_tensor(np.asarray(reps), device=t.device)
    return torch.repeat_interleave(t, reps, dim=axis)


def _tri(fn):
    return lambda m, k=0: fn(_tensor(m), k)


def _moveaxis(a, source, destination):
    return torch.movedim(_tensor(a), source, destination)


def _swapaxes(a, axis1, axis2):
    return torch.swapaxes(_tensor(a), axis1, axis2)


def _atleast(n):
    def run(*arys):
        outs = []
        for a in arys:
            t = _tensor(a)
            while t.ndim < n:
                t = t.unsqueeze(0) if t.ndim < 1 or n == 2 else t.unsqueeze(-1)
            outs.append(t)
        return outs[0] if len(outs) == 1 else outs

    return run


def _count_nonzero(a, axis=None, keepdims=False):
    t = _tensor(a)
    if axis is None:
        r = torch.count_nonzero(t)
        return r.reshape((1,) * t.ndim) if keepdims else r
    r = torch.count_nonzero(t, dim=axis)
    if keepdims:
        for ax in sorted(d % t.ndim for d in (axis if isinstance(axis, tuple) else (axis,))):
            r = r.unsqueeze(ax)
    return r


def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return torch.nan_to_num(_tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def _allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    ta, tb = _promote([_tensor(a), _tensor(b)])
    return bool(torch.allclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    ta, tb = _promote([_tensor(a), _tensor(b)])
    return torch.isclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _shape(a):
    return tuple(_tensor(a).shape)


def _ndim(a):
    return _tensor(a).ndim


def _size(a, axis=None):
    t = _tensor(a)
    return t.numel() if axis is None else t.shape[axis]


def _copy(a, *args, **kw):
    return _tensor(a).clone()


def _linalg(fn):
    def run(a, *args):
        t = _tensor(a)
        return _back(fn(_single(t), *[_unwrap(x) for x in args]), t.dtype)

    return run


def _solve(a, b):
    ta, tb = _tensor(a), _tensor(b)
    if tb.ndim > 1:
        # NumPy 2 reads b as a stack of matrices unless it is 1-d; torch would read a
        # b shaped like a's batch of vectors as vectors: broadcast the batch first
        batch = torch.broadcast_shapes(ta.shape[:-2], tb.shape[:-2])
        ta, tb = ta.expand(*batch, *ta.shape[-2:]), tb.expand(*batch, *tb.shape[-2:])
    return _back(
        torch.linalg.solve(_single(ta), _single(tb)), torch.promote_types(ta.dtype, tb.dtype)
    )


def _slogdet(a):
    t = _tensor(a)
    s, ld = torch.linalg.slogdet(_single(t))
    return _back((s, ld), t.dtype)


def _split_fn(a, indices_or_sections, axis=0, *, strict=False):
    t = _tensor(a)
    sections = _unwrap(indices_or_sections)
    if isinstance(sections, torch.Tensor):
        sections = sections.tolist()  # torch takes split indices on the host only
    if strict and isinstance(sections, int) and t.shape[axis] % sections:
        raise ValueError("array split does not result in an equal division")
    return list(torch.tensor_split(t, sections, dim=axis))


# NumPy function -> torch implementation (taking NumPy's own arguments)
FUNCTIONS: dict[Callable, Callable] = {
    np.sum: _reduce(_sum),
    np.mean: _reduce(_mean, float_only=True),
    np.prod: _reduce(_prod),
    np.max: _reduce(_amax),
    np.amax: _reduce(_amax),
    np.min: _reduce(_amin),
    np.amin: _reduce(_amin),
    np.var: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False: _reduce(
        _var(ddof), float_only=True
    )(a, axis=axis, keepdims=keepdims),
    np.std: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False: _reduce(
        lambda t, dim=None, keepdim=False: _std(t, dim, keepdim, ddof), float_only=True
    )(a, axis=axis, keepdims=keepdims),
    np.any: _reduce(_logical(torch.any)),
    np.all: _reduce(_logical(torch.all)),
    np.argmax: _arg(torch.argmax),
    np.argmin: _arg(torch.argmin),
    np.clip: _clip,
    np.where: _where,
    np.concatenate: _concat,
    np.stack: _stack,
    np.vstack: lambda tup, **kw: torch.cat(
        _promote([t if t.ndim > 1 else t.reshape(1, -1) for t in map(_tensor, tup)]), 0
    ),  # noqa: E501
    np.hstack: lambda tup, **kw: torch.cat(
        _promote([_tensor(t).reshape(-1) if _tensor(t).ndim == 0 else _tensor(t) for t in tup]),
        0 if _tensor(tup[0]).ndim <= 1 else 1,
    ),
    np.reshape: _reshape,
    np.ravel: _ravel,
    np.transpose: _transpose,
    np.moveaxis: _moveaxis,
    np.swapaxes: _swapaxes,
    np.expand_dims: _expand_dims,
    np.squeeze: _squeeze,
    np.broadcast_to: _broadcast_to,
    np.take_along_axis: _take_along_axis,
    np.take: _take,
    np.sort: _sort,
    np.argsort: _argsort,
    np.nonzero: lambda a: tuple(torch.nonzero(_tensor(a), as_tuple=True)),
    np.flatnonzero: lambda a: torch.nonzero(_tensor(a).reshape(-1)).reshape(-1),
    np.argwhere: lambda a: torch.nonzero(_tensor(a)),
    np.cumsum: _cum(torch.cumsum),
    np.cumprod: _cum(torch.cumprod),
    np.diff: _diff,
    np.dot: _dot,
    np.vdot: lambda a, b: torch.dot(*_promote([_tensor(a).reshape(-1), _tensor(b).reshape(-1)])),
    np.inner: lambda a, b: torch.inner(*_promote([_tensor(a), _tensor(b)])),
    np.outer: _outer,
    np.tensordot: _tensordot,
    np.einsum: _einsum,
    np.trace: _trace_fn,
    np.diag: _diag,
    np.diagonal: _diagonal,
    np.zeros_like: _like(lambda t, dtype: torch.zeros_like(t, dtype=dtype)),
    np.ones_like: _like(lambda t, dtype: torch.ones_like(t, dtype=dtype)),
    np.empty_like: _like(lambda t, dtype: torch.zeros_like(t, dtype=dtype)),
    np.full_like: _full_like,
    np.pad: _pad,
    np.quantile: _quantile(pct=False),
    np.percentile: _quantile(pct=True),
    np.median: _median,
    np.round: _round,
    np.around: _round,
    np.flip: _flip,
    np.fliplr: lambda m: torch.flip(_tensor(m), (1,)),
    np.flipud: lambda m: torch.flip(_tensor(m), (0,)),
    np.roll: _roll,
    np.tile: _tile,
    np.repeat: _repeat,
    np.triu: _tri(torch.triu),
    np.tril: _tri(torch.tril),
    np.atleast_1d: _atleast(1),
    np.atleast_2d: _atleast(2),
    np.count_nonzero: _count_nonzero,
    np.nan_to_num: _nan_to_num,
    np.allclose: _allclose,
    np.isclose: _isclose,
    np.shape: _shape,
    np.ndim: _ndim,
    np.size: _size,
    np.copy: _copy,
    np.split: lambda a, i, axis=0: _split_fn(a, i, axis, strict=True),
    np.array_split: _split_fn,
    np.linalg.norm: _norm,
    np.linalg.det: _linalg(torch.linalg.det),
    np.linalg.inv: _linalg(torch.linalg.inv),
    np.linalg.solve: _solve,
    np.linalg.slogdet: _slogdet,
    np.linalg.cholesky: _linalg(torch.linalg.cholesky),
    np.fft.fft: _fft(torch.fft.fft),
    np.fft.ifft: _fft(torch.fft.ifft),
    np.fft.rfft: _fft(torch.fft.rfft),
    np.fft.irfft: _fft(torch.fft.irfft),
}


def _int_pow(a, b):
    return torch.pow(a, b)


def _true_divide(a, b):
    return torch.true_divide(a, b)


def _scalar_first(fn):
    """``fn`` for a number on the left too (7.0 % x): as a 0-d tensor, whose overload
    has a derivative (the number-first one has none, or none at all for fmod)."""

    def run(a, b):
        return fn(_scalar_tensor(a, b) if not isinstance(a, torch.Tensor) else a, b)

    return run


# torch.heaviside and torch.floor_divide have no derivative (autograd raises in the
# backward); _heaviside and div(rounding_mode="floor") give NumPy's values and the
# zero gradient a step function has
def _heaviside(x, h):
    if not x.is_floating_point():
        x = x.to(_wide())
    if isinstance(h, torch.Tensor) and h.ndim == 0 and h.is_cpu:
        h = h.item()  # a scalar made on the host: no copy to the device
    step = torch.where(torch.isnan(x), x, (torch.sign(x) + 1) / 2)
    return torch.where(x == 0, h, step)


# NumPy ufunc -> torch function (elementwise, broadcasting)
UFUNCS: dict[np.ufunc, Callable] = {
    np.add: torch.add,
    np.subtract: torch.sub,
    np.multiply: torch.mul,
    np.divide: _true_divide,
    np.true_divide: _true_divide,
    np.floor_divide: _scalar_first(functools.partial(torch.div, rounding_mode="floor")),
    np.remainder: _scalar_first(torch.remainder),
    np.fmod: _scalar_first(torch.fmod),
    np.power: _int_pow,
    np.float_power: lambda a, b: torch.float_power(a, b),
    np.negative: torch.neg,
    np.positive: lambda a: +a,
    np.absolute: torch.abs,
    np.fabs: torch.abs,
    np.sign: _sign,
    np.exp: torch.exp,
    np.exp2: torch.exp2,
    np.expm1: torch.expm1,
    np.log: torch.log,
    np.log2: torch.log2,
    np.log10: torch.log10,
    np.log1p: torch.log1p,
    np.logaddexp: torch.logaddexp,
    np.logaddexp2: torch.logaddexp2,
    np.sqrt: torch.sqrt,
    np.cbrt: lambda a: torch.sign(a) * torch.abs(a) ** (1 / 3),
    np.square: torch.square,
    np.reciprocal: torch.reciprocal,
    np.sin: torch.sin,
    np.cos: torch.cos,
    np.tan: torch.tan,
    np.arcsin: torch.asin,
    np.arccos: torch.acos,
    np.arctan: torch.atan,
    np.arctan2: torch.atan2,
    np.hypot: torch.hypot,
    np.sinh: torch.sinh,
    np.cosh: torch.cosh,
    np.tanh: torch.tanh,
    np.arcsinh: torch.asinh,
    np.arccosh: torch.acosh,
    np.arctanh: torch.atanh,
    np.deg2rad: torch.deg2rad,
    np.rad2deg: torch.rad2deg,
    np.maximum: torch.maximum,
    np.minimum: torch.minimum,
    np.fmax: torch.fmax,
    np.fmin: torch.fmin,
    np.floor: torch.floor,
    np.ceil: torch.ceil,
    np.trunc: torch.trunc,
    np.rint: torch.round,
    np.copysign: torch.copysign,
    np.heaviside: _heaviside,
    np.equal: torch.eq,
    np.not_equal: torch.ne,
    np.less: torch.lt,
    np.less_equal: torch.le,
    np.greater: torch.gt,
    np.greater_equal: torch.ge,
    np.logical_and: torch.logical_and,
    np.logical_or: torch.logical_or,
    np.logical_xor: torch.logical_xor,
    np.logical_not: torch.logical_not,
    np.bitwise_and: torch.bitwise_and,
    np.bitwise_or: torch.bitwise_or,
    np.bitwise_xor: torch.bitwise_xor,
    np.invert: torch.bitwise_not,
    np.isnan: torch.isnan,
    np.isinf: torch.isinf,
    np.isfinite: torch.isfinite,
    np.signbit: torch.signbit,
    np.conjugate: torch.conj_physical,
    np.matmul: lambda a, b: torch.matmul(*_promote([_tensor(a), _tensor(b)])),
}
if hasattr(np, "vecdot"):
    UFUNCS[np.vecdot] = lambda a, b: torch.linalg.vecdot(*_promote([_tensor(a), _tensor(b)]))

# scipy.special ufuncs, matched by name once SciPy is imported by the user's code
SCIPY_UFUNCS: dict[str, Callable] = {
    "xlogy": torch.special.xlogy,
    "xlog1py": torch.special.xlog1py,
    "expit": torch.sigmoid,
    "logit": torch.logit,
    "log_expit": torch.nn.functional.logsigmoid,
    "erf": torch.special.erf,
    "erfc": torch.special.erfc,
    "erfinv": torch.special.erfinv,
    "erfcx": torch.special.erfcx,
    "gammaln": torch.special.gammaln,
    "psi": torch.special.digamma,
    "digamma": torch.special.digamma,
    "i0": torch.special.i0,
    "i0e": torch.special.i0e,
    "i1": torch.special.i1,
    "i1e": torch.special.i1e,
    "ndtr": torch.special.ndtr,
    "ndtri": torch.special.ndtri,
    "log_ndtr": torch.special.log_ndtr,
    "entr": torch.special.entr,
    "sinc": torch.special.sinc,
    "expm1": torch.special.expm1,
    "log1p": torch.special.log1p,
    "exp2": torch.special.exp2,
    "rel_entr": lambda x, y: torch.where(
        (x > 0) & (y > 0),
        torch.special.xlogy(x, x) - torch.special.xlogy(x, y),
        torch.where((x == 0) & (y >= 0), torch.zeros_like(x * y), torch.full_like(x * y, math.inf)),
    ),
    "huber": lambda d, r: torch.where(torch.abs(r) <= d, 0.5 * r * r, d * (torch.abs(r) - 0.5 * d)),
    "pseudo_huber": lambda d, r: d * d * (torch.sqrt(1 + (r / d) ** 2) - 1),
}


def _scipy_ufunc(ufunc: np.ufunc) -> Callable | None:
    special = sys.modules.get("scipy.special")
    name = getattr(ufunc, "__name__", "")
    if special is not None and getattr(special, name, None) is ufunc:
        return SCIPY_UFUNCS.get(name)
    return None


def supported() -> list[str]:
    """Every NumPy and SciPy name that ``mode="auto"`` follows, sorted.

    >>> names = supported()
    >>> "numpy.mean" in names and "scipy.special.xlogy" in names
    True
    """
    out = set()
    for f in FUNCTIONS:
        mod = getattr(f, "__module__", "numpy") or "numpy"
        mod = "numpy.linalg" if "linalg" in mod else "numpy.fft" if "fft" in mod else "numpy"
        out.add(f"{mod}.{f.__name__}")
    out |= {f"numpy.{u.__name__}" for u in UFUNCS}
    out |= {f"scipy.special.{n}" for n in SCIPY_UFUNCS}
    out |= {f"ndarray.{m}" for m in _METHODS}
    out |= {f"ndarray.{op}" for op in _OPERATORS}
    return sorted(out)


# -------------------------------------------------------------- the wrapper
# the float NumPy computes in for integer and bool input: the smallest that holds it
_INT_TO_FLOAT = {
    torch.bool: torch.float16,
    torch.int8: torch.float16,
    torch.uint8: torch.float16,
    torch.int16: torch.float32,
}


def _as_float(a: Any, division: bool = False) -> Any:
    if isinstance(a, torch.Tensor) and not (a.is_floating_point() or a.is_complex()):
        return a.to(_wide() if division else _INT_TO_FLOAT.get(a.dtype) or _wide())
    return a


def _binop(ufunc: np.ufunc, reflected: bool = False):
    def op(self, other):
        if reflected:
            return self.__array_ufunc__(ufunc, "__call__", other, self)
        return self.__array_ufunc__(ufunc, "__call__", self, other)

    return op


_OPERATORS = {
    "__add__": np.add,
    "__sub__": np.subtract,
    "__mul__": np.multiply,
    "__truediv__": np.true_divide,
    "__floordiv__": np.floor_divide,
    "__mod__": np.remainder,
    "__pow__": np.power,
    "__matmul__": np.matmul,
    "__lt__": np.less,
    "__le__": np.less_equal,
    "__gt__": np.greater,
    "__ge__": np.greater_equal,
    "__eq__": np.equal,
    "__ne__": np.not_equal,
    "__and__": np.bitwise_and,
    "__or__": np.bitwise_or,
    "__xor__": np.bitwise_xor,
}
_REFLECTED = {
    "__radd__": np.add,
    "__rsub__": np.subtract,
    "__rmul__": np.multiply,
    "__rtruediv__": np.true_divide,
    "__rfloordiv__": np.floor_divide,
    "__rmod__": np.remainder,
    "__rpow__": np.power,
    "__rmatmul__": np.matmul,
    "__rand__": np.bitwise_and,
    "__ror__": np.bitwise_or,
    "__rxor__": np.bitwise_xor,
}
_METHODS = (
    "sum mean prod max min var std any all argmax argmin clip reshape transpose ravel flatten "
    "squeeze swapaxes cumsum cumprod dot round copy astype item tolist conj diagonal trace "
    "repeat take nonzero"
).split()


def _index(key: Any) -> Any:
    if isinstance(key, tuple):
        keys = tuple(_index(k) for k in key)
        if any(isinstance(k, torch.Tensor) and k.ndim for k in keys):
            # NumPy counts an integer beside an array index as an advanced index too
            # (x[0, :, [0, 1]] puts the broadcast dimension first); torch selects with
            # it first. As a one-element array it broadcasts the way NumPy's does.
            device = next(k.device for k in keys if isinstance(k, torch.Tensor) and k.ndim)
            keys = tuple(
                torch.tensor([int(k)], device=device)
                if isinstance(k, (int, np.integer)) and not isinstance(k, bool)
                else k
                for k in keys
            )
        return keys
    if isinstance(key, TracedArray):
        key = key.t
    elif isinstance(key, list) and not key:
        key = torch.empty(0, dtype=torch.int64, device=_STATE.device)  # x[[]]
    elif isinstance(key, (np.ndarray, list)):
        key = _constant(key)
    if isinstance(key, torch.Tensor) and key.dtype not in (torch.bool, torch.int64):
        if key.is_floating_point() or key.is_complex():
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        key = key.long()  # torch reads uint8 as a mask, and refuses int8 and int16
    return key


def _dims_taken(k: Any) -> int:
    """How many of the array's dimensions an index key consumes (not for ...)."""
    if k is None:
        return 0
    if isinstance(k, (slice, int, np.integer)):
        return 1
    if isinstance(k, TracedArray):
        k = k.t
    dtype = k.dtype if isinstance(k, (torch.Tensor, np.ndarray)) else np.asarray(k).dtype
    if dtype in (torch.bool, np.bool_):
        return k.ndim if isinstance(k, (torch.Tensor, np.ndarray)) else np.asarray(k).ndim
    return 1


def _negative_steps(t: torch.Tensor, key: Any) -> tuple[torch.Tensor, Any]:
    """Torch slices cannot step backwards: flip those dims first."""
    keys = key if isinstance(key, tuple) else (key,)
    if not any(isinstance(k, slice) and k.step is not None and k.step < 0 for k in keys):
        return t, key
    taken = [None if k is Ellipsis else _dims_taken(k) for k in keys]
    rest = t.ndim - sum(n for n in taken if n is not None)
    out = []
    dim = 0  # the input dimension the next key applies to
    for k, n in zip(keys, taken):
        if isinstance(k, slice) and k.step is not None and k.step < 0:
            size = t.shape[dim]
            idx = range(*k.indices(size))
            t = t.flip(dim)
            out.append(slice(size - 1 - idx[0], size - idx[-1], -k.step) if idx else slice(0, 0))
        else:
            out.append(k)
        dim += rest if n is None else n  # t is flipped first: keys keep their dims
    return t, tuple(out)


class TracedArray:
    """A torch tensor that NumPy code can use as an array, with autograd attached."""

    __slots__ = ("t",)
    __array_priority__ = 1000

    def __init__(self, t: torch.Tensor) -> None:
        self.t = t

    # -- the dispatch protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
        fn = UFUNCS.get(ufunc) or _scipy_ufunc(ufunc)
        if fn is None:
            raise TraceError(
                f"npgrad op '{_op_name()}' (mode='auto'): no torch mapping for the ufunc "
                f"{ufunc.__name__!r} (called from {_caller()}); register a backward with "
                "@op.backward, or use mode='numeric'. npgrad.supported() lists what is followed"
            )
        if method != "__call__":
            if method == "reduce" and ufunc in _UFUNC_REDUCE:
                kwargs.setdefault("axis", 0)  # ufunc.reduce's default, unlike np.sum's
                return _wrap(FUNCTIONS[_UFUNC_REDUCE[ufunc]](*inputs, **kwargs))
            raise TraceError(
                f"npgrad op '{_op_name()}' (mode='auto'): {ufunc.__name__}.{method} is not "
                "supported; use the equivalent NumPy function"
            )
        if not kwargs:
            fused = _defer(ufunc, inputs)
            if fused is not None:
                return fused
        if kwargs.get("out") is not None:
            raise _fail(f"np.{ufunc.__name__}(..., out=...) (an in-place write)")
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("out", None)
        if kwargs:
            raise TraceError(
                f"npgrad op '{_op_name()}' (mode='auto'): np.{ufunc.__name__} with "
                f"{sorted(kwargs)} is not supported"
            )
        args = _numpy_types(_numpy_promotion([_operand(x) for x in inputs]))
        if ufunc in _ARITHMETIC and any(
            isinstance(a, torch.Tensor) and a.dtype == torch.bool for a in args
        ):
            if all(
                isinstance(a, bool) or (isinstance(a, torch.Tensor) and a.dtype == torch.bool)
                for a in args
            ):
                if ufunc in (np.subtract, np.negative):
                    raise TypeError(f"numpy boolean {ufunc.__name__} is not supported")
            else:
                args = [a.to(torch.int64) if isinstance(a, torch.Tensor) and a.dtype == torch.bool
                        else a for a in args]  # fmt: skip
        if ufunc in (np.true_divide, np.divide):
            args = [_as_float(a, division=True) for a in args]  # float64, as NumPy
        elif ufunc in _FLOAT_UFUNCS:
            args = [_as_float(a) for a in args]
        if not any(isinstance(a, torch.Tensor) for a in args):
            args[0] = _constant(args[0])
        elif ufunc in _TENSOR_ONLY:
            ref = next(a for a in args if isinstance(a, torch.Tensor))
            args = [a if isinstance(a, torch.Tensor) else _scalar_tensor(a, ref) for a in args]
        result = fn(*args)
        if dtype is not None:
            result = result.to(_torch_dtype(dtype))
        return _wrap(result)

    def __array_function__(self, func: Callable, types: tuple, args: tuple, kwargs: dict):
        impl = FUNCTIONS.get(func)
        if impl is None:
            name = f"{getattr(func, '__module__', 'numpy')}.{getattr(func, '__name__', func)}"
            raise TraceError(
                f"npgrad op '{_op_name()}' (mode='auto'): no torch mapping for {name} "
                f"(called from {_caller()}); register a backward with @op.backward, or use "
                "mode='numeric'. npgrad.supported() lists what is followed"
            )
        return _wrap(impl(*args, **kwargs))

    def __array__(self, dtype=None, copy=None):
        t = self.t
        if t.is_floating_point() or t.is_complex():
            raise _fail(f"converting a traced array to a NumPy array (in {_caller()})")
        # integer and bool arrays (labels, masks) carry no gradient, so NumPy code that
        # does not dispatch, such as indexing a NumPy constant (class_weights[y]), may
        # have their values: a host copy on an accelerator
        if torch._C._are_functorch_transforms_active() or torch.compiler.is_compiling():
            raise TraceError(
                f"npgrad op '{_op_name()}' (mode='auto'): converting a traced integer array "
                f"to a NumPy array (in {_caller()}) is impossible under torch.func and "
                "torch.compile, where it has no values; compute with the traced array "
                "instead, e.g. (y[:, None] == np.arange(len(w))) @ w for w[y]"
            )
        a = t.detach().cpu().numpy()
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        if copy:
            return a.copy()  # np.array(y): the caller's own array, writeable
        if copy is False and not t.is_cpu:
            raise ValueError("a traced array on an accelerator cannot be read without a copy")
        if t.is_cpu and np.shares_memory(a, t.detach().numpy()):
            a.flags.writeable = False  # a view of the caller's tensor
        return a

    # -- properties NumPy code reads
    def _like(self) -> torch.Tensor:
        """A tensor with this array's shape and dtype (a deferred one has no value yet)."""
        return self.t

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._like().shape)

    @property
    def ndim(self) -> int:
        return self._like().ndim

    @property
    def size(self) -> int:
        return self._like().numel()

    @property
    def dtype(self) -> np.dtype:
        return _TORCH_TO_NP[self._like().dtype]

    @property
    def T(self) -> TracedArray:
        return TracedArray(self.t.permute(*reversed(range(self.t.ndim))))

    @property
    def real(self) -> TracedArray:
        return TracedArray(self.t.real if self.t.is_complex() else self.t)

    @property
    def imag(self) -> TracedArray:
        return TracedArray(self.t.imag if self.t.is_complex() else torch.zeros_like(self.t))

    @property
    def flat(self):
        raise TraceError(f"npgrad op '{_op_name()}' (mode='auto'): .flat is not supported")

    def __len__(self) -> int:
        if self.t.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.t.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield TracedArray(self.t[i])

    def __repr__(self) -> str:
        return f"TracedArray({self.t!r})"

    # -- values that leave the graph
    def _scalar(self, kind: str):
        if self.t.is_floating_point() or self.t.is_complex():
            raise _fail(f"{kind} on a floating traced array (in {_caller()})")
        return self.t.item()

    def __float__(self):
        return float(self._scalar("float()"))

    def __int__(self):
        return int(self._scalar("int()"))

    def __index__(self):
        if self.t.is_floating_point():
            raise TypeError("only integer arrays can be used as an index")
        return int(self.t.item())

    def __bool__(self):
        # control flow on values keeps the gradient of what is computed (eager)
        if self.t.numel() > 1:
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. "
                "Use a.any() or a.all()"
            )
        return bool(self.t)

    def __contains__(self, value):
        return bool((self == value).any())

    def __divmod__(self, other):
        return np.floor_divide(self, other), np.remainder(self, other)

    def __rdivmod__(self, other):
        return np.floor_divide(other, self), np.remainder(other, self)

    def __format__(self, spec: str) -> str:
        # a string carries no gradient: printing a traced value is harmless
        if self.t.ndim == 0 and spec:
            return format(self.t.item(), spec)
        return format(str(self), spec)

    def __round__(self, ndigits=None):
        if ndigits is None:
            return round(self._scalar("round()"))
        return np.round(self, ndigits)

    def item(self, *args):
        return self._scalar(".item()")

    def tolist(self):
        return self._scalar(".tolist()") if self.t.ndim == 0 else [v.tolist() for v in self]

    def __setitem__(self, key, value):
        raise _fail(f"writing into a traced array (x[...] = ..., in {_caller()})")

    def __getitem__(self, key):
        t, key = _negative_steps(self.t, key)
        return TracedArray(t[_index(key)])

    def __neg__(self):
        return self.__array_ufunc__(np.negative, "__call__", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.__array_ufunc__(np.absolute, "__call__", self)

    def __invert__(self):
        return self.__array_ufunc__(np.invert, "__call__", self)

    for _name, _uf in _OPERATORS.items():
        locals()[_name] = _binop(_uf)
    for _name, _uf in _REFLECTED.items():
        locals()[_name] = _binop(_uf, reflected=True)
    del _name, _uf
    __hash__ = None  # type: ignore[assignment]

    # the first two steps of a difference-based loss, (a - b) ** 2, straight to the
    # deferral: the general ufunc route costs as much as a small loss's kernel
    def __sub__(self, other):
        if type(other) is TracedArray and type(self) is TracedArray:
            fused = _defer(np.subtract, (self, other))
            if fused is not None:
                return fused
        return self.__array_ufunc__(np.subtract, "__call__", self, other)

    def __pow__(self, other):
        if type(self) is _Deferred:
            fused = _defer(np.power, (self, other))
            if fused is not None:
                return fused
        return self.__array_ufunc__(np.power, "__call__", self, other)

    def __iadd__(self, other):
        raise _fail(f"an in-place update (+=, in {_caller()})")

    __isub__ = __imul__ = __itruediv__ = __ipow__ = __iadd__

    # -- ndarray methods
    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return np.max(self, axis=axis, out=out, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return np.min(self, axis=axis, out=out, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return np.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return np.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def any(self, axis=None, out=None, keepdims=False):
        return np.any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, out=None, keepdims=False):
        return np.all(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, out=None, keepdims=False):
        return np.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return np.argmin(self, axis=axis, keepdims=keepdims)

    def clip(self, min=None, max=None, out=None):
        return np.clip(self, min, max, out=out)

    def reshape(self, *shape, order="C"):
        return np.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def transpose(self, *axes):
        return (
            np.transpose(self, axes if axes and axes[0] is not None else None)
            if not (len(axes) == 1 and isinstance(axes[0], (tuple, list)))
            else np.transpose(self, axes[0])
        )

    def ravel(self, order="C"):
        return np.ravel(self, order)

    flatten = ravel

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def swapaxes(self, a, b):
        return np.swapaxes(self, a, b)

    def cumsum(self, axis=None, dtype=None, out=None):
        return np.cumsum(self, axis=axis, dtype=dtype)

    def cumprod(self, axis=None, dtype=None, out=None):
        return np.cumprod(self, axis=axis, dtype=dtype)

    def dot(self, b, out=None):
        return np.dot(self, b)

    def round(self, decimals=0, out=None):
        return np.round(self, decimals)

    def copy(self, order="C"):
        return TracedArray(self.t.clone())

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return TracedArray(self.t.to(_torch_dtype(dtype)))

    def conj(self):
        return np.conjugate(self)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return np.trace(self, offset, axis1, axis2)

    def repeat(self, repeats, axis=None):
        return np.repeat(self, repeats, axis)

    def take(self, indices, axis=None, out=None, mode="raise"):
        return np.take(self, indices, axis)

    def nonzero(self):
        return tuple(TracedArray(i) for i in torch.nonzero(self.t, as_tuple=True))

    def sort(self, *args, **kwargs):
        raise _fail(f"sorting in place (.sort(), in {_caller()}); use np.sort(a)")

    def _in_place(self, *args, **kwargs):
        raise _fail(f"an in-place method (.fill/.put/.resize/.partition, in {_caller()})")

    fill = put = resize = partition = itemset = _in_place

    def argsort(self, axis=-1, kind=None, order=None):
        return np.argsort(self, axis=axis, kind=kind, order=order)

    conjugate = conj

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def mT(self) -> TracedArray:
        return TracedArray(self._like().mT)


class _Deferred(TracedArray):
    """An elementwise difference (or its square or absolute value) not computed yet.

    ``np.mean((x - t) ** 2)`` would run three unfused ops and three backward ops;
    deferring the elementwise part lets the reduction become ``F.mse_loss`` (or
    ``F.l1_loss``): one fused kernel each way, with the same value and gradient.
    Anything else that reads the array computes it exactly as the unfused path would.
    """

    __slots__ = ("_value", "kind", "a", "b")

    def __init__(self, kind: str, a: torch.Tensor, b: torch.Tensor) -> None:
        self._value = None
        self.kind, self.a, self.b = kind, a, b

    @property  # type: ignore[override]
    def t(self) -> torch.Tensor:
        if self._value is None:
            d = torch.sub(self.a, self.b)
            if self.kind == "square":
                d = torch.square(d)
            elif self.kind == "pow2":
                d = torch.pow(d, 2)
            elif self.kind == "abs":
                d = torch.abs(d)
            self._value = d
        return self._value

    def _like(self) -> torch.Tensor:
        return self.a  # _defer only defers when a and b share shape and dtype


def _defer(ufunc: np.ufunc, inputs: tuple) -> _Deferred | None:
    if ufunc is np.subtract and len(inputs) == 2:
        a, b = inputs
        if (
            type(a) is TracedArray
            and type(b) is TracedArray
            and a.t.shape == b.t.shape
            and a.t.dtype == b.t.dtype
            and a.t.is_floating_point()
        ):
            return _Deferred("sub", a.t, b.t)
        return None
    x = inputs[0]
    if not isinstance(x, _Deferred) or x.kind != "sub" or x._value is not None:
        return None
    if ufunc is np.square:
        return _Deferred("square", x.a, x.b)
    if ufunc is np.absolute:
        return _Deferred("abs", x.a, x.b)
    if ufunc is np.power and len(inputs) == 2 and type(inputs[1]) in (int, float):
        if inputs[1] == 2:
            return _Deferred("pow2", x.a, x.b)
    return None


_REDUCTION = {"mean": 1, "sum": 2}  # ATen's Reduction enum
_FUSED = {False: torch._C._nn.mse_loss, True: torch._C._nn.l1_loss}


def _fusing(reduction: str, plain: Callable) -> Callable:
    def run(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if (
            isinstance(a, _Deferred)
            and a._value is None
            and a.kind != "sub"
            and axis is None
            and dtype is None
            and out is None
            and not keepdims
            and not kw
        ):
            # shapes and dtypes already match (see _defer): the ATen kernels directly,
            # without torch.nn.functional's broadcasting checks
            return _FUSED[a.kind == "abs"](a.a, a.b, _REDUCTION[reduction])
        return plain(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    return run


FUNCTIONS[np.mean] = _fusing("mean", FUNCTIONS[np.mean])
FUNCTIONS[np.sum] = _fusing("sum", FUNCTIONS[np.sum])


# torch functions that take no Python scalars: a scalar becomes a 0-d CPU tensor,
# which TensorIterator passes to any device's kernel without a host-to-device copy
_TENSOR_ONLY = {
    np.maximum, np.minimum, np.fmax, np.fmin, np.arctan2, np.hypot, np.copysign,
    np.heaviside, np.logaddexp, np.logaddexp2, np.logical_and, np.logical_or,
    np.logical_xor,
}  # fmt: skip


def _scalar_tensor(v: Any, ref: torch.Tensor) -> torch.Tensor:
    same_kind = (
        isinstance(v, bool)
        or (isinstance(v, int) and ref.dtype != torch.bool)
        or (isinstance(v, float) and (ref.is_floating_point() or ref.is_complex()))
    )
    if same_kind:
        return torch.tensor(v, dtype=ref.dtype)
    if isinstance(v, (bool, int, float, complex)):
        return torch.tensor(v, dtype=_wide() if isinstance(v, float) else None)
    # a list or array is no scalar: it goes to the device, with NumPy's dtype
    return _constant(v, ref.device)


def _numpy_types(args: list) -> list:
    """Arrays of different dtypes meet in NumPy's common dtype. Torch's differs: a 0-d
    array yields to a larger one of the same kind (NumPy 2 counts it in full), and
    int64 with float32 stays float32 (NumPy: float64)."""
    dtypes = {a.dtype for a in args if isinstance(a, torch.Tensor)}
    if len(dtypes) < 2 or torch.bfloat16 in dtypes or not dtypes <= _TORCH_TO_NP.keys():
        return args  # one dtype, or bfloat16, which NumPy has no rule for
    want = _torch_dtype(np.result_type(*(_TORCH_TO_NP[d] for d in dtypes)))
    if want is torch.float64 and _STATE.device.type in _NO_FLOAT64:
        want = torch.float32
    return [a.to(want) if isinstance(a, torch.Tensor) and a.dtype != want else a for a in args]


def _numpy_promotion(args: list) -> list:
    """NumPy's rules where torch's differ: integer/bool arrays meeting a Python float
    compute in float64 (torch would use float32), and bool arrays in arithmetic with
    numbers count as integers."""
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if not tensors or any(t.is_floating_point() or t.is_complex() for t in tensors):
        return args
    if any(isinstance(a, float) for a in args):
        return [a.to(_wide()) if isinstance(a, torch.Tensor) else a for a in args]
    ints = [t.dtype for t in tensors if t.dtype is not torch.bool]
    for a in args:
        if type(a) is int and ints:
            # NumPy 2 refuses a Python integer its array's dtype cannot hold; torch
            # would wrap it around silently
            widest = max(ints, key=lambda d: torch.iinfo(d).bits)
            info = torch.iinfo(widest)
            if not info.min <= a <= info.max:
                raise OverflowError(f"Python integer {a} out of bounds for {_TORCH_TO_NP[widest]}")
    return args


_ARITHMETIC = {np.add, np.subtract, np.multiply, np.negative, np.floor_divide, np.remainder}
_UFUNC_REDUCE = {
    np.add: np.sum,
    np.multiply: np.prod,
    np.maximum: np.max,
    np.minimum: np.min,
    np.logical_and: np.all,
    np.logical_or: np.any,
}
_FLOAT_UFUNCS = {
    np.exp,
    np.exp2,
    np.expm1,
    np.log,
    np.log2,
    np.log10,
    np.log1p,
    np.sqrt,
    np.sin,
    np.cos,
    np.tan,
    np.arcsin,
    np.arccos,
    np.arctan,
    np.sinh,
    np.cosh,
    np.tanh,
    np.arcsinh,
    np.arccosh,
    np.arctanh,
    np.reciprocal,
    np.logaddexp,
    np.logaddexp2,
    np.arctan2,
    np.hypot,
    np.deg2rad,
    np.rad2deg,
    np.cbrt,
}


# ------------------------------------------------------------------ running
def _run(op: Any, args: list, kwargs: dict, device: torch.device) -> Any:
    _STATE.ops.append(op.name)
    prev = _STATE.device
    _STATE.device = device
    try:
        return _op._run_user(op, "forward", op.fn, args, kwargs)
    finally:
        _STATE.ops.pop()
        _STATE.device = prev


def _check_output(op: Any, j: int, r: torch.Tensor, dtype: Any, device: torch.device, check: bool):
    if r.is_complex():
        raise TypeError(
            f"npgrad op '{op.name}': output {j} is complex; return a real array "
            "(for example np.abs of the spectrum)"
        )
    _op.require_scalar_loss(op, r.shape)
    if r.is_floating_point():
        if dtype is not None and r.dtype != dtype:
            r = r.to(dtype)
        # reading a finiteness check's answer is a device-to-host copy: off the CPU only
        # an explicit nonfinite="raise" pays for it; under torch.func values are abstract
        if (
            check
            and (op.nonfinite == "raise" or (op.nonfinite == "warn" and device.type == "cpu"))
            and not _abstract()
        ):
            finite = math.isfinite(r.item()) if r.ndim == 0 else bool(r.isfinite().all())
            if not finite:
                _op.report_nonfinite(op, f"output {j}")
    return r


def _outputs(
    op: Any, out: Any, dtype: Any, device: torch.device, check: bool, inputs: Any = ()
) -> tuple[tuple[torch.Tensor, ...], str]:
    structure = "tuple" if isinstance(out, tuple) else "single"
    outs = out if structure == "tuple" else (out,)
    results = []
    for j, o in enumerate(outs):
        if isinstance(o, TracedArray):
            r = o.t
        elif isinstance(o, (np.ndarray, np.generic, int, float, bool)):
            r = _constant(o, device)
        else:
            raise TypeError(
                f"npgrad op '{op.name}': output {j} is not array-like: {type(o).__name__}"
            )
        if any(r is a for a in inputs):
            r = r.view_as(r)  # an op returns a new tensor (here a view), never its input
        results.append(_check_output(op, j, r, dtype, device, check))
    return tuple(results), structure


def evaluate(call: Any, tensors: list[torch.Tensor]) -> tuple[tuple[torch.Tensor, ...], str]:
    """Run ``call``'s NumPy function on ``tensors`` through the traced wrapper.

    Returns the outputs as tensors (with autograd history when grad is enabled)
    and the structure (``"single"`` or ``"tuple"``).
    """
    device = tensors[0].device if tensors else torch.device("cpu")
    args, kwargs = call.numpy_args([TracedArray(t) for t in tensors])
    out = _run(call.op, args, kwargs, device)
    return _outputs(call.op, out, call.dtype, device, call.check_finite, tensors)


def run_traced(call: Any) -> Any:
    """Eager automatic mode: autograd records the torch ops directly."""
    outs, structure = evaluate(call, call.tensors)
    return outs if structure == "tuple" else outs[0]


def run_fast(op: Any, args: tuple) -> Any:
    """Eager automatic mode for the common call: positional tensors only, one
    device, one floating dtype and (for a loss) one non-empty shape.

    Returns ``None`` for any other call, which then takes the general route
    (``_Call.build``, which also words the errors).  In a training loop this Python
    runs with cold caches and costs as much as a small loss's kernels, so it does
    ``_check_output``'s checks inline, in as few steps as it can.
    """
    dtype = _op.uniform_tensors(op, args)
    if dtype is None:
        return None
    device = args[0].device
    is_loss = op.is_loss
    wrapped = [TracedArray(a) for a in args]
    _STATE.ops.append(op.name)
    prev = _STATE.device
    _STATE.device = device
    try:
        out = op.fn(*wrapped)
    except Exception as e:
        if not isinstance(e, _op.NpgradError):
            e.add_note(f"(raised in the forward of npgrad op '{op.name}')")
        raise
    finally:
        _STATE.ops.pop()
        _STATE.device = prev
    if isinstance(out, TracedArray):
        r = out.t
        if r.dtype == dtype and (r.ndim == 0 or not is_loss):
            for a in args:
                if r is a:
                    break  # the input itself: the general route returns a view
            else:
                # the float result of the input's dtype: only the finiteness policy is left
                policy = op.nonfinite
                if (
                    policy != "ignore"
                    and (policy == "raise" or device.type == "cpu")
                    and not _abstract()
                    and not (math.isfinite(r.item()) if r.ndim == 0 else r.isfinite().all())
                ):
                    _op.report_nonfinite(op, "output 0")
                return r
    outs, structure = _outputs(op, out, dtype, device, True, args)
    return outs if structure == "tuple" else outs[0]


# ------------------------------------------------------------ the engine entry
def _wrap_tree(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return TracedArray(x)
    if isinstance(x, (list, tuple)) and type(x) in (list, tuple):
        return type(x)(_wrap_tree(v) for v in x)
    if isinstance(x, dict):
        return {k: _wrap_tree(v) for k, v in x.items()}
    return x


def _unwrap_tree(x: Any, device: torch.device) -> Any:
    if isinstance(x, TracedArray):
        return x.t
    if isinstance(x, (np.ndarray, np.generic, bool, int, float)):
        return _constant(x, device)
    if isinstance(x, (list, tuple)) and type(x) in (list, tuple):
        return type(x)(_unwrap_tree(v, device) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap_tree(v, device) for k, v in x.items()}
    return x


def trace(
    fn: Callable[..., Any],
    args: tuple | list,
    kwargs: dict | None = None,
    *,
    name: str,
    device: torch.device | str | None = None,
) -> Any:
    """Run plain NumPy ``fn`` on torch tensors; autograd records every op.

    Every ``torch.Tensor`` in ``args``/``kwargs`` (inside lists, tuples and dicts
    too) reaches ``fn`` as a :class:`TracedArray`; the result comes back with the
    same structure, arrays and numbers as tensors on ``device``.  ``name`` is what
    error messages call the computation.  Knows nothing of ``Function``.
    """
    kwargs = kwargs or {}
    if device is None:
        found = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
        device = found[0].device if found else torch.device("cpu")
    device = torch.device(device)
    _STATE.ops.append(name)
    prev = _STATE.device
    _STATE.device = device
    try:
        out = fn(*_wrap_tree(list(args)), **_wrap_tree(dict(kwargs)))
    except Exception as e:
        if not isinstance(e, _op.NpgradError):
            e.add_note(f"(raised in npgrad's trace of '{name}')")
        raise
    finally:
        _STATE.ops.pop()
        _STATE.device = prev
    return _unwrap_tree(out, device)
