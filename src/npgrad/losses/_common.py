"""What every loss shares: argument checks, the public wrapper, reductions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._function import function, loss

# a tensor input, or for targets also a NumPy array (or list)
Array = Any
_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ argument checks
def _check_reduction(fname: str, reduction: Any, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(
            f"npgrad.losses.{fname}: reduction must be one of "
            f"{', '.join(map(repr, allowed))}; got {reduction!r}"
        )


def _shape_of(a: Any) -> tuple[int, ...] | None:
    if isinstance(a, (torch.Tensor, np.ndarray)):
        return tuple(a.shape)
    if isinstance(a, (list, tuple)):
        return np.shape(a)
    return None  # a Python number: a constant, as npgrad.loss treats it


def _same_shape(fname: str, **named: Any) -> None:
    """Array arguments of one shape.  npgrad.loss checks tensors itself; this is for the
    ``reduction="none"`` route (an npgrad.function, which checks no shapes)."""
    ref_name, ref = None, None
    for name, a in named.items():
        shape = _shape_of(a)
        if shape is None:
            continue
        if ref is None:
            ref_name, ref = name, shape
        elif shape != ref:
            raise ValueError(
                f"npgrad.losses.{fname}: argument '{name}' has shape {shape} but "
                f"'{ref_name}' has shape {ref}"
            )


def _first_tensor(*args: Any) -> torch.Tensor | None:
    return next((a for a in args if isinstance(a, torch.Tensor)), None)


def _as_weight(fname: str, name: str, w: Any, like: Any, shape: tuple, *, exact: bool) -> Any:
    """``w`` (None, a tensor, an array or a list) as a tensor of ``shape``.

    An array becomes a tensor of the input's dtype and device (a float64 array would
    otherwise promote a float32 loss).  ``exact``: torch requires the input's very
    shape (mse, l1, huber); otherwise ``w`` is broadcast to it (bce, per-class
    weights), a view whose gradient autograd sums back."""
    if w is None:
        return None
    ref = _first_tensor(like)
    if not isinstance(w, torch.Tensor):
        if ref is None:
            w = np.asarray(w)
        else:
            w = torch.as_tensor(np.asarray(w), dtype=ref.dtype, device=ref.device)
    got = tuple(w.shape)
    if got == tuple(shape):
        return w
    if not exact:
        try:
            return (
                torch.broadcast_to(w, shape)
                if isinstance(w, torch.Tensor)
                else (np.broadcast_to(w, shape))
            )
        except (RuntimeError, ValueError):
            pass
    how = "the same shape as" if exact else "a shape that broadcasts to"
    raise ValueError(
        f"npgrad.losses.{fname}: argument '{name}' has shape {got}; it needs {how} "
        f"the input's {tuple(shape)}"
    )


def _positive(fname: str, name: str, value: float, *, zero_ok: bool = False) -> None:
    if not (value >= 0 if zero_ok else value > 0):
        want = "non-negative" if zero_ok else "positive"
        raise ValueError(f"npgrad.losses.{fname}: {name} must be {want}; got {value!r}")


# ------------------------------------------------------------- one loss, two ops
class _Public:
    """A public loss function that, like npgrad's ops, stays itself as a class attribute
    (``criterion = losses.mse`` in a Module) instead of binding as a method; help(),
    ``inspect.signature``, pickling (by name) and copies see the function."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        # where users find it: help()'s header, and pickle's lookup by name
        self.__module__ = "npgrad.losses"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __get__(self, obj: Any, objtype: Any = None) -> _Public:
        return self

    def __reduce__(self) -> str:
        return self.__qualname__

    def __copy__(self) -> _Public:
        return self

    def __deepcopy__(self, memo: dict) -> _Public:
        return self

    def __repr__(self) -> str:
        return f"<npgrad.losses.{self.__name__}>"


# help() heads its page with the type's name: "Help on loss function in module ..."
_Public.__name__ = "loss function"


class _Reduced:
    """A loss's two npgrad ops over one NumPy function ``impl(*args, reduction)``:
    ``npgrad.loss`` for the scalar reductions and ``npgrad.function`` for "none"."""

    def __init__(self, impl: Callable[..., Any], name: str, *, broadcast: bool = False) -> None:
        self.name = name
        self.scalar = loss(impl, name=name, broadcast=broadcast)
        self.each = function(impl, name=name)

    def backward(self, bwd: Callable[..., Any]) -> Callable[..., Any]:
        for op in (self.scalar, self.each):
            op.backward(bwd, torch_ops=True)
        return bwd

    def __call__(self, *args: Any, reduction: str, same: dict | None = None) -> Any:
        if reduction == "none":
            _same_shape(self.name, **(same or {}))
            return self.each(*args, reduction)
        return self.scalar(*args, reduction)


def _reduce(per: Any, weight: Any, reduction: str, *, by_weight: bool = False) -> Any:
    """Per-element losses, weighted, reduced.  ``by_weight``: a weighted mean divides
    by the sum of the weights (torch's mse and l1), else by the count (huber, bce)."""
    if weight is not None:
        per = per * weight
    if reduction == "none":
        return per
    if reduction == "sum":
        return np.sum(per)
    if by_weight and weight is not None:
        return np.sum(per) / np.sum(weight)
    return np.mean(per)
