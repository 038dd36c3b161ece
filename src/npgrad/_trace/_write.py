"""Writes into traced arrays, done functionally so autograd can follow them.

A write never mutates a tensor: autograd may have saved that tensor for the
backward of an earlier op (``h[t - 1] @ W`` saves a view of ``h``), and an in-place
change would make that backward fail. Instead the root array of the written
family gets a new tensor (``index_put`` of the old one), and each view of it
(:class:`~npgrad._trace._array.View`) re-derives its tensor from the root when the
family's generation has moved on. So NumPy's semantics hold exactly: a view sees a
later write into its base and the other way round, and a value computed before a
write keeps the old values.

This module works on tensors and index keys; ``_array`` owns the wrappers.
"""

from __future__ import annotations

import dis
import sys

import numpy as np
import torch

from .._dtypes import TORCH_TO_NP
from .._errors import TraceError
from ._index import index_key, negative_steps
from ._state import caller, constant, here


class Family:
    """What a root array and its views share: the write generation (views compare
    it with the one they were derived at), and why writes are refused, if they are."""

    __slots__ = ("gen", "caller", "alias")

    def __init__(self, caller: object = None, alias: str | None = None) -> None:
        self.gen = 0
        self.caller = caller  # the caller's argument (its position or keyword)
        self.alias = alias  # the function whose result shares memory with the family


_CALLER_MARKS: dict = {}


def caller_mark(slot: object) -> Family:
    """The family of the caller's argument ``slot``: never written, so one per slot."""
    mark = _CALLER_MARKS.get(slot)
    if mark is None:
        mark = _CALLER_MARKS[slot] = Family(caller=slot)
    return mark


def is_basic(key: object) -> bool:
    """A key NumPy answers with a view (no advanced index; a 0-d array is one)."""
    keys = key if isinstance(key, tuple) else (key,)
    for k in keys:
        if k is None or k is Ellipsis or isinstance(k, slice):
            continue
        if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
            continue
        return False
    return True


def select(t: torch.Tensor, key: object) -> torch.Tensor:
    """``t[key]`` with NumPy's rules (keys' TracedArrays already unwrapped)."""
    if type(key) is tuple and all(_int_array(k) for k in key):
        # logp[np.arange(n), y]: int64 arrays only, which torch indexes as NumPy does
        return t[tuple(k if type(k) is torch.Tensor else constant(k) for k in key)]
    t, key = negative_steps(t, key)
    return t[index_key(key)]


def _int_array(k: object) -> bool:
    if type(k) is torch.Tensor:
        return k.dtype is torch.int64 and k.ndim > 0
    return type(k) is np.ndarray and k.dtype == np.int64 and k.ndim > 0


def derive(t: torch.Tensor, op: tuple) -> torch.Tensor:
    """A view's tensor from its parent's: what ``op`` (how the view was taken) gives."""
    kind = op[0]
    if kind == "key":
        return select(t, op[1])
    if kind == "T":
        return t.permute(*reversed(range(t.ndim))) if t.ndim else t
    if kind == "mT":
        return t.mT
    return t  # "real" of a real array: the array itself


def region(root: torch.Tensor, path: list, key: object = Ellipsis) -> torch.Tensor:
    """The flat positions in ``root`` that ``path`` (views from the root) then
    ``key`` select, as an int64 tensor shaped like the selection."""
    pos = torch.arange(root.numel(), device=root.device).view(root.shape)
    for op in path:
        pos = derive(pos, op)
    return pos if key is Ellipsis else select(pos, key)


def fit(value: torch.Tensor, shape: torch.Size, dtype: torch.dtype) -> torch.Tensor:
    """``value`` broadcast to ``shape`` and cast to ``dtype``, as NumPy's assignment
    does (leading length-1 dimensions beyond the target's are dropped)."""
    if value.is_complex() and not dtype.is_complex:
        value = value.real  # NumPy warns (ComplexWarning) in the dry run and drops it too
    while value.ndim > len(shape) and value.shape[0] == 1:
        value = value[0]
    try:
        value = value.broadcast_to(shape)
    except RuntimeError:
        raise ValueError(
            f"could not broadcast input array from shape {tuple(value.shape)} into shape "
            f"{tuple(shape)}"
        ) from None
    return value if value.dtype == dtype else value.to(dtype)


