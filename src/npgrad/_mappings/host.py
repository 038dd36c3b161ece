"""NumPy's own CPU kernels for the ufuncs where torch's are far slower.

On this project's machines torch's CPU ``tanh`` and ``atan`` take 6-13 times as long
as NumPy's (``benchmarks/per_call_floor.py``: ``tanh`` of a 256x128 float32 array,
75 us against 5.9 us on one thread), and an MLP's activations are that size.  For a
large enough CPU array whose values can be read, these rows compute the value with
NumPy's kernel, which is then NumPy's value exactly, and give autograd torch's
derivative through an ``autograd.Function`` (whose backward is itself torch ops, so
that second derivatives work).  Anywhere values cannot be read (``torch.func``,
``torch.compile``, a tracer), under forward-mode AD, or where the array is small, half
precision, on an accelerator or lazily negated, the row is torch's function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.autograd import forward_ad

from .._trace._state import abstract

# from this many elements NumPy's kernel and the Function's overhead beat torch's
# kernel, forward and backward together, in float32 and float64 (measured at 1024 to
# 131072 elements; below 1024 torch wins)
HOST_MIN = 8192
_DTYPES = (torch.float32, torch.float64)


def _readable(t: torch.Tensor) -> bool:
    return (
        t.is_cpu
        and t.dtype in _DTYPES
        and t.numel() >= HOST_MIN
        and type(t) is torch.Tensor
        and not t.is_neg()
        and not abstract()
        and not torch.compiler.is_compiling()
        # a dual tensor's tangent is not in requires_grad: under forward mode (or a
        # torch without the counter) torch's function, which carries it
        and getattr(forward_ad, "_current_level", 0) < 0
    )


def _host_row(np_fn: np.ufunc, torch_fn: Callable, chain: Callable) -> Callable:
    """The row's implementation: NumPy's kernel where it may run, else ``torch_fn``.

    ``chain(g, x, y)`` is ``g`` times d y / d x, in torch ops (so that it
    differentiates too).
    """

    def value(x: torch.Tensor) -> torch.Tensor:
        a = x.detach().numpy()
        with np.errstate(all="ignore"):  # the nonfinite policy speaks, not NumPy's flags
            return torch.from_numpy(np_fn(a))

    class Host(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[override]
            y = value(x)
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):  # type: ignore[override]
            x, y = ctx.saved_tensors
            return chain(g, x, y)

    Host.__name__ = f"Host_{np_fn.__name__}"

    def impl(x: torch.Tensor) -> torch.Tensor:
        if not _readable(x):
            return torch_fn(x)
        if x.requires_grad and torch.is_grad_enabled():
            return Host.apply(x)
        return value(x)

    impl.__name__ = f"_host_{np_fn.__name__}"
    return impl


# torch's own derivatives: tanh's from its output in one kernel, atan's from its input
tanh = _host_row(np.tanh, torch.tanh, lambda g, x, y: torch.ops.aten.tanh_backward(g, y))
arctan = _host_row(np.arctan, torch.atan, lambda g, x, y: g / (1 + x * x))
