"""``TracedArray``: a torch tensor that NumPy code can use as an array.

It implements NumPy's dispatch protocols (``__array_ufunc__``, NEP 13, and
``__array_function__``, NEP 18) by looking the callable up in the registry; its
ndarray methods and operators are generated from the registry's rows
(``_trace._methods``), and what would leave the graph raises a TraceError.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._dtypes import (
    INT_TO_FLOAT,
    TORCH_TO_NP,
    UNSIGNED_WIDE,
    from_int64,
    is_inexact,
    ordered_int64,
    result_type,
)
from .._dtypes import torch_dtype as _torch_dtype
from .._errors import TraceError
from . import _registry
from ._index import plain_key
from ._promote import (
    FLOATING,
    check_int_range,
    half_loop,
    has_complex_loop,
    numpy_scalar,
    past_int64,
    promoted,
    scalar_tensor,
)
from ._registry import FUNCTIONS, UFUNCS, Row, brief, scipy_row
from ._state import (
    LIVE,
    STATE,
    caller,
    constant,
    escaped,
    fail,
    here,
    no_mapping,
    note_baked,
    number_tensor,
    numpy_conversion,
    numpy_error,
    unread,
    unsupported,
    values_hidden,
    wide,
)
from ._write import (
    Family,
    accumulate,
    derive,
    dry_run,
    dry_run_assign,
    fit,
    is_basic,
    numpy_target,
    refusal,
    region,
    scatter,
    select,
    storing,
)


# ------------------------------------------------------------------ values
def unwrap(x: Any) -> Any:
    """Tensors for TracedArrays and NumPy arrays; Python numbers stay numbers."""
    if isinstance(x, TracedArray):
        return x.t
    if isinstance(x, np.ndarray):
        if x.ndim == 0 and id(x) not in STATE.lifted:
            note_baked(x)
            return numpy_scalar(x)
        return constant(x)
    if isinstance(x, np.generic):
        note_baked(x)
        return numpy_scalar(x)
    if isinstance(x, (list, tuple)):
        if any(isinstance(v, TracedArray) for v in x):
            return type(x)(unwrap(v) for v in x)
        return x
    return x


def tensor(x: Any) -> torch.Tensor:
    """Any array-like as a tensor on the traced device."""
    x = unwrap(x)
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (list, tuple)) and holds_tensor(x):
        return operand(x)
    return constant(x)


def holds_tensor(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return any(holds_tensor(v) for v in x)
    return isinstance(x, (torch.Tensor, TracedArray))


def operand(x: Any) -> Any:
    """A ufunc operand: like :func:`unwrap`, and a (nested) list becomes the array
    NumPy would make of it, on the traced device; traced elements keep their
    gradient."""
    x = unwrap(x)
    if not isinstance(x, (list, tuple)):
        return x
    if not holds_tensor(x):
        return constant(x)
    parts = [operand(v) if isinstance(v, (list, tuple)) else v for v in x]
    parts = [v.t if isinstance(v, TracedArray) else v for v in parts]
    dtype = result_type(*parts, device_type=STATE.device.type)
    return torch.stack([torch.as_tensor(v, dtype=dtype, device=STATE.device) for v in parts])


def wrap(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return TracedArray(x)
    if isinstance(x, (tuple, list)):
        if hasattr(type(x), "_fields"):  # NumPy's named results (QRResult, ...)
            return type(x)(*(wrap(v) for v in x))
        return type(x)(wrap(v) for v in x)
    return x


_NP_QUICK = frozenset(map(np.dtype, "e f d b h i l B ?".split()))  # NumPy arrays taken


def quick_ufunc(row: Row, inputs: tuple) -> Any:
    """:func:`apply_ufunc` for the common call, or ``None``: arrays of one floating
    dtype (or one floating array beside labels, a mask or a NumPy array, cast to the
    result) and Python ints and floats.  NumPy 2's promotion (NEP 50) gives a floating
    dtype there with no integer rule to apply, so only the torch call and the alias
    check remain."""
    a, b = inputs[0], inputs[-1]
    if len(inputs) == 1 and isinstance(a, TracedArray):
        a = b = a.t
        dtype = a.dtype
    elif len(inputs) != 2:
        return None
    elif isinstance(a, TracedArray):
        a, dtype = a.t, a.t.dtype
        kind = type(b)
        if isinstance(b, TracedArray) or kind is np.ndarray and b.ndim and b.dtype in _NP_QUICK:
            b = b.t if kind is not np.ndarray else constant(b)
            if b.dtype is not dtype:
                a, b, dtype = promoted(row, a, b)
        elif kind is not float and kind is not int or dtype not in FLOATING:
            return None  # (an integer array beside a float: the core promotes)
        elif row.tensor_only:
            b = number_tensor(b, dtype)
    elif isinstance(b, TracedArray):
        b, dtype = b.t, b.t.dtype
        kind = type(a)
        if kind is float or kind is int:
            if dtype not in FLOATING:
                return None
            if row.tensor_only or row.scalar_first:
                a = number_tensor(a, dtype)  # 7.0 % x: the overload with a derivative
        elif kind is np.ndarray and a.ndim and a.dtype in _NP_QUICK:
            a = constant(a)
            if a.dtype is not dtype:
                a, b, dtype = promoted(row, a, b)
        else:
            return None
    else:
        return None
    if dtype not in FLOATING or dtype is torch.float16 and half_loop(row.target) is not None:
        return None
    try:
        r = row.impl(a) if len(inputs) == 1 else row.impl(a, b)
    except RuntimeError as e:
        raise numpy_error(e, f"np.{row.short}", (a, b)) from e
    out = wrap(r)
    if type(out) is TracedArray and (r._base is not None or r is a or r is b):
        mark_aliases(out, inputs, f"np.{row.short}")
    return out


# computed in int64, these differ from uint64's answer for values from 2**63
_SIGNED_ONLY = frozenset({np.floor_divide, np.remainder, np.fmod, np.divmod, np.reciprocal})


_ORDERED = frozenset({np.maximum, np.minimum, np.fmax, np.fmin, np.less, np.less_equal,
                      np.greater, np.greater_equal})  # fmt: skip
_UFUNC_OPTIONS = {"where": True, "casting": "same_kind", "order": "K", "subok": True}


def apply_ufunc(row: Row, inputs: tuple, kwargs: dict) -> Any:
    """A ufunc row's call: NumPy's promotion, then the torch function."""
    name = row.short
    if kwargs:
        out = kwargs.get("out")
        if out is not None:
            if getattr(row.target, "signature", None):
                # a generalised ufunc (matmul, vecdot) broadcasts its inputs against out
                raise unsupported(f"np.{name}(..., out=...)")
            return ufunc_into(row, inputs, kwargs, out)
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
        for k, v in kwargs.items():
            if k == "dtype":
                continue
            default = _UFUNC_OPTIONS.get(k, unsupported)  # a mask is never the default
            if v is not default and (type(v) is not type(default) or v != default):
                raise unsupported(f"np.{name}(..., {k}={brief(v)})")
    args = [operand(x) for x in inputs]
    want = _torch_dtype(kwargs.get("dtype"), f"{here()}: np.{name}") if kwargs else None
    if want is None:
        want = result_type(*args, device_type=STATE.device.type)
        if want is None:  # numbers only: NumPy makes an array of the first
            args[0] = constant(args[0])
            want = result_type(*args, device_type=STATE.device.type)
        check_int_range(args)
    if want is torch.bool and row.arithmetic and name in ("subtract", "negative"):
        raise TypeError(f"numpy boolean {name} is not supported")
    if want.is_complex and not has_complex_loop(row.target):
        # torch computes some of these (abs for fabs); NumPy has no loop for them
        raise TypeError(f"ufunc {name!r} not supported for the input types ({TORCH_TO_NP[want]})")
    unsigned = None
    if not is_inexact(want):
        if row.true_division:
            want = wide()
        elif row.float_result:
            # NumPy picks the loop from each input on its own (int8 and uint8 both fit
            # float16: float16), not from their common integer type (int16: float32;
            # a Python int beside a bool array makes it an integer one: int64)
            as_int = any(type(a) is int for a in args)
            floats = [
                wide() if as_int and a.dtype is torch.bool else INT_TO_FLOAT.get(a.dtype) or wide()
                for a in args
                if isinstance(a, torch.Tensor)
            ]
            want = functools.reduce(torch.promote_types, floats) if floats else wide()
        elif want in UNSIGNED_WIDE:
            # torch computes little in uint16/32/64: int64, then NumPy's dtype again
            unsigned, want = want, UNSIGNED_WIDE[want]
    if want is torch.float16 and half_loop(row.target) is not None:
        want = half_loop(row.target)  # NumPy's loop: SciPy's ufuncs have no float16 one
    args = [a.to(want) if isinstance(a, torch.Tensor) and a.dtype != want else a for a in args]
    if unsigned is torch.uint64:  # int64 modulo 2**64: a number above int64's wraps too
        if row.target is np.right_shift:  # but int64's right shift is arithmetic
            raise unsupported("np.right_shift of uint64 arrays")
        args = [a - 2**64 if type(a) is int and a >= 2**63 else a for a in args]
        if row.target in _ORDERED:
            args = [ordered_int64(a) for a in args]
        elif row.target in _SIGNED_ONLY and past_int64(args):
            raise unsupported(f"np.{name} of uint64 values from 2**63 (int64 has them negative)")
        elif row.target is np.absolute:
            return TracedArray(args[0].to(unsigned))  # an unsigned value is its own
        elif row.target is np.sign:
            return TracedArray((args[0] != 0).to(unsigned))
    if row.tensor_only:
        ref = next(a for a in args if isinstance(a, torch.Tensor))
        args = [a if isinstance(a, torch.Tensor) else scalar_tensor(a, ref) for a in args]
    elif row.scalar_first and not isinstance(args[0], torch.Tensor):
        # a number on the left (7.0 % x): as a 0-d tensor, whose overload has a
        # derivative (the number-first one has none, or none at all for fmod)
        args[0] = scalar_tensor(args[0], args[1])
    try:
        r = row.impl(*args)
    except RuntimeError as e:
        raise numpy_error(e, f"np.{name}", tuple(args)) from e
    if unsigned is not None:  # (a two-output row, np.divmod, gives a pair)
        r = (
            tuple(_back_to(x, unsigned, want, row) for x in r)
            if type(r) is tuple
            else (_back_to(r, unsigned, want, row))
        )
    r = wrap(r)
    if type(r) is TracedArray and (r.t._base is not None or any(r.t is a for a in args)):
        mark_aliases(r, inputs, f"np.{name}")
    return r


def _back_to(r: torch.Tensor, unsigned: torch.dtype, want: torch.dtype, row: Row) -> torch.Tensor:
    """An int64 result computed for an unsigned dtype, in that dtype again."""
    return from_int64(r, unsigned, ordered=row.target in _ORDERED) if r.dtype == want else r


def ufunc_into(row: Row, inputs: tuple, kwargs: dict, out: Any) -> Any:
    """``np.f(..., out=a)``, as ``a += b`` calls it: NumPy's casting rule, then a write."""
    if isinstance(out, tuple):
        if len(out) != 1:
            raise unsupported(f"np.{row.short}(..., out=) with {len(out)} outputs")
        out = out[0]
    what = f"np.{row.short}(..., out=...)"
    if not isinstance(out, TracedArray):
        raise numpy_target(f"{what} (as a += b does for a NumPy array a)")
    check_writable(out, what)
    dry_run(row.target, out, inputs)
    r = apply_ufunc(row, inputs, {k: v for k, v in kwargs.items() if k != "out"})
    if r.shape != out.shape:
        raise ValueError(
            f"non-broadcastable output operand with shape {out.shape} doesn't match the "
            f"broadcast shape {r.shape}"
        )
    write(out, Ellipsis, r.t, checked=True)
    return out


