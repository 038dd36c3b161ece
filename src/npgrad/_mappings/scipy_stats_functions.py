"""``scipy.stats`` functions of samples: ``entropy``, ``zscore``, ``gmean``,
``hmean``, ``skew``, ``kurtosis`` and ``moment`` (followed by the trampolines of
``_trace._scipy``).  Integer samples compute in float64, float32 ones in float32, as
SciPy's; ``nan_policy`` other than 'propagate' is refused (what is omitted would
depend on the values).  ``_no_deco`` is the keyword of SciPy's axis and nan-policy
decorator, whose signature the trampoline keeps: the rows follow the function
either way."""

from __future__ import annotations

import math
from typing import Any

import torch

from .._errors import TraceError
from .._trace._array import tensor
from .._trace._promote import common
from .._trace._registry import implements
from .._trace._state import here
from .scipy_special import _rel_entr
from .scipy_special_functions import dims, floating

_S = dict(kind="scipy", axis="many")


def _propagate(name: str, nan_policy: Any) -> None:
    if nan_policy != "propagate":
        raise TraceError(
            f"{here()}: scipy.stats.{name}(..., nan_policy={nan_policy!r}) is not followed "
            "(followed: 'propagate'); use mode='numeric'"
        )


def _sample(name: str, a: Any, axis: Any, nan_policy: Any, dtype: Any = None):
    """The sample as a float tensor, the dimensions reduced and their count."""
    _propagate(name, nan_policy)
    t = floating(a) if dtype is None else tensor(a).to(dtype)  # a torch dtype: the normaliser
    if t.ndim == 0 and name != "zscore":
        # SciPy's axis_nan_policy reads a number as a sample of one (zscore, undecorated,
        # raises NumPy's AxisError instead); its result is then SciPy's, 0-d or (1,)
        t = t.reshape(1)
    d = dims(t, axis)
    return t, d, math.prod(t.shape[i] for i in d)


def _mean(t: torch.Tensor, d: tuple, keepdims: bool, weights: Any = None) -> torch.Tensor:
    if weights is None:
        return torch.mean(t, dim=d, keepdim=keepdims)
    # SciPy's promotion: float32 values with float64 weights give float64
    t, w = torch.broadcast_tensors(*common(t, floating(weights)))
    return torch.sum(t * w, dim=d, keepdim=keepdims) / torch.sum(w, dim=d, keepdim=keepdims)


def _central(t: torch.Tensor, d: tuple, order: int) -> torch.Tensor:
    """The sample's central moment of ``order``, kept dimensions."""
    return torch.mean((t - torch.mean(t, dim=d, keepdim=True)) ** order, dim=d, keepdim=True)


def _integers(order: Any) -> list[int]:
    if isinstance(order, torch.Tensor):
        if order.is_floating_point() and order.requires_grad:
            raise TraceError(f"{here()}: scipy.stats.moment has no gradient in its order")
        order = order.detach().cpu().tolist()
    values = list(order) if isinstance(order, (list, tuple)) else [order]
    if any(float(v) != int(v) for v in values):
        raise TraceError(f"{here()}: scipy.stats.moment of a non-integer order {order!r}")
    return [int(v) for v in values]


@implements("scipy.stats.moment", handles=("order",), **_S)
def _moment(
    a, order=1, axis=0, nan_policy="propagate", *, center=None, keepdims=False, _no_deco=False
):
    t, d, _ = _sample("moment", a, axis, nan_policy)
    orders = _integers(order)
    # SciPy moves the reduced axes last (raveled together): a center broadcasts there
    rest = [i for i in range(t.ndim) if i not in d]
    flat = t.permute(*rest, *d).reshape(*[t.shape[i] for i in rest], -1)
    kept = [1 if i in d else t.shape[i] for i in range(t.ndim)] if keepdims else None
    mid = flat.mean(-1, keepdim=True) if center is None else tensor(center).to(t.dtype)
    out = []
    for k in orders:
        if k == 0 or (k == 1 and center is None):
            # SciPy's exact 1 and 0 (not a sum that rounds to them)
            value = torch.full_like(flat[..., 0], float(k == 0))
        else:
            value = torch.mean((flat - mid) ** k, dim=-1)
        out.append(value if kept is None else value.reshape(kept))
    if isinstance(order, (list, tuple)) or getattr(order, "ndim", 0):
        return torch.stack(out)
    return out[0]


