"""Deferred differences: ``np.mean((x - t) ** 2)`` as one fused kernel each way.

``x - t`` of two traced arrays of one shape and floating dtype is not computed at
once; squaring it (or its absolute value) stays deferred, and a plain mean or sum
of that becomes ``mse_loss`` (``l1_loss``): one kernel forward and one backward,
with the same value and gradient as the unfused ops.  Anything else that reads the
array computes it exactly as the unfused path would.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._dtypes import TORCH_TO_NP
from ._array import FUSE, TracedArray
from ._state import constant


class Deferred(TracedArray):
    """An elementwise difference (or its square or absolute value) not computed yet."""

    __slots__ = ("_value", "kind", "a", "b")

    def __init__(self, kind: str, a: torch.Tensor, b: torch.Tensor) -> None:
        self._value = None
        self.fam = None
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

    @t.setter
    def t(self, value: torch.Tensor) -> None:  # a write into the difference (a[0] = 0)
        self._value = value

    def _like(self) -> torch.Tensor:
        # deferred only when a and b share shape and dtype; once computed, the value
        # (which a.shape = ... may have reshaped)
        return self.a if self._value is None else self._value

    def _peek(self) -> torch.Tensor | None:
        return self._value


def _subtract(inputs: tuple) -> Deferred | None:
    if len(inputs) != 2:
        return None
    a, b = inputs
    # a NumPy array of the same shape and dtype (a target, at the NumPy-level API) is
    # a constant tensor, as the ufunc core would make it
    if type(a) is TracedArray:
        ta = a.t
        tb = b.t if type(b) is TracedArray else _same_array(b, ta)
    elif type(b) is TracedArray:
        tb = b.t
        ta = _same_array(a, tb)
    else:
        return None
    if (
        tb is not None
        and ta is not None
        and ta.shape == tb.shape
        and ta.dtype == tb.dtype
        and ta.is_floating_point()
    ):
        return Deferred("sub", ta, tb)
    return None


def _same_array(x: Any, like: torch.Tensor) -> torch.Tensor | None:
    """A NumPy array of ``like``'s shape and dtype as a constant tensor, else ``None``."""
    if type(x) is np.ndarray and x.shape == like.shape and x.dtype == TORCH_TO_NP.get(like.dtype):
        return constant(x)
    return None


def _pending(x: Any) -> bool:
    return type(x) is Deferred and x.kind == "sub" and x._value is None


def _square(inputs: tuple) -> Deferred | None:
    x = inputs[0]
    return Deferred("square", x.a, x.b) if len(inputs) == 1 and _pending(x) else None


def _absolute(inputs: tuple) -> Deferred | None:
    x = inputs[0]
    return Deferred("abs", x.a, x.b) if len(inputs) == 1 and _pending(x) else None


def _power(inputs: tuple) -> Deferred | None:
    if len(inputs) != 2 or not _pending(inputs[0]):
        return None
    p = inputs[1]
    if type(p) in (int, float) and p == 2:
        return Deferred("pow2", inputs[0].a, inputs[0].b)
    return None


FUSE[np.subtract] = _subtract
FUSE[np.square] = _square
FUSE[np.absolute] = _absolute
FUSE[np.power] = _power

_REDUCTION = {"mean": 1, "sum": 2}  # ATen's Reduction enum
_KERNEL = {False: torch._C._nn.mse_loss, True: torch._C._nn.l1_loss}


def fused_reduction(a: Any, reduction: str) -> torch.Tensor | None:
    """The fused kernel for a plain mean/sum of a deferred square or absolute
    difference; ``None`` for anything else."""
    if type(a) is Deferred and a._value is None and a.kind != "sub":
        # shapes and dtypes already match: the ATen kernels directly, without
        # torch.nn.functional's broadcasting checks
        return _KERNEL[a.kind == "abs"](a.a, a.b, _REDUCTION[reduction])
    return None
