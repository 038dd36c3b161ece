"""numeric mode: the vector-Jacobian product of the NumPy forward by central
differences, in float64 on the host."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from .. import _convert
from .._dtypes import is_differentiable
from .._errors import user_stacklevel

NUMERIC_WARN_SIZE = 4096  # above this many elements numeric mode warns that it is slow


def numeric_vjp(call: Any, grads: tuple, inputs: tuple, needs: tuple[bool, ...]) -> list:
    """The vector-Jacobian product of ``call``'s NumPy forward, by central differences.

    Computed in float64 on the host; the result is cast back to each input's dtype.
    """
    arrays = [
        a.astype(np.float64) if a.dtype.kind == "f" else a for a in _convert.to_numpy(list(inputs))
    ]
    gs = [g.astype(np.float64) for g in _convert.to_numpy(list(grads))]
    size = sum(a.size for a, n in zip(arrays, needs) if n)
    if size > NUMERIC_WARN_SIZE:
        warnings.warn(
            f"npgrad op '{call.op.name}': mode='numeric' differentiates {size} elements "
            "by finite differences (2 forward calls each); this is slow",
            stacklevel=user_stacklevel(),
        )

    def value(arrs: list[np.ndarray]) -> float:
        args, kwargs = call.numpy_args(arrs)
        out = call.op.fn(*args, **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        return float(sum(np.sum(g * np.asarray(o, dtype=np.float64)) for g, o in zip(gs, outs)))

    # the step suits the precision the forward really computes in: a forward that
    # casts to float32 inside, given float64, rounds away a float64-sized step
    rel = _step(call, arrays)

    result: list = []
    for i, (t, need) in enumerate(zip(inputs, needs)):
        if not need or not is_differentiable(t):
            result.append(None)
            continue
        x = arrays[i].copy()
        arrays[i] = x
        flat = x.reshape(-1)
        grad = np.empty_like(flat)
        h = rel * np.maximum(1.0, np.abs(flat))
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + h[j]
            plus = value(arrays)
            flat[j] = orig - h[j]
            minus = value(arrays)
            flat[j] = orig
            grad[j] = (plus - minus) / (2 * h[j])
        result.append(torch.from_numpy(grad.reshape(x.shape)).to(t.device, t.dtype))
    return result


def _step(call: Any, arrays: list[np.ndarray]) -> float:
    """The relative step of central differences: eps ** (1/3) of the least precise
    floating output the forward gives on float64 inputs (1e-6 for float64 itself)."""
    args, kwargs = call.numpy_args(arrays)
    out = call.op.fn(*args, **kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    kinds = [np.asarray(o).dtype for o in outs]
    eps = max((np.finfo(d).eps for d in kinds if d.kind == "f"), default=0.0)
    return 1e-6 if eps <= np.finfo(np.float64).eps else float(eps ** (1 / 3))
