"""NumPy's own CPU kernels for the ufuncs where torch's are far slower.

NumPy built with its AVX512_SKX loops (Intel's SVML) computes these 2 to 60 times as
fast as torch's CPU kernels on arrays of 256x784 (one thread, float32: ``log1p`` 2301
us against 60, ``expm1`` 2846 against 61, ``tanh`` 469 against 36, ``arctan`` 497
against 49, ``exp`` 169 against 75, ``log`` 210 against 62; float64 2 to 5 times),
and a network's activations and a likelihood's terms are that size.  Without those
loops NumPy's are the slower ones (an AVX2 machine, ``benchmarks/per_call_floor.py``:
float32 ``log1p`` 2785 us against torch's 348, float64 ``tanh`` 3014 against 1298;
only float32 ``tanh`` is faster, 658 against 879, and the Function's overhead loses
that in a training step), so the rows run only where
this NumPy reports AVX512_SKX (``NPGRAD_HOST_KERNELS``: ``auto``, ``on``, ``off``).
There, for a large enough CPU array whose values can be read, a row computes the
value with NumPy's kernel, which is then NumPy's value exactly, and gives autograd
torch's derivative through an ``autograd.Function`` (whose backward is itself torch
ops, so that second derivatives work).  Anywhere values cannot be read
(``torch.func``, ``torch.compile``, a tracer), under forward-mode AD, or where the
array is small, half precision, on an accelerator or lazily negated, the row is
torch's function.  ``benchmarks/per_call_floor.py`` measures both kernels.
"""

from __future__ import annotations

import os
import platform
import sys
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch.autograd import forward_ad

from .._trace._state import values_hidden
from .scipy_special import expm1 as _stable_expm1

# from this many elements NumPy's kernel and the Function's overhead beat torch's
# kernel, forward and backward together, in float32 and float64 (tanh measured at
# 1024 to 131072 elements: torch wins below 1024); exp and log, only 2-5 times
# faster, from four times as many
HOST_MIN = 8192
_DTYPES = (torch.float32, torch.float64)
_SETTING = "NPGRAD_HOST_KERNELS"


def numpy_has_fast_loops() -> bool:
    """Whether this NumPy was built with its AVX512_SKX loops (SVML) and this CPU runs
    them: NumPy links SVML on x86-64 Linux only, where AVX512_SKX (NumPy 2.4's name
    for that level: X86_V4) is among its dispatch targets."""
    if not sys.platform.startswith("linux") or platform.machine().lower() not in (
        "x86_64",
        "amd64",
    ):
        return False
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # a NumPy that moved them: torch's kernels, which are correct
        return False
    levels = {"AVX512_SKX", "X86_V4"}
    cpu = getattr(umath, "__cpu_features__", {})
    built = {*getattr(umath, "__cpu_baseline__", ()), *getattr(umath, "__cpu_dispatch__", ())}
    return any(cpu.get(level, False) for level in levels) and bool(levels & built)


def _enabled(setting: str | None) -> bool:
    choice = (setting or "auto").strip().lower()
    if choice not in ("auto", "on", "off"):
        # a setting is no call to refuse: said once, at import, and the default taken
        warnings.warn(
            f"npgrad: the environment variable {_SETTING} must be 'auto', 'on' or 'off'; "
            f"got {setting!r}, so 'auto' is used",
            RuntimeWarning,
            stacklevel=2,
        )
        choice = "auto"
    return numpy_has_fast_loops() if choice == "auto" else choice == "on"


# decided once per process, so that a run's values do not change midway
ENABLED = _enabled(os.environ.get(_SETTING))


def _readable(t: torch.Tensor, scale: int) -> bool:
    return (
        ENABLED
        and t.is_cpu
        and t.dtype in _DTYPES
        and t.numel() >= HOST_MIN * scale
        and type(t) is torch.Tensor
        and not t.is_neg()
        and not values_hidden()
        # a dual tensor's tangent is not in requires_grad: under forward mode (or a
        # torch without the counter) torch's function, which carries it
        and getattr(forward_ad, "_current_level", 0) < 0
    )


def _host_row(
    np_fn: np.ufunc, torch_fn: Callable, saves: str, chain: Callable, scale: int = 1
) -> Callable:
    """The row's implementation: NumPy's kernel where it may run, else ``torch_fn``.

    ``chain(g, *kept)`` is ``g`` times d y / d x, in torch ops (so that it
    differentiates too), from the input x, the output y or both (``saves``: "x", "y"
    or "xy", given as y, x);
    from ``scale`` times ``HOST_MIN`` elements.
    """

    def value(x: torch.Tensor) -> torch.Tensor:
        a = x.detach().numpy()
        with np.errstate(all="ignore"):  # the nonfinite policy speaks, not NumPy's flags
            return torch.from_numpy(np_fn(a))

    class Host(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[override]
            y = value(x)
            # what torch's own backward keeps: the output where its derivative reads it
            # (so a later in-place write into it is refused alike), else the input;
            # "xy" (expm1) keeps both, the input for an exact derivative, so a write
            # into either is refused there, where torch refuses only the output's
            ctx.save_for_backward(*{"y": (y,), "x": (x,), "xy": (y, x)}[saves])
            return y

        @staticmethod
        def backward(ctx, g):  # type: ignore[override]
            return chain(g, *ctx.saved_tensors)

    Host.__name__ = f"Host_{np_fn.__name__}"

    def impl(x: torch.Tensor) -> torch.Tensor:
        if not _readable(x, scale):
            return torch_fn(x)
        if x.requires_grad and torch.is_grad_enabled():
            return Host.apply(x)
        return value(x)

    impl.__name__ = f"_host_{np_fn.__name__}"
    return impl


# torch's own derivatives, from what torch's backward reads
tanh = _host_row(np.tanh, torch.tanh, "y", lambda g, y: torch.ops.aten.tanh_backward(g, y))
arctan = _host_row(np.arctan, torch.atan, "x", lambda g, x: g / (1 + x * x))
log1p = _host_row(np.log1p, torch.log1p, "x", lambda g, x: g / (1 + x))
# expm1's derivative is exp(x), not torch's y + 1: that loses relative digits left of 0
# (5e-8 at x = -20) and is 0 past -37
expm1 = _host_row(np.expm1, _stable_expm1, "xy", lambda g, y, x: g * torch.exp(x))
exp = _host_row(np.exp, torch.exp, "y", lambda g, y: g * y, scale=4)
log = _host_row(np.log, torch.log, "x", lambda g, x: g / x, scale=4)