# ------------------------------------------------------------------ writes
def storage_root(t: torch.Tensor) -> torch.Tensor:
    """The tensor whose memory ``t`` views (``t`` itself if it views none)."""
    return t._base if t._base is not None else t


def mark_view(result: Any, inputs: Any, fname: str) -> None:
    """A result NumPy makes a view of its first array input, which torch copied: a
    write into either would miss the other, so both are refused as aliases."""
    first = next(
        (x for x in (inputs if isinstance(inputs, (tuple, list)) else (inputs,))
         if isinstance(x, TracedArray)),
        None,
    )  # fmt: skip
    if first is None or not isinstance(result, TracedArray):
        return
    fam = first.fam
    if fam is not None and fam.caller is not None:
        result.fam = fam  # a view of the caller's array is the caller's
        return
    if fam is None:
        fam = first.fam = Family()
    fam.alias = fam.alias or fname
    result.fam = Family(alias=fname)


def mark_aliases(result: Any, inputs: Any, fname: str) -> None:
    """A function's result that shares memory with an input: NumPy may have made a
    view or a copy there, so writes into either are refused (never guessed); one of
    the caller's arrays stays the caller's."""
    results = result if isinstance(result, (tuple, list)) else (result,)
    flat = []
    for x in inputs if isinstance(inputs, (tuple, list)) else (inputs,):
        flat.extend(x if isinstance(x, (tuple, list)) else (x,))
    arrays = [x for x in flat if isinstance(x, TracedArray)]
    for r in results:
        if not isinstance(r, TracedArray):
            continue
        rr = storage_root(r.t)
        for a in arrays:
            if rr is not storage_root(a.t):
                continue
            fam = a.fam
            if fam is not None and fam.caller is not None:
                r.fam = fam
            else:
                if fam is None:
                    fam = a.fam = Family()
                fam.alias = fam.alias or fname
                r.fam = Family(alias=fname)
            break


