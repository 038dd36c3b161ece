"""Losses written in plain NumPy.

``mse`` carries a hand-written NumPy backward in ATen's order of operations, which
makes it bit-identical to ``torch.nn.MSELoss`` in training.  Every other loss here
has no backward at all: npgrad derives its gradient (``mode="auto"``), on the
tensor's own device.  Each is checked against float64 finite differences and,
where torch has the same loss, against torch's own value and gradient.

>>> import torch
>>> from npgrad import losses
>>> losses.mse(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
tensor(2.)
>>> losses.huber(torch.tensor([0.0, 3.0]), torch.zeros(2))
tensor(1.2500)
"""

from __future__ import annotations

import numpy as np

from ._function import loss, unbroadcast


# ----------------------------------------------------------- the founding MSE
def _mse(x, t):
    return np.mean((x - t) ** 2)


def _mse_fast(x, t):
    # (x - t) once, then a BLAS dot for the sum of squares: about half the time of
    # np.mean((x - t) ** 2). The value may differ from it in the last bits; the
    # gradient below does not depend on it.
    d = np.asarray(np.subtract(x, t))
    if d.dtype.kind != "f" or d.size == 0:
        return np.mean(d**2)
    return _sum_sq_mean(d)


mse = loss(_mse_fast, name="mse")
mse_auto = loss(_mse, name="mse_auto")


@mse.def_fwd
def _mse_fwd(x, t):
    d = np.asarray(np.subtract(x, t))
    if d.dtype.kind != "f" or d.size == 0:
        return _mse_fast(x, t), []
    value = _sum_sq_mean(d)
    # the backward's first step, done while d is still in cache, in place: the same
    # operation on the same operands as in the backward, so the same bits
    np.multiply(d, _two_over_n(d), out=d)
    return value, [d]


def _sum_sq_mean(d):
    flat = d.reshape(-1)
    return np.asarray(np.dot(flat, flat) / np.asarray(d.size, dtype=d.dtype), dtype=d.dtype)


def _two_over_n(d):
    return np.asarray(2.0 / d.size, dtype=d.dtype)  # N: the broadcast size


@mse.backward
def _mse_backward(g, x, t, out, *, needs_input_grad=(True, True), residuals=None):
    # (x - t) * float32(2/N) * g is ATen's own order for mse_loss backward;
    # any other order (2 * (x - t) / N, ...) differs in the last bit
    if residuals:
        # the forward's (x - t) * 2/N, taken: its memory becomes the gradient, and a
        # second backward (retain_graph=True) finds the list empty and recomputes
        d = residuals.pop()
    else:
        d = np.asarray(np.subtract(x, t))
        d = np.multiply(d, _two_over_n(d))
    if g.ndim or float(g) != 1.0:  # multiplying by exactly 1 changes no bit: skip it
        d *= g  # d is this backward's own array
    # mixed dtypes or a broadcast integer target: each gradient takes its input's
    # dtype and shape (both no-ops in the common case, so parity is untouched)
    gx = unbroadcast(d, x.shape).astype(x.dtype, copy=False) if needs_input_grad[0] else None
    gt = None
    if needs_input_grad[1]:
        gt = unbroadcast(np.negative(d), t.shape).astype(t.dtype, copy=False)
    return gx, gt


# -------------------------------------------------------- automatic gradients
def log_softmax(z, axis=-1):
    """log-softmax through a stable logsumexp (plain NumPy, usable inside losses)."""
    m = np.max(z, axis=axis, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@loss
def mae(x, t):
    """Mean absolute error (``torch.nn.L1Loss``)."""
    return np.mean(np.abs(x - t))


@loss
def huber(x, t, delta=1.0):
    """Huber loss (``torch.nn.HuberLoss``)."""
    a = np.abs(x - t)
    return np.mean(np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta)))


@loss
def smooth_l1(x, t, beta=1.0):
    """Smooth L1 (``torch.nn.SmoothL1Loss``)."""
    a = np.abs(x - t)
    return np.mean(np.where(a < beta, 0.5 * a**2 / beta, a - 0.5 * beta))


@loss
def bce(p, t):
    """Binary cross-entropy on probabilities; logs clamped at -100 like torch."""
    return -np.mean(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))


@loss
def bce_with_logits(z, t):
    """Binary cross-entropy on logits, in the stable form."""
    return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))


