"""``numpy.fft``: one-dimensional transforms (half precision computes in float32)."""

from __future__ import annotations

import numpy as np
import torch

from .._trace._array import tensor
from .._trace._registry import implements
from .linalg import single


@implements(np.fft.fft, axis="one")
def _fft(a, n=None, axis=-1, norm=None, out=None):
    return torch.fft.fft(single(tensor(a)), n=n, dim=axis, norm=norm)


@implements(np.fft.ifft, axis="one")
def _ifft(a, n=None, axis=-1, norm=None, out=None):
    return torch.fft.ifft(single(tensor(a)), n=n, dim=axis, norm=norm)


@implements(np.fft.rfft, axis="one")
def _rfft(a, n=None, axis=-1, norm=None, out=None):
    return torch.fft.rfft(single(tensor(a)), n=n, dim=axis, norm=norm)


@implements(np.fft.irfft, axis="one")
def _irfft(a, n=None, axis=-1, norm=None, out=None):
    return torch.fft.irfft(single(tensor(a)), n=n, dim=axis, norm=norm)


@implements(np.fft.fftshift)
def _fftshift(x, axes=None):
    t = tensor(x)
    return torch.fft.fftshift(t, dim=axes if axes is None or isinstance(axes, int) else tuple(axes))


@implements(np.fft.ifftshift)
def _ifftshift(x, axes=None):
    t = tensor(x)
    return torch.fft.ifftshift(
        t, dim=axes if axes is None or isinstance(axes, int) else tuple(axes)
    )