def check_writable(target: TracedArray, what: str) -> None:
    fam = target.fam
    if fam is not None and (fam.caller is not None or fam.alias is not None):
        names = None
        if STATE.fns and STATE.fns[-1] is not None:
            try:
                names = list(inspect.signature(STATE.fns[-1]).parameters)
            except (TypeError, ValueError):
                names = None
        raise refusal(fam, what, names)


def raw_key(key: Any) -> Any:
    """An index key with its traced arrays as their tensors."""
    if isinstance(key, tuple):
        return tuple(k.t if isinstance(k, TracedArray) else k for k in key)
    return key.t if isinstance(key, TracedArray) else key


def view_path(target: TracedArray) -> tuple[list, TracedArray]:
    """The view operations from ``target``'s root array down to it, and the root."""
    path, node = [], target
    while type(node) is View:
        path.append(node.op)
        node = node.parent
    path.reverse()
    return path, node


def write(target: TracedArray, key: Any, value: Any, checked: bool = False) -> None:
    """``target[key] = value`` with NumPy's semantics, as a new tensor for the root
    of ``target``'s family (see ``_write``); views see it through the generation."""
    if not checked:
        check_writable(target, "a write (a[...] = v)")
    value = operand(value)
    if not checked:
        dry_run_assign(target, value)
    key = raw_key(key)
    path, node = view_path(target)
    root = node.t
    if isinstance(value, torch.Tensor):
        value = value.to(root.device)
    else:  # a Python number, made in the target's dtype as NumPy's assignment does
        value = torch.tensor(value, dtype=root.dtype, device=root.device)
    if not path and key is Ellipsis:
        new = fit(value, root.shape, root.dtype)
        if new.shape != value.shape:
            new = new.contiguous()  # not a broadcast (stride 0) array
    elif (
        not path
        and isinstance(key, torch.Tensor)
        and key.dtype is torch.bool
        and key.shape == root.shape
        and value.numel() == 1
    ):
        # a[mask] = v: no data-dependent shape, so torch.func and compile follow it
        v = fit(value.reshape(()), (), root.dtype)
        new = torch.where(key.to(root.device), v, root)
    else:
        pos = region(root, path, key)
        new = scatter(root, pos, fit(value, pos.shape, root.dtype), unique=is_basic(key))
    node.t = new
    fam = target.fam
    if fam is not None:
        fam.gen += 1


