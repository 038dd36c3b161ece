"""``scipy.special`` functions that are not ufuncs: ``logsumexp``, ``softmax``,
``log_softmax`` (followed by the trampolines of ``_trace._scipy``)."""

from __future__ import annotations

from typing import Any

import torch

from .._dtypes import is_inexact
from .._trace._array import tensor
from .._trace._registry import implements
from .._trace._state import wide

_S = dict(kind="scipy", axis="many")


def floating(x: Any) -> torch.Tensor:
    """SciPy computes integer and bool inputs in float64."""
    t = tensor(x)
    return t if is_inexact(t.dtype) else t.to(wide())


def dims(t: torch.Tensor, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(t.ndim))
    return axis if isinstance(axis, tuple) else (axis,)


@implements("scipy.special.logsumexp", **_S)
def _logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    t = floating(a)
    if t.is_complex():
        raise TypeError("npgrad: scipy.special.logsumexp of complex values is not followed")
    d = dims(t, axis)
    if b is None:
        if t.ndim == 0:
            out = t.clone()  # torch.logsumexp wants a dimension
        else:
            out = torch.logsumexp(t, dim=d, keepdim=keepdims)
        if return_sign:
            return out, torch.ones_like(out)
        return out
    w = tensor(b)
    t, w = torch.broadcast_tensors(t, w.to(t.dtype) if not is_inexact(w.dtype) else w)
    if t.ndim == 0:
        t, w = t.reshape(1), w.reshape(1)
        d, squeeze = (0,), True
    else:
        squeeze = False
    # the maximum over the terms that count (b != 0), a constant: the shift cancels
    m = torch.amax(torch.where(w != 0, t, -torch.inf), dim=d, keepdim=True).detach()
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    s = torch.sum(w * torch.exp(t - m), dim=d, keepdim=True)
    sign = torch.sign(s)
    out = torch.log(torch.abs(s) if return_sign else s) + m
    if not keepdims:
        out, sign = out.squeeze(d), sign.squeeze(d)
    if squeeze:
        out, sign = out.reshape(()), sign.reshape(())
    if return_sign:
        return out, sign
    return out


def _flat(fn: Any, x: Any, axis: Any) -> torch.Tensor:
    t = floating(x)
    if axis is None or t.ndim == 0:
        return fn(t.reshape(-1), dim=0).reshape(t.shape)
    if isinstance(axis, tuple):
        # over several axes: move them last and flatten them together
        rest = [i for i in range(t.ndim) if i not in axis]
        p = t.permute(*rest, *axis)
        shape = p.shape
        r = fn(p.reshape(*shape[: len(rest)], -1), dim=-1).reshape(shape)
        inverse = [0] * t.ndim
        for i, k in enumerate([*rest, *axis]):
            inverse[k] = i
        return r.permute(*inverse)
    return fn(t, dim=axis)


@implements("scipy.special.softmax", **_S)
def _softmax(x, axis=None):
    return _flat(torch.softmax, x, axis)


@implements("scipy.special.log_softmax", **_S)
def _log_softmax(x, axis=None):
    return _flat(torch.log_softmax, x, axis)