def scatter(root: torch.Tensor, pos: torch.Tensor, value: torch.Tensor, unique: bool):
    """A new root: ``root`` with ``value`` (already fitted to ``pos``) at ``pos``.

    With repeated positions NumPy's last write wins; torch's ``index_put`` leaves
    the winner undefined, so every earlier write of a position goes to one spare
    element past the end, which is dropped.
    """
    flat, p, v = root.reshape(-1), pos.reshape(-1), value.reshape(-1)
    if not unique and p.numel() > 1:
        order = torch.arange(p.numel(), device=p.device)
        last = torch.full((flat.numel(),), -1, dtype=order.dtype, device=p.device)
        last = last.scatter_reduce(0, p, order, "amax")
        p = torch.where(last[p] == order, p, flat.numel())
        flat = torch.cat([flat, flat.new_zeros(1)])
        return torch.index_put(flat, (p,), v)[:-1].view(root.shape)
    return torch.index_put(flat, (p,), v).view(root.shape)


def accumulate(root: torch.Tensor, pos: torch.Tensor, value: torch.Tensor, how: str):
    """A new root for ``ufunc.at``: each position combined with every value sent to
    it (repeated positions accumulate, as in NumPy)."""
    flat, p, v = root.reshape(-1), pos.reshape(-1), value.reshape(-1)
    if how == "add":
        out = torch.index_put(flat, (p,), v, accumulate=True)
    elif how == "subtract":
        out = torch.index_put(flat, (p,), -v, accumulate=True)
    else:
        out = flat.scatter_reduce(0, p, v, how, include_self=True)
    return out.view(root.shape)


def numpy_dummy(x: object, ndim: int = 1) -> object:
    """A one-element stand-in of ``x``'s dtype for a dry run in NumPy; Python
    numbers stay themselves (NEP 50 reads their kind and, for integers, value)."""
    if isinstance(x, (bool, int, float, complex)):
        return x
    dtype = getattr(x, "dtype", None)
    if isinstance(dtype, torch.dtype):
        dtype = TORCH_TO_NP[dtype]
    if dtype is None:
        dtype = np.asarray(x).dtype
    return np.ones((1,) * ndim, dtype=dtype)


def dry_run(ufunc: np.ufunc, target: object, others: tuple) -> None:
    """Raise what NumPy raises for ``ufunc(target, *others, out=target)`` (its
    casting rule, ``UFuncTypeError`` included) on one-element stand-ins."""
    ndim = 2 if ufunc is np.matmul else 1
    out = numpy_dummy(target, ndim)
    args = [numpy_dummy(o, ndim) for o in others]
    with np.errstate(all="ignore"):
        ufunc(*args, out=out)


def dry_run_assign(target: object, value: object) -> None:
    """Raise (or warn) what NumPy does when assigning ``value`` into ``target``."""
    out = numpy_dummy(target)
    with np.errstate(all="ignore"):
        out[...] = numpy_dummy(value)


def refusal(fam: Family, what: str, names: list[str] | None = None) -> TraceError:
    """Why a write into ``fam`` is refused, and the way out."""
    if fam.caller is not None:
        slot = fam.caller
        if isinstance(slot, int) and names and slot < len(names):
            arg = f"argument {slot} ({names[slot]!r})"
        else:
            arg = f"argument {slot!r}" if isinstance(slot, str) else f"argument {slot}"
        return TraceError(
            f"{here()}: {what} (in {caller()}) writes into the caller's array ({arg}, or a "
            "view of it): npgrad never changes the tensors it is given. Write into a copy "
            "made first, e.g. x = x.copy()"
        )
    return TraceError(
        f"{here()}: {what} (in {caller()}) writes into an array that shares memory with "
        f"the result of {fam.alias}, which npgrad cannot follow (NumPy may have made a view "
        "or a copy there). Write into a copy made first (.copy())"
    )


def numpy_target(what: str) -> TraceError:
    """A traced value written into a plain NumPy array."""
    return TraceError(
        f"{here()}: {what} (in {caller()}) writes a traced value into a NumPy array, which "
        "would drop the gradient. Make the array from a traced one, e.g. "
        "buf = np.zeros_like(x, shape=(n,)), or collect values in a list and np.stack it"
    )


def hidden(e: BaseException) -> TraceError | None:
    """The TraceError behind NumPy's ``ValueError: setting an array element with a
    sequence`` (NumPy replaces a TypeError from ``float(v)`` in ``buf[0] = v``)."""
    cause = e.__cause__
    return cause if isinstance(e, ValueError) and isinstance(cause, TraceError) else None


_STORE_SUBSCR = dis.opmap["STORE_SUBSCR"]


def storing() -> bool:
    """Whether the user's line being run is an item assignment (``buf[0] = v``):
    NumPy converts ``v`` when ``buf`` is a NumPy array, which deserves its own words."""
    f = sys._getframe(2)
    while f is not None and f.f_globals.get("__name__", "").startswith(("numpy", "npgrad")):
        f = f.f_back
    if f is None or f.f_lasti < 0:
        return False
    return f.f_code.co_code[f.f_lasti] == _STORE_SUBSCR
