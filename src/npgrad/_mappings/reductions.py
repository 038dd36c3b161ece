"""Reductions, through one core (:func:`reduction`): axis, keepdims and dtype are
handled there once, for every row; each row only names its torch kernel."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._dtypes import (
    HALF,
    TORCH_TO_NP,
    UNSIGNED_WIDE,
    from_int64,
    is_inexact,
    to_int64,
)
from .._errors import user_stacklevel
from .._trace._array import TracedArray, tensor
from .._trace._fusion import fused_reduction
from .._trace._promote import no_bool_subtract
from .._trace._registry import implements, normalise_axis
from .._trace._state import TraceError, here, unsupported, values_hidden, wide

_UNSIGNED = frozenset({torch.uint8, *UNSIGNED_WIDE})  # what NumPy accumulates in uint64


def reduction(
    kernel: Callable[..., torch.Tensor],
    a: Any,
    axis: Any = None,
    dtype: torch.dtype | None = None,
    keepdims: bool = False,
    *,
    float_only: bool = False,
    **kw: Any,
) -> torch.Tensor:
    """``kernel(t, dim, keepdim, **kw)`` with NumPy's axis semantics.

    ``axis`` is already normalised (None, an int or a tuple of non-negative ints);
    ``dtype`` (a torch dtype) is the dtype computed in and returned.
    """
    t = tensor(a)
    if dtype is not None:
        t = t.to(dtype)
    elif float_only and not is_inexact(t.dtype):
        t = t.to(wide())
    source = t.dtype
    ordered = kernel is _amax or kernel is _amin
    if ordered and t.numel() == 0:
        _no_identity(t, axis, "maximum" if kernel is _amax else "minimum")
    unsigned = None
    if source in UNSIGNED_WIDE:  # tested first: the common float call skips the helper
        t, unsigned = to_int64(t, ordered=ordered)
    if axis is None:
        r = kernel(t, None, False, **kw)
        if keepdims:
            r = r.reshape((1,) * t.ndim)
    elif axis == ():
        # NumPy reduces over no axis; torch reads dim=() as every axis
        r = kernel(t.unsqueeze(0), 0, False, **kw)
    else:
        r = kernel(t, axis, keepdims, **kw)
    if ordered:
        return r if unsigned is None else from_int64(r, unsigned, ordered=True)
    if dtype is None and source in _UNSIGNED and kernel in (_sum, _prod):
        return r.to(torch.uint64)  # NumPy sums and multiplies unsigned ints in uint64
    r = from_int64(r, unsigned) if r.dtype is torch.int64 else r
    # torch sums small integers into int64; NumPy keeps the dtype asked for
    return r if dtype is None or r.dtype == dtype else r.to(dtype)


def _reduced(t: torch.Tensor, axis: Any) -> bool:
    """Whether a reduction over ``axis`` (normalised) meets an axis of length 0."""
    axes = range(t.ndim) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    return any(t.shape[d] == 0 for d in axes)


def _no_identity(t: torch.Tensor, axis: Any, op: str) -> None:
    # an extreme has no identity: NumPy's error, where torch's would name amax
    if _reduced(t, axis):
        raise ValueError(
            f"{here()}: zero-size array to reduction operation {op} which has no identity"
        )


def _sum(t, dim, keepdim):
    if t.dtype == torch.bool:
        t = t.to(torch.int64)
    return t.sum() if dim is None else torch.sum(t, dim=dim, keepdim=keepdim)


def _prod(t, dim, keepdim):
    if dim is None:
        return t.prod()
    for d in sorted(_dims(dim), reverse=True):
        t = t.prod(d, keepdim=keepdim)
    return t


_IDENTITY = {_sum: 0, _prod: 1}  # what a left-out place holds


def _amax(t, dim, keepdim):
    return t.amax() if dim is None else torch.amax(t, dim=dim, keepdim=keepdim)


def _amin(t, dim, keepdim):
    return t.amin() if dim is None else torch.amin(t, dim=dim, keepdim=keepdim)


def _mean(t, dim, keepdim):
    return t.mean() if dim is None else torch.mean(t, dim=dim, keepdim=keepdim)


def _var(t, dim, keepdim, ddof=0):
    count = t.numel() if dim is None else math.prod(t.shape[d] for d in _dims(dim))
    if count - ddof > 0:
        return torch.var(t, dim=dim, correction=ddof, keepdim=keepdim)
    # NumPy's warning, not torch's (a UserWarning naming ATen's source); the values
    # agree: inf, or nan where the deviations are all zero
    warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=user_stacklevel())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.var(t, dim=dim, correction=ddof, keepdim=keepdim)


def _dims(dim: Any) -> tuple:
    return dim if isinstance(dim, tuple) else (dim,)


def _std(t, dim, keepdim, ddof=0):
    # the square root of var taken where var > 0 only: torch.std's double backward is
    # nan where the deviation is zero (a length-1 axis), where its first is 0; var
    # (itself: 0, nan or inf) elsewhere
    return _root(_var(t, dim, keepdim, ddof))


def _root(v: torch.Tensor) -> torch.Tensor:
    pos = v > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, v, 1.0)), v)


def _any(t, dim, keepdim):
    r = torch.any(t) if dim is None else torch.any(t, dim=dim, keepdim=keepdim)
    return r if r.dtype is torch.bool else r.to(torch.bool)  # torch keeps uint8's dtype


def _all(t, dim, keepdim):
    r = torch.all(t) if dim is None else torch.all(t, dim=dim, keepdim=keepdim)
    return r if r.dtype is torch.bool else r.to(torch.bool)


# -------------------------------------------------------------------- where= and initial=
# NumPy's where= leaves places out of a reduction (a boolean mask broadcast against the
# input); initial= joins every slice's reduction, cast to the result's dtype as NumPy
# casts it (a float truncated into an integer, an integer out of range an error)
def _where(t: torch.Tensor, where: Any) -> torch.Tensor | None:
    if where is True:
        return None
    m = tensor(where)
    if m.dtype is not torch.bool:
        raise TypeError(
            f"Cannot cast array data from dtype('{TORCH_TO_NP.get(m.dtype, m.dtype)}') to "
            "dtype('bool') according to the rule 'safe'"
        )
    try:
        fits = torch.broadcast_shapes(m.shape, t.shape) == t.shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            "operands could not be broadcast together with remapped shapes "
            f"[original->remapped]: {tuple(t.shape)} {tuple(m.shape)}"
        )
    return m.expand(t.shape)


def _initial(initial: Any, like: torch.Tensor, name: str) -> torch.Tensor:
    # a NumPy scalar or 0-d array is a number here; only a traced value is refused
    if isinstance(initial, (TracedArray, torch.Tensor)):
        raise unsupported(f"{name}(..., initial=<a traced value>) (initial= as a number)")
    np_dtype = TORCH_TO_NP.get(like.dtype)
    if np_dtype is None:  # bfloat16: no NumPy twin, the number rounded by torch
        return torch.tensor(float(initial), device=like.device).to(like.dtype)
    return torch.as_tensor(np.asarray(initial, dtype=np_dtype), device=like.device)


def _filled(t: torch.Tensor, m: torch.Tensor | None, fill: Any) -> torch.Tensor:
    if m is None:
        return t
    return torch.where(m, t, torch.as_tensor(fill, dtype=t.dtype, device=t.device))


def _folded(kernel, a, axis, dtype, keepdims, initial, where, name) -> torch.Tensor:
    """np.sum / np.prod, with where= and initial=: the left-out places hold the identity,
    and initial= joins by the same operation (cast to the result's dtype as NumPy
    casts it: uint64 for unsigned inputs, so a negative initial= is NumPy's
    OverflowError)."""
    if initial is None and where is True:
        return reduction(kernel, a, axis, dtype, keepdims)
    t = tensor(a)
    r = reduction(kernel, _filled(t, _where(t, where), _IDENTITY[kernel]), axis, dtype, keepdims)
    if initial is None:
        return r
    init = _initial(initial, r, name)
    r, unsigned = to_int64(r)  # no uint16/32/64 kernels: int64 wraps as uint64 does
    init = init.to(r.dtype)
    return from_int64(r + init if kernel is _sum else r * init, unsigned)


def _beyond(kernel: Callable, dtype: torch.dtype) -> Any:
    """A value no element passes on the far side of the reduction: what left-out
    places hold, so the extreme is the kept elements' own."""
    if dtype is torch.bool:
        return kernel is _amin
    if is_inexact(dtype):
        return -torch.inf if kernel is _amax else torch.inf
    info = torch.iinfo(dtype)
    return info.min if kernel is _amax else info.max


