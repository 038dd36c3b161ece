"""Regression and image losses: mse (the founding one), mae, huber, smooth L1, ..."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._function import loss, unbroadcast
from ._common import (
    NATIVE,
    Array,
    _as_weight,
    _autocast,
    _check_reduction,
    _positive,
    _Public,
    _reduce,
    _Reduced,
    _shape_of,
    _truth,
)


# ----------------------------------------------------------- the founding MSE
def _mse(x, t):
    """Mean squared error with an automatic gradient (the plain NumPy form of
    :func:`mse`, which npgrad fuses into ATen's ``mse_loss``); ``x``, ``t`` of one
    shape.

    >>> import torch
    >>> mse_auto(torch.tensor([1.0, 2.0]), torch.zeros(2))
    tensor(2.5000)
    """
    return np.mean((x - t) ** 2)


# the op's public name, for help() (the op takes the function's name and docstring)
_mse.__name__ = _mse.__qualname__ = "mse_auto"


def _mse_fast(x, t):
    # (x - t) once, then a BLAS dot for the sum of squares: about half the time of
    # np.mean((x - t) ** 2). The value may differ from it in the last bits; the
    # gradient below does not depend on it.
    d = np.asarray(np.subtract(x, t))
    if d.dtype.kind != "f" or d.size == 0:
        return np.mean(d**2)
    return _sum_sq_mean(d)


# the NumPy op behind mse's default call; the public mse (below) picks it
_mse_numpy = loss(_mse_fast, name="mse")
mse_auto = loss(_mse, name="mse_auto")


@_mse_numpy.def_fwd
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


@_mse_numpy.backward
def _mse_backward(g, x, t, out, *, needs_input_grad=(True, True), residuals=None):
    # Only ever called with two tensor inputs: mse sends any other call (a NumPy or
    # Python-number target) to the automatic variant, so that a gradient goes to the
    # tensor inputs only (needs_input_grad has one entry per tensor, not per argument).
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


def _mse_each(x, t, weight, reduction):
    return _reduce((x - t) ** 2, weight, reduction, by_weight=True)


_MSE = _Reduced(_mse_each, "mse")


@_Public
@_autocast("mse")
def mse(x: Array, t: Array, *, reduction: str = "mean", weight: Array = None) -> torch.Tensor:
    """Mean squared error (``torch.nn.functional.mse_loss``).

    ``x``, ``t`` and ``weight`` (optional, per element) share one shape; the result
    is a scalar, or that shape for ``reduction="none"``.  A weighted mean divides by
    the sum of the weights, as torch's does.  With two tensors and the default
    reduction this is the hand-written NumPy backward, bit-identical to
    ``nn.MSELoss`` in training; any other call derives its gradient automatically.
    Under autocast (CPU and CUDA) it runs in float32 and gives float32, as torch's
    does (the NumPy backward too, still bit-identical).

    >>> import torch
    >>> mse(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    tensor(2.)
    >>> mse(torch.tensor([1.0, 2.0]), torch.zeros(2), reduction="sum")
    tensor(5.)
    """
    if (
        reduction == "mean"
        and weight is None
        and isinstance(x, torch.Tensor)
        and isinstance(t, torch.Tensor)
    ):
        return _mse_numpy(x, t)
    _check_reduction("mse", reduction)
    weight = _as_weight("mse", "weight", weight, (x, t), _shape_of(x) or (), exact=True)
    return _MSE(x, t, weight, reduction=reduction, same=dict(x=x, t=t, weight=weight))


def _mae_each(x, t, weight, reduction):
    return _reduce(np.abs(x - t), weight, reduction, by_weight=True)


_MAE = _Reduced(_mae_each, "mae")


@_Public
@_autocast("mae")
def mae(x: Array, t: Array, *, reduction: str = "mean", weight: Array = None) -> torch.Tensor:
    """Mean absolute error (``torch.nn.functional.l1_loss``).

    Shapes and options as :func:`mse`: a weighted mean divides by the sum of the
    weights.  Under autocast (CPU and CUDA) it runs in float32, as torch's does.

    >>> import torch
    >>> mae(torch.tensor([1.0, -2.0]), torch.zeros(2))
    tensor(1.5000)
    """
    _check_reduction("mae", reduction)
    weight = _as_weight("mae", "weight", weight, (x, t), _shape_of(x) or (), exact=True)
    return _MAE(x, t, weight, reduction=reduction, same=dict(x=x, t=t, weight=weight))


def _huber_each(x, t, delta, weight, reduction):
    a = np.abs(x - t)
    per = np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta))  # both finite
    return _reduce(per, weight, reduction)


_HUBER = _Reduced(_huber_each, "huber")


@_Public
@_autocast("huber")
def huber(
    x: Array, t: Array, delta: float = 1.0, *, reduction: str = "mean", weight: Array = None
) -> torch.Tensor:
    """Huber loss (``torch.nn.functional.huber_loss``), ``delta > 0``.

    ``x``, ``t`` and ``weight`` (optional, per element) share one shape; a weighted
    mean is the mean of the weighted losses, as torch's is.  Under autocast (CPU and
    CUDA) it runs in float32, as torch's does.

    >>> import torch
    >>> huber(torch.tensor([0.0, 3.0]), torch.zeros(2))
    tensor(1.2500)
    """
    _check_reduction("huber", reduction)
    _positive("huber", "delta", delta)
    weight = _as_weight("huber", "weight", weight, (x, t), _shape_of(x) or (), exact=True)
    return _HUBER(x, t, delta, weight, reduction=reduction, same=dict(x=x, t=t, weight=weight))


def _smooth_l1_each(x, t, beta, reduction):
    a = np.abs(x - t)
    # beta = 0 is L1: the quadratic branch is never selected, but it is still
    # differentiated, so it divides by a safe beta (0 * inf would make the gradient nan)
    safe_beta = beta if beta > 0 else 1.0
    per = np.where(a < beta, 0.5 * a**2 / safe_beta, a - 0.5 * beta)
    return _reduce(per, None, reduction)


_SMOOTH_L1 = _Reduced(_smooth_l1_each, "smooth_l1")


@_Public
@_autocast("smooth_l1")
def smooth_l1(x: Array, t: Array, beta: float = 1.0, *, reduction: str = "mean") -> torch.Tensor:
    """Smooth L1 (``torch.nn.functional.smooth_l1_loss``); ``beta = 0`` is L1.

    ``x`` and ``t`` share one shape.  Under autocast (CPU and CUDA) it runs in
    float32, as torch's does.

    >>> import torch
    >>> smooth_l1(torch.tensor([0.5, 3.0]), torch.zeros(2))
    tensor(1.3125)
    """
    _check_reduction("smooth_l1", reduction)
    _positive("smooth_l1", "beta", beta, zero_ok=True)
    return _SMOOTH_L1(x, t, beta, reduction=reduction, same=dict(x=x, t=t))


@loss
def charbonnier(x, t, eps=1e-3):
    """Charbonnier (a smooth L1): mean of sqrt(d^2 + eps^2); ``x``, ``t`` of one shape.

    >>> import torch
    >>> x, t = torch.tensor([[0.0, 1.0, 3.0]]), torch.tensor([[0.0, 0.0, 1.0]])
    >>> charbonnier(x, t)
    tensor(1.0003)
    """
    return np.mean(np.sqrt((x - t) ** 2 + eps**2))


@loss
def log_cosh(x, t):
    """Mean of log(cosh(d)), in the overflow-free form |d| + log1p(exp(-2|d|)) - log 2;
    ``x``, ``t`` of one shape.

    >>> import torch
    >>> x, t = torch.tensor([[0.0, 1.0, 3.0]]), torch.tensor([[0.0, 0.0, 1.0]])
    >>> log_cosh(x, t)
    tensor(0.5863)
    """
    a = np.abs(x - t)
    return np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2.0))


@loss
def pinball(pred, t, q=0.5):
    """Pinball (quantile) loss for quantile ``q`` in (0, 1); ``pred``, ``t`` of one shape.

    >>> import torch
    >>> x, t = torch.tensor([[0.0, 1.0, 3.0]]), torch.tensor([[0.0, 0.0, 1.0]])
    >>> pinball(x, t, q=0.9)
    tensor(0.1000)
    """
    d = t - pred
    return np.mean(np.maximum(q * d, (q - 1) * d))


@loss
def dice(p, t, eps=1.0):
    """Soft Dice loss: 1 - (2 sum(p t) + eps) / (sum p + sum t + eps), over all of
    ``p`` and ``t`` (one shape).

    >>> import torch
    >>> dice(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0]))
    tensor(0.2500)
    """
    return 1 - (2 * np.sum(p * t) + eps) / (np.sum(p) + np.sum(t) + eps)


@loss
def total_variation(img):
    """Anisotropic total variation of images [N, C, H, W], averaged over the batch.

    >>> import torch
    >>> total_variation(torch.arange(4.0).reshape(1, 1, 2, 2))
    tensor(6.)
    """
    dh = np.abs(img[:, :, 1:, :] - img[:, :, :-1, :])
    dw = np.abs(img[:, :, :, 1:] - img[:, :, :, :-1])
    return (np.sum(dh) + np.sum(dw)) / img.shape[0]


def _gaussian_nll_impl(mu, t, var, full, eps, reduction):
    v = np.maximum(var, eps)
    per = 0.5 * (np.log(v) + (t - mu) ** 2 / v)
    if full:
        per = per + 0.5 * math.log(2 * math.pi)
    return _reduce(per, None, reduction)


_GAUSSIAN_NLL = _Reduced(_gaussian_nll_impl, "gaussian_nll")


def _torch_variance(var, mu):
    """``var`` in the forms torch 2.14's gaussian_nll_loss takes, as a tensor that
    broadcasts to ``mu`` (autograd sums the broadcast gradient back): a non-negative
    Python float; ``mu``'s shape; ``mu``'s shape without its last axis (one variance
    per row); or ``mu``'s rank with exactly one axis of size 1 where ``mu``'s is
    larger (mu (4, 3, 32, 32), var (4, 1, 32, 32)).  Anything else is refused, the
    forms listed; a negative entry too, as torch refuses it."""
    fname = "gaussian_nll"
    if isinstance(var, bool) or not isinstance(var, (int, float, torch.Tensor, np.ndarray, list)):
        raise TypeError(
            f"npgrad.losses.{fname}: argument 'var' must be a tensor, an array or a "
            f"float; got {type(var).__name__}"
        )
    if isinstance(var, (int, float)):
        if not var >= 0:
            raise ValueError(f"npgrad.losses.{fname}: argument 'var' is negative; got {var!r}")
        like = mu if isinstance(mu, torch.Tensor) else None
        if like is None:
            return np.full(np.shape(mu), float(var))
        return torch.full_like(like, float(var))
    values = var if isinstance(var, torch.Tensor) else np.asarray(var)
    with torch.no_grad():
        negative = _truth(~(values < 0)) is False  # NaN passes, as torch's test
    if negative:
        raise ValueError(
            f"npgrad.losses.{fname}: argument 'var' has negative entries (torch: "
            "var has negative entry/entries); variances are >= 0"
        )
    shape, vshape = _shape_of(mu), _shape_of(var)
    if shape is None or vshape == shape:
        return var
    tensor = isinstance(var, torch.Tensor)
    if vshape == shape[:-1]:  # one per row: torch unsqueezes it, nothing more checked
        var = var.unsqueeze(-1) if tensor else np.expand_dims(var, -1)
        return var.expand(shape) if tensor else np.broadcast_to(var, shape)
    mismatched = [(m, v) for m, v in zip(shape, vshape) if m != v]
    if len(vshape) == len(shape) and len(mismatched) == 1 and mismatched[0][1] == 1:
        return var.expand(shape) if tensor else np.broadcast_to(var, shape)
    one = f"{shape[:-1] + (1,)}" if shape else "()"
    raise ValueError(
        f"npgrad.losses.{fname}: argument 'var' has shape {vshape}; for 'mu' of shape "
        f"{shape} it must be {shape}, {shape[:-1]} (one variance per row), or {shape}"
        f" with exactly one axis of size 1 (such as {one}), or a float"
    )


@_Public
@_autocast("gaussian_nll", cpu=NATIVE)
def gaussian_nll(
    mu: Array,
    t: Array,
    var: Array,
    full: bool = False,
    eps: float = 1e-6,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    """Gaussian negative log-likelihood with a predicted variance
    (``torch.nn.functional.gaussian_nll_loss``); ``mu`` and ``t`` share one shape.
    ``var`` takes exactly torch's forms: that shape; that shape without its last axis
    (one variance per row); that shape with exactly one axis of size 1 where ``mu``'s
    is larger ([N, D, 1], or [N, 1, H, W] for ``mu`` [N, C, H, W]); or a Python
    float.  Any other shape is refused with the forms listed, and so is a negative
    variance, as torch refuses it.  Under CUDA autocast it runs in float32 (torch's
    ``log`` and ``pow`` are float32 ops there); under CPU autocast in the inputs'
    dtype, as torch's does.

    Below ``eps`` the variance is clamped like torch's, but the gradient is the true
    derivative of the clamped loss (zero); torch lets the gradient pass as if
    unclamped.

    >>> import torch
    >>> gaussian_nll(torch.zeros(2), torch.tensor([1.0, -1.0]), torch.ones(2))
    tensor(0.5000)
    """
    _check_reduction("gaussian_nll", reduction)
    var = _torch_variance(var, mu)
    return _GAUSSIAN_NLL(mu, t, var, bool(full), eps, reduction=reduction, same=dict(mu=mu, t=t))


@loss
def spectral(x, t):
    """Mean absolute difference of the rfft magnitudes along the last axis of ``x``
    and ``t`` (one shape, [..., L]).

    >>> import torch
    >>> spectral(torch.tensor([[1.0, 0.0, 0.0, 0.0]]), torch.zeros(1, 4))
    tensor(1.)
    """
    return np.mean(np.abs(np.abs(np.fft.rfft(x, axis=-1)) - np.abs(np.fft.rfft(t, axis=-1))))


@loss
def wasserstein_1d(x, t):
    """1-D Wasserstein distance between equal-size samples, the rows of ``x`` and
    ``t`` ([..., n], one shape): the mean distance of the sorted values.

    >>> import torch
    >>> wasserstein_1d(torch.tensor([[3.0, 1.0]]), torch.tensor([[1.0, 2.0]]))
    tensor(0.5000)
    """
    return np.mean(np.abs(np.sort(x, axis=-1) - np.sort(t, axis=-1)))
