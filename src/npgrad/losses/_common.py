"""What every loss shares: argument checks, the public wrapper, reductions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._function import function, loss
from .._trace._array import TracedArray

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


def _truth(flags: Any) -> bool | None:
    """``flags.all()`` of a tensor or an array as a bool, or None where values cannot
    be read: while torch.compile traces, or under vmap (a data-dependent branch there
    is an error); the checks below then let the call through, as torch's compiled
    kernels skip theirs."""
    if not isinstance(flags, torch.Tensor):
        return bool(np.all(flags))
    if torch.compiler.is_compiling() or flags.device.type == "meta":
        return None
    try:
        return bool(flags.all())
    except RuntimeError:  # a batched (vmap) or fake tensor: no values to read
        return None


def _all_within(fname: str, name: str, a: Any, lo: float, hi: float, torch_says: str) -> None:
    """Every value of ``a`` in [lo, hi] (NaN fails), as torch checks bce's inputs."""
    if a is None or isinstance(a, (int, float)) and lo <= a <= hi:
        return
    if not isinstance(a, torch.Tensor):
        a = np.asarray(a)
    with torch.no_grad():
        ok = _truth((a >= lo) & (a <= hi))
    if ok is False:
        raise ValueError(
            f"npgrad.losses.{fname}: argument '{name}' must lie in [{lo:g}, {hi:g}] "
            f"(torch: {torch_says}); got values outside it"
        )


def _only_values(fname: str, name: str, a: Any, allowed: tuple[float, ...], what: str) -> None:
    """Every value of ``a`` one of ``allowed`` (labels): the first other one is named."""
    if a is None:
        return
    if isinstance(a, torch.Tensor):
        with torch.no_grad():
            flat = a.detach().reshape(-1)
            good = functools.reduce(torch.logical_or, [flat == v for v in allowed])
            first = flat[~good][0].item() if _truth(good) is False else None
    else:
        flat = np.asarray(a).reshape(-1)
        bad = flat[~np.isin(flat, allowed)]
        first = bad[0].item() if bad.size else None
    if first is not None:
        raise ValueError(
            f"npgrad.losses.{fname}: argument '{name}' holds {what} "
            f"({' or '.join(map(repr, allowed))}); got {first!r}"
        )


# ------------------------------------------------------------------- autocast
# torch's autocast policy per loss and device type, read from torch's own op lists
# (torch.amp's docs, ATen's autocast_mode.cpp) and checked against torch's functions:
# "fp32": the floating inputs other than float64 are cast to float32 and the loss runs
# there, autocast off inside (so float32 comes out, as from torch's loss); "native":
# the loss runs in the inputs' dtype; "banned": torch refuses the loss there.
FP32, NATIVE, BANNED = "fp32", "native", "banned"


def _autocast(fname: str, *, cpu: str = FP32, cuda: str = FP32) -> Callable:
    """A public loss that follows torch's autocast policy for it (see above)."""
    policy = {"cpu": cpu, "cuda": cuda}

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            ref = _first_tensor(*args, *kwargs.values())
            kind = None if ref is None else ref.device.type
            if kind not in policy or not torch.is_autocast_enabled(kind):
                return fn(*args, **kwargs)
            rule = policy[kind]
            if rule == BANNED:
                raise RuntimeError(
                    f"npgrad.losses.{fname} is unsafe under {kind.upper()} autocast, as "
                    "torch's binary_cross_entropy is there (torch refuses it): use "
                    "bce_with_logits on logits, or call it outside autocast"
                )
            if rule == NATIVE:
                return fn(*args, **kwargs)

            def up(a: Any) -> Any:  # torch's eligible inputs: floating, not float64
                if (
                    isinstance(a, torch.Tensor)
                    and a.is_floating_point()
                    and a.dtype != torch.float64
                    and a.device.type == kind
                ):
                    return a.to(torch.float32)
                return a

            with torch.autocast(kind, enabled=False):
                return fn(*map(up, args), **{k: up(v) for k, v in kwargs.items()})

        return run

    return wrap


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
        if not any(isinstance(a, TracedArray) for a in (*args, *kwargs.values())):
            return self._fn(*args, **kwargs)
        # called by NumPy code that npgrad.grad (or another transform) traces: the
        # loss's checks and ops take the tensors, and the NumPy code gets its result
        # back as a traced array
        out = self._fn(*map(_tensor_of, args), **{k: _tensor_of(v) for k, v in kwargs.items()})
        return TracedArray(out) if isinstance(out, torch.Tensor) else out

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


def _tensor_of(a: Any) -> Any:
    return a.t if isinstance(a, TracedArray) else a


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
