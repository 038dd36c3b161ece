"""Losses written in plain NumPy.

``mse`` carries a hand-written NumPy backward in ATen's order of operations, which
makes it bit-identical to ``torch.nn.MSELoss`` in training.

>>> import torch
>>> from npgrad.losses import mse
>>> mse(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
tensor(2.)
"""

from __future__ import annotations

import numpy as np

from ._api import loss, unbroadcast


def _mse(x, t):
    return np.mean((x - t) ** 2)


def _mse_fast(x, t):
    # the same operations as _mse, in place: one temporary instead of two
    d = np.asarray(np.subtract(x, t))  # asarray: 0-d inputs give a scalar, not an array
    np.square(d, out=d)
    return d.mean()


mse = loss(_mse_fast, name="mse")


@mse.backward
def _mse_backward(g, x, t, out):
    # float32(2/N) * (x - t) * g is ATen's own order for mse_loss backward;
    # any other order (2 * (x - t) / N, ...) differs in the last bit
    d = np.asarray(np.subtract(x, t))
    d *= np.asarray(2.0 / d.size, dtype=d.dtype)  # N: the broadcast size
    d *= g
    # mixed dtypes or a broadcast integer target: each gradient takes its input's
    # dtype and shape (both no-ops in the common case, so parity is untouched)
    gx = unbroadcast(d, x.shape).astype(x.dtype, copy=False)
    gt = unbroadcast(np.negative(d), t.shape).astype(t.dtype, copy=False)
    return gx, gt


__all__ = ["mse"]
