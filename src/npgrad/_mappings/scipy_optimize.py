"""``scipy.optimize``'s Rosenbrock test function and its derivatives: ``rosen``,
``rosen_der``, ``rosen_hess`` and ``rosen_hess_prod`` (followed by the trampolines
of ``_trace._scipy``), SciPy's formulas computed in torch.

SciPy keeps a floating input's dtype (float32 in, float32 out) and computes
integer and bool inputs in float64; so do these rows.  ``rosen`` and ``rosen_der``
take an array of any rank (the points along its first axis), as SciPy's do;
``rosen_hess`` and ``rosen_hess_prod`` a vector.  A shape SciPy's code fails on
raises SciPy's exception type (IndexError where it indexes past the end,
ValueError where a vector's entry would be an array or the pieces do not fit).
"""

from __future__ import annotations

from typing import Any

import torch

from .._trace._array import tensor
from .._trace._registry import implements
from .scipy_special_functions import floating

_S = dict(kind="scipy")


def _points(t: torch.Tensor, name: str) -> None:
    """SciPy's own failure where ``x`` has no two points along its first axis."""
    if t.ndim == 0 or t.shape[0] < 2:
        raise IndexError(
            f"scipy.optimize.{name}: x of shape {tuple(t.shape)} has fewer than 2 "
            "entries along its first axis"
        )


def _broadcasts(a: torch.Size, b: torch.Size) -> bool:
    try:
        torch.broadcast_shapes(a, b)
    except RuntimeError:
        return False
    return True


def _vector(x: Any, name: str) -> torch.Tensor:
    t = floating(x)
    _points(t, name)
    if t.ndim != 1:
        # SciPy's fails on these too, writing a vector's entries from subarrays
        raise ValueError(
            f"scipy.optimize.{name}: x must be a vector, not an array of shape {tuple(t.shape)}"
        )
    return t


@implements("scipy.optimize.rosen", **_S)
def _rosen(x):
    t = floating(x)
    head = t[:-1]
    return (100.0 * (t[1:] - head**2.0) ** 2.0 + (1 - head) ** 2.0).sum(0, dtype=t.dtype)


@implements("scipy.optimize.rosen_der", **_S)
def _rosen_der(x):
    t = floating(x)
    mid, before, after = t[1:-1], t[:-2], t[2:]
    middle = 200 * (mid - before**2) - 400 * (after - mid**2) * mid - 2 * (1 - mid)
    first = -400 * t[0] * (t[1] - t[0] ** 2) - 2 * (1 - t[0])
    last = 200 * (t[-1] - t[-2] ** 2)
    return torch.cat([first[None], middle, last[None]])


@implements("scipy.optimize.rosen_hess", **_S)
def _rosen_hess(x):
    t = _vector(x, "rosen_hess")
    off = -400 * t[:-1]
    first = (1200 * t[0] ** 2 - 400 * t[1] + 2)[None]
    middle = 202 + 1200 * t[1:-1] ** 2 - 400 * t[2:]
    diagonal = torch.cat([first, middle, t.new_full((1,), 200)])
    return (
        torch.diag_embed(off, offset=1)
        + torch.diag_embed(off, offset=-1)
        + torch.diag_embed(diagonal)
    )


@implements("scipy.optimize.rosen_hess_prod", **_S)
def _rosen_hess_prod(x, p):
    t = floating(x)
    t = t.reshape(1) if t.ndim == 0 else t  # SciPy's atleast_1d
    _points(t, "rosen_hess_prod")
    q = tensor(p).to(t.dtype)  # SciPy casts p to x's dtype
    # in the order SciPy's first line meets them: p[0], x[0] * p[0], then p[1]
    fits = q.ndim > 0 and q.shape[0] > 0 and _broadcasts(t.shape[1:], q.shape[1:])
    if q.ndim > 0 and q.shape[0] > 0 and not fits:
        raise ValueError(
            f"scipy.optimize.rosen_hess_prod: the points of x {tuple(t.shape)} and of p "
            f"{tuple(q.shape)} do not broadcast"
        )
    if q.ndim == 0 or q.shape[0] < 2:
        raise IndexError(
            f"scipy.optimize.rosen_hess_prod: p of shape {tuple(q.shape)} has fewer than 2 entries"
        )
    t = _vector(t, "rosen_hess_prod")
    if q.ndim != 1:
        raise ValueError(
            "scipy.optimize.rosen_hess_prod: p must be a vector, not an array of shape "
            f"{tuple(q.shape)}"
        )
    n, m = t.shape[0], q.shape[0]
    # SciPy's slices of p broadcast against x's: a p of 3 entries (its middle one
    # standing for all) passes there, as any p of x's length; every other fails
    if m not in (n, 3):
        raise ValueError(
            f"scipy.optimize.rosen_hess_prod: p has {m} entries, x {n} (p must match x)"
        )
    first = (1200 * t[0] ** 2 - 400 * t[1] + 2) * q[0] - 400 * t[0] * q[1]
    middle = (
        -400 * t[:-2] * q[:-2]
        + (202 + 1200 * t[1:-1] ** 2 - 400 * t[2:]) * q[1:-1]
        - 400 * t[1:-1] * q[2:]
    )
    last = -400 * t[-2] * q[-2] + 200 * q[-1]
    return torch.cat([first[None], middle, last[None]])
