"""``scipy.optimize``'s Rosenbrock test function and its derivatives: ``rosen``,
``rosen_der``, ``rosen_hess`` and ``rosen_hess_prod`` (followed by the trampolines
of ``_trace._scipy``), SciPy's formulas computed in torch.

SciPy keeps a floating input's dtype (float32 in, float32 out) and computes
integer and bool inputs in float64; so do these rows.  ``rosen`` and ``rosen_der``
take an array of any rank (the points along its first axis), as SciPy's do;
``rosen_hess`` and ``rosen_hess_prod`` a vector.
"""

from __future__ import annotations

from typing import Any

import torch

from .._errors import TraceError
from .._trace._array import tensor
from .._trace._registry import implements
from .._trace._state import here
from .scipy_special_functions import floating

_S = dict(kind="scipy")


def _vector(x: Any, name: str) -> torch.Tensor:
    t = floating(x)
    if t.ndim != 1:
        # SciPy's own code fails on these, with an unrelated message
        raise TraceError(
            f"{here()}: scipy.optimize.{name} of a {t.ndim}-d array is not followed "
            "(SciPy's takes a vector)"
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
    t = _vector(x, "rosen_hess_prod")
    q = tensor(p).to(t.dtype)  # SciPy casts p to x's dtype
    first = (1200 * t[0] ** 2 - 400 * t[1] + 2) * q[0] - 400 * t[0] * q[1]
    middle = (
        -400 * t[:-2] * q[:-2]
        + (202 + 1200 * t[1:-1] ** 2 - 400 * t[2:]) * q[1:-1]
        - 400 * t[1:-1] * q[2:]
    )
    last = -400 * t[-2] * q[-2] + 200 * q[-1]
    return torch.cat([first[None], middle, last[None]])
