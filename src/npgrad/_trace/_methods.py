"""``TracedArray``'s ndarray methods and operators, generated from the registry's
rows (each row declares its ``methods``, ``operators`` and ``reflected`` names)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._errors import TraceAttributeError, TraceError
from ._array import (
    FUSE,
    TracedArray,
    apply_ufunc,
    check_writable,
    mark_aliases,
    operand,
    quick_ufunc,
    wrap,
    write,
)
from ._fusion import Deferred
from ._promote import FLOATING
from ._registry import ROWS, UFUNCS, Row
from ._state import LIVE, caller, escaped, here, not_picklable, numpy_error, unsupported
from ._write import dry_run

_IN_PLACE = {
    "__iadd__": ("+=", np.add),
    "__isub__": ("-=", np.subtract),
    "__imul__": ("*=", np.multiply),
    "__itruediv__": ("/=", np.true_divide),
    "__ifloordiv__": ("//=", np.floor_divide),
    "__imod__": ("%=", np.remainder),
    "__ipow__": ("**=", np.power),
    "__imatmul__": ("@=", np.matmul),
    "__iand__": ("&=", np.bitwise_and),
    "__ior__": ("|=", np.bitwise_or),
    "__ixor__": ("^=", np.bitwise_xor),
    "__ilshift__": ("<<=", np.left_shift),
    "__irshift__": (">>=", np.right_shift),
}


def _in_place_operator(symbol: str, ufunc: Any) -> Callable:
    def op(self, other):
        # NumPy's a += b is np.add(a, b, out=a): its casting rule, views see the result
        what = f"an in-place update ({symbol})"
        check_writable(self, what)
        dry_run(ufunc, self, (self, operand(other)))
        r = ufunc(self, other)
        if not isinstance(r, TracedArray):
            raise unsupported(f"{what} whose result is not an array")
        if r.shape != self.shape:
            raise ValueError(
                f"non-broadcastable output operand with shape {self.shape} doesn't match "
                f"the broadcast shape {r.shape}"
            )
        write(self, Ellipsis, r.t, checked=True)
        return self

    op.__name__ = ufunc.__name__
    return op


def _operator(ufunc: Any, reflected: bool) -> Callable:
    row = UFUNCS[ufunc]
    fuse = FUSE.get(ufunc)  # installed (by _fusion) before the methods are
    # x * 2.0 and x + y in one floating dtype, the commonest ops, inlined (quick_ufunc's
    # rule); 7.0 % x and the tensor_only rows need their number as a 0-d tensor
    direct = ufunc.nin == 2 and not row.tensor_only
    numbers = not (reflected and row.scalar_first)

    def op(self, other=None):
        if not LIVE[0]:
            raise escaped()
        inputs = (self, other) if not reflected else (other, self)
        if other is None and ufunc.nin == 1:
            inputs = (self,)
        if fuse is not None:
            fused = fuse(inputs)  # a deferred difference first, then the inlined call
            if fused is not None:
                return fused
        if direct:
            t, k = self.t, type(other)
            if t.dtype in FLOATING and (
                (k is float or k is int)
                and numbers
                or k is TracedArray
                and other.t.dtype is t.dtype
            ):
                o = other.t if k is TracedArray else other
                try:
                    r = row.impl(o, t) if reflected else row.impl(t, o)
                except RuntimeError as e:
                    raise numpy_error(e, f"np.{row.short}", (o, t) if reflected else (t, o)) from e
                out = wrap(r)
                if type(out) is TracedArray and (r._base is not None or r is t or r is o):
                    mark_aliases(out, inputs, f"np.{row.short}")
                return out
        r = quick_ufunc(row, inputs)
        return r if r is not None else apply_ufunc(row, inputs, {})

    op.__name__ = f"{'r' if reflected else ''}{ufunc.__name__}"
    return op


def _method(target: Any) -> Callable:
    def method(self, *args, **kwargs):
        return target(self, *args, **kwargs)

    method.__name__ = getattr(target, "__name__", "method")
    return method


METHODS: dict[str, Row] = {}  # ndarray method -> the row it forwards to
OPERATORS: dict[str, Row] = {}


def install_methods() -> None:
    """Give ``TracedArray`` the methods and operators the registry's rows declare."""
    for row in ROWS:
        for entry in row.methods:
            name, adapter = entry if isinstance(entry, tuple) else (entry, None)
            if name in METHODS and METHODS[name] is not row:
                raise ValueError(f"npgrad registry: ndarray.{name} is claimed twice")
            METHODS[name] = row
            setattr(TracedArray, name, adapter if adapter is not None else _method(row.target))
        for name in row.operators:
            OPERATORS[name] = row
            setattr(TracedArray, name, _operator(row.target, reflected=False))
        for name in row.reflected:
            OPERATORS[name] = row
            setattr(TracedArray, name, _operator(row.target, reflected=True))
    for name, (symbol, ufunc) in _IN_PLACE.items():
        setattr(TracedArray, name, _in_place_operator(symbol, ufunc))
    # copy.copy and copy.deepcopy copy as ndarray's do, gradient kept (the default
    # protocol copied the tensor detached: a silent zero gradient); pickle refuses
    TracedArray.__copy__ = lambda self: self.copy()
    TracedArray.__deepcopy__ = _deepcopy
    TracedArray.__reduce_ex__ = _refused_pickle
    TracedArray.shape = property(TracedArray.shape.fget, _set_shape)
    # the rest of ndarray's public names: a TraceError naming the name, not Python's
    # bare AttributeError
    for name, value in vars(np.ndarray).items():
        if name.startswith("_") or hasattr(TracedArray, name):
            continue
        if callable(value):
            setattr(TracedArray, name, _refused_method(name))
        else:
            setattr(TracedArray, name, _refused_attribute(name))


def _set_shape(self: TracedArray, shape: Any) -> None:
    """``a.shape = (n, -1)``: NumPy's in-place reshape.  For an array the function
    made and no view shares it is ``a = a.reshape(...)``; an argument or an array with
    views would need every array sharing its memory to follow, which is refused."""
    if not LIVE[0]:
        raise escaped()
    if self.fam is not None or type(self) not in (TracedArray, Deferred):
        raise TraceError(
            f"{here()}: setting .shape of an argument, or of an array that views share, "
            f"is not supported (in {caller()}); write a = a.reshape(...) instead"
        )
    # NumPy's own answer for the size and a -1, from a broadcast array without memory
    new = np.broadcast_to(np.empty((), np.bool_), self.shape).reshape(shape).shape
    try:
        t = self.t.view(new)
    except RuntimeError:  # strides no view can follow: NumPy refuses to copy here too
        raise AttributeError(
            "Incompatible shape for in-place modification. Use `.reshape()` to make a "
            "copy with the desired shape."
        ) from None
    self.t = t


def _deepcopy(self: TracedArray, memo: dict) -> TracedArray:
    memo[id(self)] = out = self.copy()
    return out


def _refused_pickle(self: TracedArray, protocol: Any) -> Any:
    raise not_picklable()


def _refused_method(name: str) -> Callable:
    def method(self, *args, **kwargs):
        raise unsupported(f"ndarray.{name}()")

    method.__name__ = name
    return method


def _refused_attribute(name: str) -> property:
    def get(self):
        e = TraceAttributeError(str(unsupported(f"ndarray.{name}")))
        e.name, e.obj = name, self
        raise e

    return property(get)