def _zero(m2: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """SciPy's constant sample: m2 within rounding of 0 (eps times the mean)."""
    return m2 <= (torch.finfo(m2.dtype).eps * mean) ** 2


@implements("scipy.stats.skew", **_S)
def _skew(a, axis=0, bias=True, nan_policy="propagate", *, keepdims=False, _no_deco=False):
    t, d, n = _sample("skew", a, axis, nan_policy)
    m2, m3, mean = _central(t, d, 2), _central(t, d, 3), torch.mean(t, dim=d, keepdim=True)
    zero = _zero(m2, mean)
    m2s = torch.where(zero, 1.0, m2)  # a finite gradient where the nan is taken
    value = m3 / m2s**1.5
    if not bias and n > 2:
        value = ((n - 1.0) * n) ** 0.5 / (n - 2.0) * value
    value = torch.where(zero, math.nan, value)
    return value if keepdims else value.squeeze(d)


@implements("scipy.stats.kurtosis", **_S)
def _kurtosis(
    a, axis=0, fisher=True, bias=True, nan_policy="propagate", *, keepdims=False, _no_deco=False
):
    t, d, n = _sample("kurtosis", a, axis, nan_policy)
    m2, m4, mean = _central(t, d, 2), _central(t, d, 4), torch.mean(t, dim=d, keepdim=True)
    zero = _zero(m2, mean)
    value = m4 / torch.where(zero, 1.0, m2) ** 2
    if not bias and n > 3:
        value = 1.0 / (n - 2) / (n - 3) * ((n * n - 1.0) * value - 3 * (n - 1) ** 2.0) + 3.0
    value = torch.where(zero, math.nan, value)
    value = value - 3 if fisher else value
    return value if keepdims else value.squeeze(d)


@implements("scipy.stats.zscore", **_S)
def _zscore(a, axis=0, ddof=0, nan_policy="propagate", *, _no_deco=False):
    t, d, n = _sample("zscore", a, axis, nan_policy)
    mean = torch.mean(t, dim=d, keepdim=True)
    std = (torch.sum((t - mean) ** 2, dim=d, keepdim=True) / (n - ddof)) ** 0.5
    zero = std <= torch.abs(torch.finfo(t.dtype).eps * mean)
    z = (t - mean) / torch.where(zero, 1.0, std)
    return torch.where(zero, math.nan, z)


@implements("scipy.stats.gmean", dtype="row", **_S)
def _gmean(
    a, axis=0, dtype=None, weights=None, *, nan_policy="propagate", keepdims=False, _no_deco=False
):
    t, d, _ = _sample("gmean", a, axis, nan_policy, dtype)
    return torch.exp(_mean(torch.log(t), d, keepdims, weights))


@implements("scipy.stats.hmean", dtype="row", **_S)
def _hmean(
    a, axis=0, dtype=None, *, weights=None, nan_policy="propagate", keepdims=False, _no_deco=False
):
    t, d, _ = _sample("hmean", a, axis, nan_policy, dtype)
    t = torch.where(t < 0, math.nan, t)  # SciPy's nan (and warning) for negative values
    return 1.0 / _mean(1.0 / t, d, keepdims, weights)


@implements("scipy.stats.entropy", **_S)
def _entropy(
    pk, qk=None, base=None, axis=0, *, nan_policy="propagate", keepdims=False, _no_deco=False
):
    if base is not None and base <= 0:
        raise ValueError("`base` must be a positive number or `None`.")
    _propagate("entropy", nan_policy)
    p = floating(pk)
    if qk is not None:
        p, q = torch.broadcast_tensors(*common(p, floating(qk)))
    d = dims(p, axis)
    if qk is None:
        # log S + sum(-p log p) / S, the entropy of p / S without dividing first: a
        # zero in p then has entr's infinite slope there and the others a finite one
        # (through p / S, 0 times that infinity made every gradient nan)
        total = torch.sum(p, dim=d, keepdim=keepdims)
        s = torch.log(total) + torch.sum(torch.special.entr(p), dim=d, keepdim=keepdims) / total
    else:
        p = p / torch.sum(p, dim=d, keepdim=True)
        vec = _rel_entr(p, q / torch.sum(q, dim=d, keepdim=True))
        s = torch.sum(vec, dim=d, keepdim=keepdims)
    return s / math.log(base) if base is not None else s