def _extreme(kernel, a, axis, keepdims, initial, where, name, *, nan=False) -> torch.Tensor:
    """np.max / np.min (``nan``: np.nanmax / np.nanmin) with where= and initial=.

    One rule for the gradient: the extreme of the kept elements (those where= keeps,
    and for the nan-variants those not nan), shared evenly among the tied elements
    as np.amax's is, then combined with initial=: where initial= is beyond it the
    result is initial= (no gradient), where the two tie the elements keep it.  Left
    out places hold the dtype's far end (-inf for max): where the kept extreme is
    itself that value (every kept element -inf), they tie with it and take shares
    that are dropped (no derivative exists at an infinite extreme anyway)."""
    t = tensor(a)
    m = _where(t, where)
    ufunc = ("fmax" if nan else "maximum") if kernel is _amax else ("fmin" if nan else "minimum")
    if m is not None and initial is None:
        raise ValueError(
            f"reduction operation '{ufunc}' does not have an identity, so to use a where "
            "mask one has to specify 'initial'"
        )
    if t.dtype in UNSIGNED_WIDE:
        raise unsupported(f"{name}(..., initial=/where=) of {t.dtype}")
    init = _initial(initial, t, name)
    if nan and is_inexact(t.dtype):
        if np.isnan(float(initial)):
            raise unsupported(f"{name}(..., initial=nan)")
        m = ~torch.isnan(t) if m is None else m & ~torch.isnan(t)
    if t.numel() == 0:
        shape = reduction(_sum, t, axis, None, keepdims).shape
        return init.expand(shape).clone()
    # the left-out places hold a value no kept element passes, so they tie with the
    # kept extreme only where that is itself the far end (a -inf maximum)
    r = reduction(kernel, _filled(t, m, _beyond(kernel, t.dtype)), axis, None, keepdims)
    beyond = r < init if kernel is _amax else r > init
    return torch.where(beyond | torch.isnan(init) if is_inexact(t.dtype) else beyond, init, r)