def ufunc_at(ufunc: Any, inputs: tuple, kwargs: dict) -> None:
    """``np.add.at(a, idx, b)`` and its kin: repeated indices accumulate."""
    name = ufunc.__name__
    how = {"add": "add", "subtract": "subtract", "multiply": "prod", "maximum": "amax"}
    how["minimum"] = "amin"
    if name not in how or len(inputs) != 3 or kwargs:
        raise unsupported(f"np.{name}.at")
    a, idx, b = inputs
    what = f"np.{name}.at"
    if not isinstance(a, TracedArray):
        raise numpy_target(what)
    check_writable(a, what)
    b = operand(b)
    bt = b if isinstance(b, torch.Tensor) else None
    want = result_type(a.t, b, device_type=STATE.device.type)
    if want != a.t.dtype and not (is_inexact(want) and is_inexact(a.t.dtype)):
        # NumPy casts after each element's update; one accumulation would differ
        raise unsupported(f"{what} into a {a.dtype} array with {TORCH_TO_NP[want]} values")
    idx = raw_key(idx)
    path, node = view_path(a)
    root = node.t
    pos = region(root, path, idx)
    value = bt if bt is not None else torch.tensor(b, dtype=root.dtype)
    node.t = accumulate(root, pos, fit(value.to(root.device), pos.shape, root.dtype), how[name])
    if a.fam is not None:
        a.fam.gen += 1


