"""Arrays made like another: zeros_like, ones_like, empty_like, full_like."""

from __future__ import annotations

import numpy as np
import torch

from .._trace._array import tensor, unwrap
from .._trace._registry import implements


def _like(a, dtype, shape, fill):
    t = tensor(a)
    dtype = dtype or t.dtype
    if shape is not None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        t = torch.empty(shape, dtype=dtype, device=t.device)
    return fill(t, dtype)


# order= only chooses a memory layout, which a traced array does not expose
@implements(np.zeros_like, dtype="row", handles=("order", "subok"), differentiable=False)
def _zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, dtype, shape, lambda t, d: torch.zeros_like(t, dtype=d))


@implements(np.ones_like, dtype="row", handles=("order", "subok"), differentiable=False)
def _ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, dtype, shape, lambda t, d: torch.ones_like(t, dtype=d))


# empty_like's contents are arbitrary in NumPy: zeros are a valid (and safe) choice
@implements(np.empty_like, dtype="row", handles=("order", "subok"), differentiable=False)
def _empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(prototype, dtype, shape, lambda t, d: torch.zeros_like(t, dtype=d))


@implements(np.full_like, dtype="row", handles=("order", "subok"))
def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    v = unwrap(fill_value)
    return _like(a, dtype, shape, lambda t, d: torch.full_like(t, v, dtype=d))
