"""``numpy.fft``: one-dimensional transforms (half precision computes in float32)."""

from __future__ import annotations

import numpy as np
import torch

from .._trace._array import tensor
from .._trace._registry import implements
from .linalg import single


def _transform(fn, a, n, axis, norm) -> torch.Tensor:
    t = single(tensor(a))
    empty = [d for d in range(t.ndim) if t.shape[d] == 0 and d != axis % t.ndim]
    if not empty:
        return fn(t, n=n, dim=axis, norm=norm)
    # no rows to transform: NumPy's empty result (MKL refuses the plan); its shape and
    # dtype from one row of zeros, cut back to none
    one = t.new_zeros([1 if d in empty else size for d, size in enumerate(t.shape)])
    r = fn(one, n=n, dim=axis, norm=norm)
    for d in empty:
        r = r.narrow(d, 0, 0)
    return r


@implements(np.fft.fft, axis="one")
def _fft(a, n=None, axis=-1, norm=None, out=None):
    return _transform(torch.fft.fft, a, n, axis, norm)


@implements(np.fft.ifft, axis="one")
def _ifft(a, n=None, axis=-1, norm=None, out=None):
    return _transform(torch.fft.ifft, a, n, axis, norm)


@implements(np.fft.rfft, axis="one")
def _rfft(a, n=None, axis=-1, norm=None, out=None):
    return _transform(torch.fft.rfft, a, n, axis, norm)


@implements(np.fft.irfft, axis="one")
def _irfft(a, n=None, axis=-1, norm=None, out=None):
    return _transform(torch.fft.irfft, a, n, axis, norm)


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