# ------------------------------------------------------------------ the array
class TracedArray:
    """A torch tensor that NumPy code can use as an array, with autograd attached."""

    __slots__ = ("t", "fam")
    __array_priority__ = 1000

    def __init__(self, t: torch.Tensor, fam: Family | None = None) -> None:
        self.t = t
        self.fam = fam  # None: a new array of the function's own, with no views yet

    def _view(self, op: tuple, t: torch.Tensor) -> TracedArray:
        """A NumPy view of this array: one that later writes reach, both ways."""
        fam = self.fam
        if fam is not None and fam.caller is not None:
            return TracedArray(t, fam)  # the caller's arrays are never written
        if fam is None:
            fam = self.fam = Family()
        return View(self, op, t)

    # -- the dispatch protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
        if not LIVE[0]:
            raise escaped()
        row = UFUNCS.get(ufunc) or scipy_row(ufunc)
        if row is None:
            raise no_mapping(f"the ufunc {ufunc.__name__!r}")
        if method == "__call__":
            if not kwargs and len(inputs) == 1 and type(self) is TracedArray:
                t = self.t  # np.exp(x), np.tanh(x): quick_ufunc's one-input case, inlined
                if (
                    t.dtype in FLOATING
                    and ufunc not in FUSE
                    and (t.dtype is not torch.float16 or half_loop(ufunc) is None)
                ):
                    try:
                        r = row.impl(t)
                    except RuntimeError as e:
                        raise numpy_error(e, f"np.{row.short}") from e
                    if type(r) is torch.Tensor and r._base is None and r is not t:
                        return TracedArray(r)
                    out = wrap(r)  # a view, or the input itself: marked as quick_ufunc does
                    if type(out) is TracedArray:
                        mark_aliases(out, inputs, f"np.{row.short}")
                    return out
            fuse = FUSE.get(ufunc)
            if fuse is not None and not kwargs:
                fused = fuse(inputs)
                if fused is not None:
                    return fused
            r = None if kwargs else quick_ufunc(row, inputs)
            return r if r is not None else apply_ufunc(row, inputs, kwargs)
        if method == "at":
            return ufunc_at(ufunc, inputs, kwargs)
        if method == "outer" and ufunc.nin == 2 and len(inputs) == 2:
            # every pair: a's shape then b's, by the ufunc's call (promotion, dtype=, out=)
            a, b = inputs
            return ufunc(np.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b, **kwargs)
        if method == "reduce" and row.reduce is not None:
            kwargs.setdefault("axis", 0)  # ufunc.reduce's default, unlike np.sum's
            try:
                return wrap(FUNCTIONS[row.reduce].call(inputs, kwargs))
            except RuntimeError as e:  # NotImplementedError: no kernel for a dtype
                raise numpy_error(e, f"np.{ufunc.__name__}.reduce") from e
        if method == "accumulate" and ufunc.accumulate in FUNCTIONS:
            try:
                return wrap(FUNCTIONS[ufunc.accumulate].call(inputs, kwargs))
            except RuntimeError as e:  # NotImplementedError: no kernel for a dtype
                raise numpy_error(e, f"np.{ufunc.__name__}.accumulate") from e
        raise unsupported(f"{ufunc.__name__}.{method}")

    def __array_function__(self, func: Callable, types: tuple, args: tuple, kwargs: dict):
        if not LIVE[0]:
            raise escaped()
        row = FUNCTIONS.get(func)
        if row is None:
            name = f"{getattr(func, '__module__', 'numpy')}.{getattr(func, '__name__', func)}"
            raise no_mapping(name)
        try:
            r = row.call(args, kwargs)
        except RuntimeError as e:
            raise numpy_error(e, row.name.replace("numpy.", "np.")) from e
        args = (*args, *kwargs.values()) if kwargs else args  # np.real(val=x) is x too
        if type(r) is torch.Tensor and r._base is None and not row.view:
            # the common result: a new tensor, no view; an alias only if it is an input
            for a in args:
                if isinstance(a, TracedArray) and a._peek() is r:
                    break
            else:
                return TracedArray(r)
        r = wrap(r)
        if isinstance(r, (TracedArray, tuple, list)):
            name = row.name.replace("numpy.", "np.")
            if row.view:
                mark_view(r, args, name)  # NumPy gives a view where torch copied
            elif _aliases(r, args):
                mark_aliases(r, args, name)
        return r

    def __array__(self, dtype=None, copy=None):
        if not LIVE[0]:
            raise escaped()
        t = self.t
        if t.is_floating_point() or t.is_complex():
            if storing():
                raise numpy_target("an assignment (buf[...] = v)")
            raise numpy_conversion(caller())  # np.array([a, b]) comes here per element
        # integer and bool arrays (labels, masks) carry no gradient, so NumPy code that
        # does not dispatch, such as indexing a NumPy constant (class_weights[y]), may
        # have their values: a host copy on an accelerator
        if torch._C._are_functorch_transforms_active() or torch.compiler.is_compiling():
            raise TraceError(
                f"{here()}: converting a traced integer array to a NumPy array (in "
                f"{caller()}) is impossible under torch.func and torch.compile, where it "
                "has no values; compute with the traced array instead, e.g. "
                "(y[:, None] == np.arange(len(w))) @ w for w[y]"
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

    def _peek(self) -> torch.Tensor | None:  # None: a deferred one, not computed yet
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
        return TORCH_TO_NP[self._like().dtype]

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def T(self) -> TracedArray:
        return self._view(("T",), derive(self.t, ("T",)))

    @property
    def mT(self) -> TracedArray:
        if type(self) is not TracedArray and type(self) is not View:
            return TracedArray(self._like().mT)  # deferred: a new array, NumPy's too
        return self._view(("mT",), self.t.mT)

    @property
    def real(self) -> TracedArray:
        if self.t.is_complex():
            return TracedArray(self.t.real)
        return self._view(("real",), self.t)

    @property
    def imag(self) -> TracedArray:
        return TracedArray(self.t.imag if self.t.is_complex() else torch.zeros_like(self.t))

    @property
    def flat(self):
        raise unsupported(".flat")

    def __len__(self) -> int:
        if self.t.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.t.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self._view(("key", i), self.t[i])

    def __repr__(self) -> str:
        return f"TracedArray({self.t!r})"

    # -- values that leave the graph
    def _scalar(self, kind: str):
        if self.t.is_floating_point() or self.t.is_complex():
            if storing():
                raise numpy_target("an assignment (buf[...] = v)")
            if not self.t.requires_grad and values_hidden():  # a data array under jit
                raise unread(f"{kind} on a traced array (in {caller()})")
            raise fail(f"{kind} on a floating traced array (in {caller()})")
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

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        t = self.t.to(_torch_dtype(dtype, f"{here()}: .astype"))
        if t is self.t:
            if not copy:
                return self
            t = t.clone()  # NumPy's astype copies by default: a write must not reach self
        return TracedArray(t)

    def copy(self, order="C"):
        return TracedArray(self.t.clone())

    def __setitem__(self, key, value):
        write(self, key, value)

    def __getitem__(self, key):
        if type(key) is int or type(key) is tuple and plain_key(key):
            # ints, None and forward slices: torch's own indexing, a view as NumPy's
            return self._view(("key", key), self.t[key])
        key = raw_key(key)
        t = select(self.t, key)
        if is_basic(key):
            return self._view(("key", key), t)
        fam = self.fam  # an advanced index copies; a copy of the caller's is still theirs
        return TracedArray(t, fam if fam is not None and fam.caller is not None else None)

    def __pos__(self):
        return TracedArray(self.t.clone())  # NumPy's +a is a new array

    def fill(self, value):
        if isinstance(value, (TracedArray, torch.Tensor)) and value.ndim:
            raise ValueError("fill(): the value must be a scalar")
        write(self, Ellipsis, value)

    def sort(self, axis=-1, kind=None, order=None, stable=None):
        if order is not None:
            raise unsupported(".sort(order=...)")
        check_writable(self, ".sort()")
        write(self, Ellipsis, np.sort(self, axis=axis), checked=True)

    def _in_place(self, *args, **kwargs):
        raise fail(f"an in-place method (.resize/.partition/.itemset, in {caller()})")

    resize = partition = itemset = _in_place  # .put is np.put's row

    __hash__ = None  # type: ignore[assignment]


_T = TracedArray.__dict__["t"]  # the slot, under View's property


class View(TracedArray):
    """A NumPy view (``a[0]``, ``a.T``, ``a[::-1]``) of an array of the function's own.

    Its tensor is re-derived from its parent's when a write has moved the family's
    generation on since, so the view sees writes into its base, and writes into
    the view go to the root (see ``_write``)."""

    __slots__ = ("parent", "op", "seen")

    def __init__(self, parent: TracedArray, op: tuple, t: torch.Tensor) -> None:
        _T.__set__(self, t)
        self.fam, self.parent, self.op = parent.fam, parent, op
        self.seen = parent.fam.gen

    @property  # type: ignore[override]
    def t(self) -> torch.Tensor:
        gen = self.fam.gen
        if self.seen != gen:
            _T.__set__(self, derive(self.parent.t, self.op))
            self.seen = gen
        return _T.__get__(self, View)


def _aliases(r: Any, args: Any) -> bool:
    """Whether a function's result may share memory with an input (cheap: torch
    marks a view with its base, and a function may return its input itself)."""
    results = r if isinstance(r, (tuple, list)) else (r,)
    for x in results:
        if isinstance(x, TracedArray):
            t = x.t
            if t._base is not None:
                return True
            for a in args:
                # not .t: that would compute a deferred difference just to compare
                if isinstance(a, TracedArray) and a._peek() is t:
                    return True
    return False


# ufunc -> a fast path on the raw inputs, None where it does not apply (from _fusion)
FUSE: dict[Any, Callable[[tuple], Any]] = {}

__all__ = ["TracedArray", "_registry"]