@loss
def cross_entropy(logits, target):
    """Cross-entropy on logits [N, C]; ``target`` holds class indices [N] or
    probabilities [N, C] (``torch.nn.CrossEntropyLoss``)."""
    logp = log_softmax(logits, axis=1)
    if np.issubdtype(target.dtype, np.integer):
        return -np.mean(np.take_along_axis(logp, target[:, None], axis=1))
    return -np.mean(np.sum(target * logp, axis=1))


@loss
def kl_div(logq, p):
    """KL(p || q) from log-probabilities ``logq`` and probabilities ``p``, averaged
    over the batch (``F.kl_div(logq, p, reduction="batchmean")``)."""
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0)
    return np.sum(plogp - p * logq) / logq.shape[0]


@loss(broadcast=True)
def cosine_embedding(x1, x2, y, margin=0.0):
    """``torch.nn.CosineEmbeddingLoss``: ``y`` is +1 (similar) or -1 per row."""
    eps = 1e-12
    cos = np.sum(x1 * x2, axis=1) / np.sqrt(
        (np.sum(x1 * x1, axis=1) + eps) * (np.sum(x2 * x2, axis=1) + eps)
    )
    return np.mean(np.where(y == 1, 1 - cos, np.maximum(0, cos - margin)))


@loss
def focal(p, y, gamma=2.0):
    """Focal loss on probabilities ``p`` with binary labels ``y``."""
    pt = np.where(y == 1, p, 1 - p)
    return -np.mean((1 - pt) ** gamma * np.log(np.clip(pt, 1e-7, 1)))


@loss
def charbonnier(x, t, eps=1e-3):
    """Charbonnier (a smooth L1): mean of sqrt(d^2 + eps^2)."""
    return np.mean(np.sqrt((x - t) ** 2 + eps**2))


@loss
def log_cosh(x, t):
    """log(cosh(d)), in the overflow-free form |d| + log1p(exp(-2|d|)) - log 2."""
    a = np.abs(x - t)
    return np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2.0))


@loss
def pinball(pred, t, q=0.5):
    """Pinball (quantile) loss for quantile ``q``."""
    d = t - pred
    return np.mean(np.maximum(q * d, (q - 1) * d))


@loss
def dice(p, t, eps=1.0):
    """Soft Dice loss: 1 - (2 sum(p t) + eps) / (sum p + sum t + eps)."""
    return 1 - (2 * np.sum(p * t) + eps) / (np.sum(p) + np.sum(t) + eps)


@loss
def total_variation(img):
    """Anisotropic total variation of images [N, C, H, W], averaged over the batch."""
    dh = np.abs(img[:, :, 1:, :] - img[:, :, :-1, :])
    dw = np.abs(img[:, :, :, 1:] - img[:, :, :, :-1])
    return (np.sum(dh) + np.sum(dw)) / img.shape[0]


@loss
def gaussian_nll(mu, t, var, eps=1e-6):
    """Gaussian negative log-likelihood with a predicted variance
    (``torch.nn.GaussianNLLLoss``, ``full=False``).

    Below ``eps`` the variance is clamped like torch's, but the gradient is the true
    derivative of the clamped loss (zero); torch lets the gradient pass as if
    unclamped."""
    v = np.maximum(var, eps)
    return np.mean(0.5 * (np.log(v) + (t - mu) ** 2 / v))


@loss
def info_nce(a, b, temperature=0.1):
    """InfoNCE: row i of ``a`` should match row i of ``b`` among all rows of ``b``."""
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    logits = an @ bn.T / temperature
    return -np.mean(np.diagonal(log_softmax(logits, axis=1)))


@loss
def spectral(x, t):
    """Mean absolute difference of the rfft magnitudes along the last axis."""
    return np.mean(np.abs(np.abs(np.fft.rfft(x, axis=-1)) - np.abs(np.fft.rfft(t, axis=-1))))


@loss
def wasserstein_1d(x, t):
    """1-D Wasserstein distance between equal-size samples (rows): sorted values."""
    return np.mean(np.abs(np.sort(x, axis=-1) - np.sort(t, axis=-1)))


__all__ = [
    "bce",
    "bce_with_logits",
    "charbonnier",
    "cosine_embedding",
    "cross_entropy",
    "dice",
    "focal",
    "gaussian_nll",
    "huber",
    "info_nce",
    "kl_div",
    "log_cosh",
    "log_softmax",
    "mae",
    "mse",
    "mse_auto",
    "pinball",
    "smooth_l1",
    "spectral",
    "total_variation",
    "wasserstein_1d",
]