def _mean_where(t: torch.Tensor, m: torch.Tensor, axis, dtype, keepdims) -> torch.Tensor:
    """NumPy's _mean with a mask: the masked sum over the count of True places (0 / 0, nan,
    for a slice with none, where NumPy also warns); integers in float64, float16 in
    float32 and back."""
    half = dtype is None and t.dtype is torch.float16
    if dtype is None:
        dtype = torch.float32 if half else (None if is_inexact(t.dtype) else wide())
    total = reduction(_sum, _filled(t, m, 0), axis, dtype, keepdims)
    count = reduction(_sum, m, axis, None, keepdims)
    r = total / count.to(total.dtype)
    return r.to(torch.float16) if half else r


_W = ("where", "initial")  # the options these rows follow


@implements(np.sum, axis="many", dtype="input", methods=("sum",), handles=_W)
def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    if initial is not None or where is not True:
        return _folded(_sum, a, axis, dtype, keepdims, initial, where, "np.sum")
    if axis is None and dtype is None and not keepdims:
        fused = fused_reduction(a, "sum")
        if fused is not None:
            return fused
    return reduction(_sum, a, axis, dtype, keepdims)


@implements(np.mean, axis="many", dtype="input", methods=("mean",), handles=("where",))
def _np_mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    if where is not True:
        t = tensor(a)
        return _mean_where(t, _where(t, where), axis, dtype, keepdims)
    if axis is None and dtype is None and not keepdims:
        fused = fused_reduction(a, "mean")
        if fused is not None:
            return fused
    return reduction(_mean, a, axis, dtype, keepdims, float_only=True)


