"""``scipy.signal``: ``convolve``, ``correlate`` and ``fftconvolve`` in every mode, of
real arrays of 1 to 3 dimensions (followed by the trampolines of ``_trace._scipy``).

Each is computed directly (torch's convolution, which is a correlation: the kernel
is flipped for a convolution), whatever ``method=`` asks: the values are the same
up to rounding, and the gradient is the convolution's own.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .._errors import TraceError
from .._trace._promote import common
from .._trace._registry import implements
from .._trace._state import here
from .scipy_special_functions import floating

# mode= is the convolution's, not NumPy's option of that name
_S = dict(kind="scipy", handles=("mode",))
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _full(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """The full correlation of ``x`` with ``k`` (same number of dimensions)."""
    pads = [s - 1 for s in k.shape]
    xp = F.pad(x, [p for p in reversed(pads) for _ in (0, 1)])
    return _CONV[x.ndim](xp[None, None], k[None, None])[0, 0]


def _correlate(name: str, in1: Any, in2: Any, mode: str, flip: bool) -> torch.Tensor:
    a, b = common(floating(in1), floating(in2))
    if a.is_complex() or b.is_complex():
        raise TraceError(f"{here()}: scipy.signal.{name} of complex arrays is not followed")
    if a.ndim != b.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    if a.ndim not in _CONV:
        if a.ndim == 0:
            return a * b
        raise TraceError(
            f"{here()}: scipy.signal.{name} of {a.ndim}-d arrays is not followed (1 to 3 "
            "dimensions are); use mode='numeric'"
        )
    if mode not in ("full", "same", "valid"):
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")
    swap = False
    if mode == "valid":
        if all(p >= q for p, q in zip(a.shape, b.shape)):
            pass
        elif all(p <= q for p, q in zip(a.shape, b.shape)):
            swap = True  # SciPy computes with the larger input first
        else:
            raise ValueError(
                "For 'valid' mode, one must be at least as large as the other in every dimension"
            )
    kernel = torch.flip(b, list(range(b.ndim))) if flip else b
    full = _full(a, kernel)
    if mode == "full":
        return full
    ref = b.shape if swap else a.shape
    if mode == "same":
        starts = [(f - s) // 2 for f, s in zip(full.shape, a.shape)]
        return full[tuple(slice(st, st + s) for st, s in zip(starts, a.shape))]
    # valid: the positions where the smaller input lies wholly inside the larger
    small = a.shape if swap else b.shape
    sizes = [r - s + 1 for r, s in zip(ref, small)]
    return full[tuple(slice(s - 1, s - 1 + n) for s, n in zip(small, sizes))]


@implements("scipy.signal.convolve", **_S)
def _convolve(in1, in2, mode="full", method="auto"):
    return _correlate("convolve", in1, in2, mode, flip=True)


@implements("scipy.signal.correlate", **_S)
def _correlate_row(in1, in2, mode="full", method="auto"):
    return _correlate("correlate", in1, in2, mode, flip=False)


@implements("scipy.signal.fftconvolve", **_S)
def _fftconvolve(in1, in2, mode="full", axes=None):
    if axes is not None:
        raise TraceError(
            f"{here()}: scipy.signal.fftconvolve(..., axes=...) is not followed; use mode='numeric'"
        )
    return _correlate("fftconvolve", in1, in2, mode, flip=True)
