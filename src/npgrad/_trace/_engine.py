"""The engine's entry: run plain NumPy code on tensors, autograd recording."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._errors import NpgradError
from ._array import TracedArray
from ._methods import METHODS, OPERATORS
from ._registry import ROWS
from ._scipy import install as install_scipy
from ._state import LIVE, LIVE_LOCK, STATE, constant
from ._write import caller_mark, hidden


def named_node(x: Any) -> bool:
    """A namedtuple the NumPy-level API walks as a container (as JAX's pytrees do):
    one with fields only; instance attributes (a subclass without ``__slots__``, given
    some) would be lost by a rebuilt one, so such a namedtuple is a leaf."""
    return isinstance(x, tuple) and hasattr(type(x), "_fields") and not getattr(x, "__dict__", None)


def wrap_tree(x: Any, slot: Any = None, named: bool = False) -> Any:
    """Every tensor in a (nested) list, tuple or dict (with ``named``, namedtuple too)
    as a TracedArray, marked as the caller's (argument ``slot``: writes into it are
    refused)."""
    if isinstance(x, torch.Tensor):
        return TracedArray(x, caller_mark(slot))
    if type(x) in (list, tuple):
        return type(x)(wrap_tree(v, slot, named) for v in x)
    if type(x) is dict:
        return {k: wrap_tree(v, slot, named) for k, v in x.items()}
    if named and named_node(x):
        items = [wrap_tree(v, slot, named) for v in x]
        if all(a is b for a, b in zip(items, x)):
            return x  # no tensor inside: the caller's own object, identity kept
        return tuple.__new__(type(x), items)  # as namedtuple's _make: no __new__ run
    return x


def unwrap_tree(x: Any, device: torch.device, named: bool = False) -> Any:
    """The inverse: TracedArrays, NumPy values and numbers as tensors on ``device``."""
    if isinstance(x, TracedArray):
        return x.t
    if isinstance(x, (np.ndarray, np.generic, bool, int, float)):
        return constant(x, device)
    if type(x) in (list, tuple):
        return type(x)(unwrap_tree(v, device, named) for v in x)
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):
        # a named result (np.linalg.qr's QRResult, or the function's own): its fields
        # as a plain tuple, the structure every caller of trace() walks, unless the
        # caller keeps names (the NumPy-level API gives results the function's shape)
        items = [unwrap_tree(v, device, named) for v in x]
        return tuple.__new__(type(x), items) if named and named_node(x) else tuple(items)
    if type(x) is dict:
        return {k: unwrap_tree(v, device, named) for k, v in x.items()}
    return x


class tracing:
    """Context: the op being traced (for messages) and its device (for constants)."""

    __slots__ = ("name", "device", "prev", "fn")

    def __init__(self, name: str, device: torch.device, fn: Any = None) -> None:
        self.name, self.device, self.fn = name, device, fn

    def __enter__(self) -> None:
        install_scipy()  # SciPy's functions the user's code imported: followed from now on
        with LIVE_LOCK:
            LIVE[0] += 1
        STATE.ops.append(self.name)
        STATE.fns.append(self.fn)
        self.prev = STATE.device
        STATE.device = self.device

    def __exit__(self, *exc: Any) -> None:
        with LIVE_LOCK:
            LIVE[0] -= 1
        STATE.ops.pop()
        STATE.fns.pop()
        STATE.device = self.prev


def trace(
    fn: Callable[..., Any],
    args: tuple | list,
    kwargs: dict | None = None,
    *,
    name: str,
    device: torch.device | str | None = None,
    named: bool = False,
) -> Any:
    """Run plain NumPy ``fn`` on torch tensors; autograd records every op.

    Every ``torch.Tensor`` in ``args``/``kwargs`` (inside lists, tuples and dicts
    too) reaches ``fn`` as a :class:`TracedArray`; the result comes back with the
    same structure, arrays and numbers as tensors on ``device``.  ``name`` is what
    error messages call the computation.  With ``named``, namedtuples are containers
    both ways too (else a namedtuple argument is passed as it is, and a namedtuple
    result comes back as a plain tuple).  Knows nothing of ``Function``.

    >>> import numpy as np, torch
    >>> x = torch.tensor([0.0, 1.0], requires_grad=True)
    >>> trace(lambda a: np.sum(np.exp(a)), (x,), name="demo")
    tensor(3.7183, grad_fn=<SumBackward0>)
    """
    kwargs = kwargs or {}
    if device is None:
        found = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
        device = found[0].device if found else torch.device("cpu")
    device = device if type(device) is torch.device else torch.device(device)
    with tracing(name, device, fn):
        try:
            wrapped = [wrap_tree(a, i, named) for i, a in enumerate(args)]
            if kwargs:
                out = fn(*wrapped, **{k: wrap_tree(v, k, named) for k, v in kwargs.items()})
            else:
                out = fn(*wrapped)
        except Exception as e:
            if hidden(e) is not None:
                raise hidden(e) from None
            if not isinstance(e, NpgradError):
                e.add_note(f"(raised in npgrad's trace of '{name}')")
            raise
    return unwrap_tree(out, device, named)


def supported() -> list[str]:
    """Every NumPy and SciPy name that ``mode="auto"`` follows, sorted.

    >>> names = supported()
    >>> "numpy.mean" in names and "scipy.special.xlogy" in names
    True
    """
    out = {row.name for row in ROWS}
    out |= {f"ndarray.{m}" for m in METHODS}
    out |= {f"ndarray.{op}" for op in OPERATORS}
    out |= {f"ndarray.{p}" for p in _PROPERTIES}
    return sorted(out)


# properties and protocol methods of TracedArray itself (not rows)
_PROPERTIES = (
    "T mT real imag shape ndim size dtype itemsize nbytes astype copy item tolist "
    "__getitem__ __len__ __iter__ __bool__ __float__ __int__ __index__ __divmod__ "
    "__rdivmod__ __round__ __setitem__ fill sort __iadd__ __isub__ __imul__ __itruediv__ "
    "__ifloordiv__ __imod__ __ipow__ __imatmul__ __iand__ __ior__ __ixor__"
).split()