@implements(np.prod, axis="many", dtype="input", methods=("prod",), handles=_W)
def _np_prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return _folded(_prod, a, axis, dtype, keepdims, initial, where, "np.prod")


def _max(a, axis, keepdims, initial, where, name):
    if initial is not None or where is not True:
        return _extreme(_amax, a, axis, keepdims, initial, where, name)
    return reduction(_amax, a, axis, None, keepdims)


def _min(a, axis, keepdims, initial, where, name):
    if initial is not None or where is not True:
        return _extreme(_amin, a, axis, keepdims, initial, where, name)
    return reduction(_amin, a, axis, None, keepdims)


@implements(np.max, axis="many", methods=("max",), handles=_W)
def _np_max(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    """Ties share the gradient evenly among the tied elements; with initial= a tie
    between the elements' extreme and initial= gives the elements the gradient."""
    return _max(a, axis, keepdims, initial, where, "np.max")


@implements(np.min, axis="many", methods=("min",), handles=_W)
def _np_min(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    """Ties share the gradient evenly among the tied elements; with initial= a tie
    between the elements' extreme and initial= gives the elements the gradient."""
    return _min(a, axis, keepdims, initial, where, "np.min")


if np.amax is not np.max:  # separate functions in NumPy 2

    @implements(np.amax, axis="many", handles=_W)
    def _np_amax(a, axis=None, out=None, keepdims=False, initial=None, where=True):
        return _max(a, axis, keepdims, initial, where, "np.amax")

    @implements(np.amin, axis="many", handles=_W)
    def _np_amin(a, axis=None, out=None, keepdims=False, initial=None, where=True):
        return _min(a, axis, keepdims, initial, where, "np.amin")


def _ddof(ddof, correction, mean):
    """NumPy 2's correction= is ddof under another name; mean= is refused, not ignored."""
    if mean is not None:
        raise unsupported("np.var/np.std(..., mean=...)")
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError("ddof and correction can't be provided simultaneously.")
    return correction


@implements(np.var, axis="many", dtype="input", methods=("var",), handles=("where",))
def _np_var(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=True,
    mean=None,
    correction=None,
):
    ddof = _ddof(ddof, correction, mean)
    if where is not True:
        return _var_where(a, where, axis, dtype, keepdims, ddof, False, "np.var")
    return reduction(_var, a, axis, dtype, keepdims, float_only=True, ddof=ddof)


@implements(np.std, axis="many", dtype="input", methods=("std",), handles=("where",))
def _np_std(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=True,
    mean=None,
    correction=None,
):
    """With where=, the gradient at a zero deviation is 0 (the root taken where the
    variance is positive)."""
    ddof = _ddof(ddof, correction, mean)
    if where is not True:
        return _var_where(a, where, axis, dtype, keepdims, ddof, True, "np.std")
    return reduction(_std, a, axis, dtype, keepdims, float_only=True, ddof=ddof)


@implements(np.any, axis="many", methods=("any",), differentiable=False, handles=("where",))
def _np_any(a, axis=None, out=None, keepdims=False, *, where=True):
    t = tensor(a)
    return reduction(_any, _filled(t, _where(t, where), 0), axis, None, keepdims)


@implements(np.all, axis="many", methods=("all",), differentiable=False, handles=("where",))
def _np_all(a, axis=None, out=None, keepdims=False, *, where=True):
    t = tensor(a)
    return reduction(_all, _filled(t, _where(t, where), 1), axis, None, keepdims)


# -------------------------------------------------------------------- nan-reductions
# NumPy's nan-functions replace nan by the reduction's identity first: through
# torch.where, whose backward gives those places exactly zero (never nan * 0).  An
# all-nan slice gets NumPy's value; NumPy's RuntimeWarning for it is not repeated
# (it would need the values read on the host, which torch.func and torch.compile
# cannot, and it says nothing of the gradient)
def _nan_mask(a: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    t = tensor(a)
    return (t, torch.isnan(t)) if is_inexact(t.dtype) else (t, None)


def _nan_folded(kernel, a, axis, dtype, keepdims, initial, where, name) -> torch.Tensor:
    """np.nansum / np.nanprod: the nan places hold the identity, then :func:`_folded`."""
    t, nan = _nan_mask(a)
    if nan is not None:
        t = torch.where(nan, _IDENTITY[kernel], t)
    return _folded(kernel, t, axis, dtype, keepdims, initial, where, name)


@implements(np.nansum, axis="many", dtype="input", handles=_W)
def _np_nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return _nan_folded(_sum, a, axis, dtype, keepdims, initial, where, "np.nansum")


@implements(np.nanmean, axis="many", dtype="input", handles=("where",))
def _np_nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    t, nan = _nan_mask(a)
    m = _where(t, where)
    if nan is None:
        if m is not None:
            return _mean_where(t, m, axis, dtype, keepdims)
        return reduction(_mean, t, axis, dtype, keepdims, float_only=True)
    if dtype is not None and not is_inexact(dtype):
        raise TypeError("If a is inexact, then dtype must be inexact")
    keep = ~nan if m is None else m & ~nan
    total = reduction(_sum, torch.where(keep, t, 0), axis, dtype, keepdims)
    count = reduction(_sum, keep, axis, None, keepdims)
    return total / count.to(total.dtype)  # 0 / 0 for an all-nan slice: NumPy's nan


def _nan_extremum(kernel: Callable, fill: float, a: Any, axis: Any, keepdims: bool):
    t, nan = _nan_mask(a)
    if t.numel() == 0:  # NumPy 2 reduces by fmax / fmin, integers too
        _no_identity(t, axis, "fmax" if kernel is _amax else "fmin")
    if nan is None:
        return reduction(kernel, t, axis, None, keepdims)
    r = reduction(kernel, torch.where(nan, fill, t), axis, None, keepdims)
    return torch.where(reduction(_all, nan, axis, None, keepdims), torch.nan, r)


@implements(np.nanmax, axis="many", handles=_W)
def _np_nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    """Ties share the gradient evenly among the tied elements (nans left out); with
    initial= a tie between the elements' extreme and initial= gives the elements the
    gradient."""
    if initial is not None or where is not True:
        return _extreme(_amax, a, axis, keepdims, initial, where, "np.nanmax", nan=True)
    return _nan_extremum(_amax, -torch.inf, a, axis, keepdims)


@implements(np.nanmin, axis="many", handles=_W)
def _np_nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    """Ties share the gradient evenly among the tied elements (nans left out); with
    initial= a tie between the elements' extreme and initial= gives the elements the
    gradient."""
    if initial is not None or where is not True:
        return _extreme(_amin, a, axis, keepdims, initial, where, "np.nanmin", nan=True)
    return _nan_extremum(_amin, torch.inf, a, axis, keepdims)


@implements(np.nanprod, axis="many", dtype="input", handles=_W)
def _np_nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """nan places count as 1 (and get gradient 0)."""
    return _nan_folded(_prod, a, axis, dtype, keepdims, initial, where, "np.nanprod")


def _nan_var(a, axis, dtype, keepdims, ddof, root) -> torch.Tensor:
    """NumPy's nanvar: :func:`_masked_var` of the places not nan, nan where count -
    ddof is not positive (an all-nan or too-short slice, where NumPy warns).  Integers
    have no nan: np.var's row."""
    t, nan = _nan_mask(a)
    if nan is None:
        return reduction(_std if root else _var, t, axis, dtype, keepdims, float_only=True,
                         ddof=ddof)  # fmt: skip
    if dtype is not None and not is_inexact(dtype):
        raise TypeError("If a is inexact, then dtype must be inexact")
    return _masked_var(t, ~nan, axis, dtype, keepdims, ddof, root, nan_bad=True)


def _masked_var(t, keep, axis, dtype, keepdims, ddof, root, *, nan_bad) -> torch.Tensor:
    """The variance of the places ``keep`` holds: their mean, their squared deviations
    summed over count - ddof.  Where that is not positive, ``nan_bad`` (nanvar) gives
    nan; otherwise NumPy's var divides by max(count - ddof, 0) (inf, or nan for a
    zero sum).  Integers and bools compute in float64, as NumPy's."""
    if dtype is not None:
        t = t.to(dtype)
    elif not is_inexact(t.dtype):
        t = t.to(wide())
    count = reduction(_sum, keep, axis, None, True)
    mean = reduction(_sum, torch.where(keep, t, 0), axis, None, True) / count
    dev = torch.where(keep, t - mean, 0)  # 0, not nan, at the left-out places: their gradient
    dof = reduction(_sum, keep, axis, None, keepdims) - ddof
    good = dof > 0
    # |dev|^2: a complex deviation's squared modulus, real (as NumPy's var)
    sq = dev.real * dev.real + dev.imag * dev.imag if dev.is_complex() else dev * dev
    total = reduction(_sum, sq, axis, None, keepdims)
    if nan_bad:
        v = torch.where(good, total / torch.where(good, dof, 1), torch.nan)
    else:
        v = total / dof.clamp(min=0)
    v = torch.where(good, _root(v), v) if root else v
    return v.to(t.real.dtype if t.is_complex() else t.dtype)


def _var_where(a, where, axis, dtype, keepdims, ddof, root, name) -> torch.Tensor:
    t = tensor(a)
    if (dtype or t.dtype) in HALF:
        # NumPy's var rounds a half-precision input's sums in its own way
        raise unsupported(f"{name}(..., where=) of {dtype or t.dtype}")
    return _masked_var(t, _where(t, where), axis, dtype, keepdims, ddof, root, nan_bad=False)


@implements(np.nanvar, axis="many", dtype="input")
def _np_nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
               mean=None, correction=None):  # fmt: skip
    return _nan_var(a, axis, dtype, keepdims, _ddof(ddof, correction, mean), root=False)


@implements(np.nanstd, axis="many", dtype="input")
def _np_nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
               mean=None, correction=None):  # fmt: skip
    """The square root of np.nanvar's value, taken where it is positive (the gradient
    at a zero deviation is 0, not torch.sqrt's inf)."""
    return _nan_var(a, axis, dtype, keepdims, _ddof(ddof, correction, mean), root=True)


def _nan_arg(kernel: Callable, fill: float, a: Any, axis: Any, keepdims: bool, name: str):
    """NumPy's nanargmax/nanargmin: nan places never win; an all-nan slice is NumPy's
    ValueError, which needs the values read, so under torch.func or torch.compile a
    float input is refused."""
    t, nan = _nan_mask(a)
    if nan is None or t.numel() == 0:
        return _arg(kernel, t, axis, keepdims)
    if values_hidden():
        raise TraceError(
            f"{here()}: {name} needs to know whether a slice is all nan, which cannot be "
            "read under torch.func or torch.compile; call it outside the transform, or "
            "use mode='numeric'"
        )
    if bool(reduction(_all, nan, axis, None, False).any()):
        raise ValueError(f"{here()}: All-NaN slice encountered")
    return _arg(kernel, torch.where(nan, fill, t), axis, keepdims)


@implements(np.nanargmax, axis="one", differentiable=False)
def _np_nanargmax(a, axis=None, out=None, *, keepdims=False):
    return _nan_arg(torch.argmax, -torch.inf, a, axis, keepdims, "np.nanargmax")


@implements(np.nanargmin, axis="one", differentiable=False)
def _np_nanargmin(a, axis=None, out=None, *, keepdims=False):
    return _nan_arg(torch.argmin, torch.inf, a, axis, keepdims, "np.nanargmin")


@implements(np.ptp, axis="many")
def _np_ptp(a, axis=None, out=None, keepdims=False):
    t = tensor(a)
    no_bool_subtract(t)  # NumPy subtracts the extremes
    hi = reduction(_amax, t, axis, None, keepdims)
    lo = reduction(_amin, t, axis, None, keepdims)
    if hi.dtype in (torch.uint16, torch.uint32, torch.uint64):
        return (hi.to(torch.int64) - lo.to(torch.int64)).to(hi.dtype)  # no uint kernels
    return hi - lo


def _arg(kernel: Callable, a: Any, axis: Any, keepdims: bool) -> torch.Tensor:
    t = tensor(a)
    if t.numel() == 0 and _reduced(t, axis):
        raise ValueError(f"{here()}: attempt to get {kernel.__name__} of an empty sequence")
    if t.dtype is torch.bool:
        t = t.to(torch.uint8)  # torch's argmax takes no bool; the first True wins alike
    else:
        t = to_int64(t, ordered=True)[0]
    if axis is None:
        r = kernel(t.reshape(-1))
        return r.reshape((1,) * t.ndim) if keepdims else r
    return kernel(t, dim=axis, keepdim=keepdims)


@implements(np.argmax, axis="one", methods=("argmax",), differentiable=False)
def _np_argmax(a, axis=None, out=None, *, keepdims=False):
    return _arg(torch.argmax, a, axis, keepdims)


@implements(np.argmin, axis="one", methods=("argmin",), differentiable=False)
def _np_argmin(a, axis=None, out=None, *, keepdims=False):
    return _arg(torch.argmin, a, axis, keepdims)


def _cumulative(kernel: Callable, a: Any, axis: Any, dtype: Any) -> torch.Tensor:
    t = tensor(a)
    if dtype is not None:
        t = t.to(dtype)
    if axis is None:
        t, axis = t.reshape(-1), 0
    r = kernel(t, dim=axis)
    if dtype is None and t.dtype in _UNSIGNED:
        return r.to(torch.uint64)  # NumPy accumulates unsigned integers in uint64
    return r if dtype is None or r.dtype == dtype else r.to(dtype)


@implements(np.cumsum, axis="one", dtype="input", methods=("cumsum",))
def _np_cumsum(a, axis=None, dtype=None, out=None):
    return _cumulative(torch.cumsum, a, axis, dtype)


@implements(np.cumprod, axis="one", dtype="input", methods=("cumprod",))
def _np_cumprod(a, axis=None, dtype=None, out=None):
    return _cumulative(torch.cumprod, a, axis, dtype)


def _nan_cumulative(kernel: Callable, a: Any, axis: Any, dtype: Any) -> torch.Tensor:
    """np.nancumsum / np.nancumprod: nan places hold the identity (gradient 0 there)."""
    t, nan = _nan_mask(a)
    if nan is not None:
        t = torch.where(nan, 0 if kernel is torch.cumsum else 1, t)
    return _cumulative(kernel, t, axis, dtype)


@implements(np.nancumsum, axis="one", dtype="input")
def _np_nancumsum(a, axis=None, dtype=None, out=None):
    return _nan_cumulative(torch.cumsum, a, axis, dtype)


@implements(np.nancumprod, axis="one", dtype="input")
def _np_nancumprod(a, axis=None, dtype=None, out=None):
    return _nan_cumulative(torch.cumprod, a, axis, dtype)


# -------------------------------------------------------------------- ufunc.accumulate
# np.add.accumulate(x, axis=0, dtype=None) and its kin: rows keyed by the bound method
# (TracedArray.__array_ufunc__ looks the ufunc's accumulate up); NumPy's default axis
# is 0, None only for a 1-d array, a tuple only of one axis
def _accumulate_axis(t: torch.Tensor, axis: Any, name: str) -> int:
    if t.ndim == 0:
        raise TypeError("cannot accumulate on a scalar")
    if isinstance(axis, (tuple, list)):
        if len(axis) != 1:
            raise ValueError("accumulate does not allow multiple axes")
        axis = axis[0]
    if axis is None:
        if t.ndim != 1:
            raise ValueError("accumulate does not allow multiple axes")
        return 0
    return normalise_axis(axis, t.ndim, many=False, name=name)


def _accumulated(kernel: Callable, array: Any, axis: Any, dtype: Any, name: str) -> torch.Tensor:
    t = tensor(array)
    return _cumulative(kernel, t, _accumulate_axis(t, axis, name), dtype)


@implements(np.add.accumulate, name="numpy.add.accumulate", axis="row", dtype="input")
def _add_accumulate(array, axis=0, dtype=None, out=None):
    """np.cumsum's values, dtypes and gradient."""
    return _accumulated(torch.cumsum, array, axis, dtype, "add.accumulate")


@implements(np.multiply.accumulate, name="numpy.multiply.accumulate", axis="row", dtype="input")
def _multiply_accumulate(array, axis=0, dtype=None, out=None):
    """np.cumprod's values, dtypes and gradient."""
    return _accumulated(torch.cumprod, array, axis, dtype, "multiply.accumulate")


def _running(kernel: Callable, array: Any, axis: Any, dtype: Any, name: str) -> torch.Tensor:
    t = tensor(array)
    axis = _accumulate_axis(t, axis, name)
    if dtype is not None:
        t = t.to(dtype)
    t, unsigned = to_int64(t, ordered=True)
    return from_int64(kernel(t, dim=axis).values, unsigned, ordered=True)


@implements(np.maximum.accumulate, name="numpy.maximum.accumulate", axis="row", dtype="input")
def _maximum_accumulate(array, axis=0, dtype=None, out=None):
    """The running maximum (nan propagates, as NumPy's).  Where the running maximum is
    reached by several elements (a tie) the gradient goes to the last of them, the
    one torch.cummax indexes."""
    return _running(torch.cummax, array, axis, dtype, "maximum.accumulate")


@implements(np.minimum.accumulate, name="numpy.minimum.accumulate", axis="row", dtype="input")
def _minimum_accumulate(array, axis=0, dtype=None, out=None):
    """The running minimum; at a tie the gradient goes to the last element reaching it
    (torch.cummin's index)."""
    return _running(torch.cummin, array, axis, dtype, "minimum.accumulate")


def _running_skip(kernel: Callable, array: Any, axis: Any, dtype: Any, fill: float, name: str):
    """np.fmax.accumulate / np.fmin.accumulate: nan places hold ``fill`` (no element
    passes it) and the running extreme skips them; nan only where every element so far
    is nan."""
    t = tensor(array)
    if dtype is not None:
        t = t.to(dtype)
    if not is_inexact(t.dtype):
        return _running(kernel, t, axis, None, name)
    axis = _accumulate_axis(t, axis, name)
    nan = torch.isnan(t)
    r = kernel(torch.where(nan, fill, t), dim=axis).values
    return torch.where(torch.cumsum(~nan, dim=axis) == 0, torch.nan, r)


@implements(np.fmax.accumulate, name="numpy.fmax.accumulate", axis="row", dtype="input")
def _fmax_accumulate(array, axis=0, dtype=None, out=None):
    """The running maximum passing over nan; at a tie the gradient goes to the last
    element reaching it (torch.cummax's index), never to a nan place."""
    return _running_skip(torch.cummax, array, axis, dtype, -torch.inf, "fmax.accumulate")


@implements(np.fmin.accumulate, name="numpy.fmin.accumulate", axis="row", dtype="input")
def _fmin_accumulate(array, axis=0, dtype=None, out=None):
    """The running minimum passing over nan; ties as np.fmax.accumulate's."""
    return _running_skip(torch.cummin, array, axis, dtype, torch.inf, "fmin.accumulate")


@implements(np.logaddexp.accumulate, name="numpy.logaddexp.accumulate", axis="row", dtype="input")
def _logaddexp_accumulate(array, axis=0, dtype=None, out=None):
    """torch.logcumsumexp, for float32 and float64 (NumPy rounds each step of a float16
    or small-integer input in float16, which this would not repeat: refused)."""
    t = tensor(array)
    want = dtype if dtype is not None else t.dtype
    if want not in (torch.float32, torch.float64):
        raise unsupported(f"np.logaddexp.accumulate of {want} (followed: float32, float64)")
    return torch.logcumsumexp(t.to(want), dim=_accumulate_axis(t, axis, "logaddexp.accumulate"))


@implements(np.count_nonzero, axis="many", differentiable=False)
def _np_count_nonzero(a, axis=None, *, keepdims=False):
    t = tensor(a)
    if axis is None:
        r = torch.count_nonzero(t)
        return r.reshape((1,) * t.ndim) if keepdims else r
    r = torch.count_nonzero(t, dim=axis)
    if keepdims:
        for ax in sorted(_dims(axis)):
            r = r.unsqueeze(ax)
    return r
