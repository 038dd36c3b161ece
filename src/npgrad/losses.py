"""Losses written in plain NumPy.

``mse`` carries a hand-written NumPy backward in ATen's order of operations, which
makes it bit-identical to ``torch.nn.MSELoss`` in training (the default
``reduction="mean"`` with two tensors; other calls take an automatic variant).  ``bce``
has a backward written in torch ops, torch's own formula, so that saturated
probabilities (0 or 1) get torch's finite gradients.  Every other loss has no backward
at all: npgrad derives its gradient (``mode="auto"``), on the tensor's own device.
Each is checked against float64 finite differences and, where torch has the same
loss, against torch's own value and gradient.

Where torch has them, losses take torch's keyword options (``reduction=``,
``weight=``, ...), keyword-only here.  ``reduction="none"`` gives a non-scalar result,
which :func:`npgrad.loss` refuses, so each such loss is two npgrad ops over one NumPy
function: an ``npgrad.loss`` for the scalar reductions and an ``npgrad.function`` for
``"none"``; the public function only picks one.

>>> import torch
>>> from npgrad import losses
>>> losses.mse(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
tensor(2.)
>>> losses.huber(torch.tensor([0.0, 3.0]), torch.zeros(2))
tensor(1.2500)
>>> losses.huber(torch.tensor([0.0, 3.0]), torch.zeros(2), reduction="none")
tensor([0.0000, 2.5000])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ._api import function, loss, unbroadcast

# a tensor input, or for targets also a NumPy array (or list)
Array = Any
_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ argument checks
def _check_reduction(fname: str, reduction: Any, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(
            f"npgrad.losses.{fname}: reduction must be one of "
            f"{', '.join(map(repr, allowed))}; got {reduction!r}"
        )


def _shape_of(a: Any) -> tuple[int, ...] | None:
    if isinstance(a, (torch.Tensor, np.ndarray)):
        return tuple(a.shape)
    if isinstance(a, (list, tuple)):
        return np.shape(a)
    return None  # a Python number: a constant, as npgrad.loss treats it


def _same_shape(fname: str, **named: Any) -> None:
    """Array arguments of one shape.  npgrad.loss checks tensors itself; this is for the
    ``reduction="none"`` route (an npgrad.function, which checks no shapes)."""
    ref_name, ref = None, None
    for name, a in named.items():
        shape = _shape_of(a)
        if shape is None:
            continue
        if ref is None:
            ref_name, ref = name, shape
        elif shape != ref:
            raise ValueError(
                f"npgrad.losses.{fname}: argument '{name}' has shape {shape} but "
                f"'{ref_name}' has shape {ref}"
            )


def _first_tensor(*args: Any) -> torch.Tensor | None:
    return next((a for a in args if isinstance(a, torch.Tensor)), None)


def _as_weight(fname: str, name: str, w: Any, like: Any, shape: tuple, *, exact: bool) -> Any:
    """``w`` (None, a tensor, an array or a list) as a tensor of ``shape``.

    An array becomes a tensor of the input's dtype and device (a float64 array would
    otherwise promote a float32 loss).  ``exact``: torch requires the input's very
    shape (mse, l1, huber); otherwise ``w`` is broadcast to it (bce, per-class
    weights), a view whose gradient autograd sums back."""
    if w is None:
        return None
    ref = _first_tensor(like)
    if not isinstance(w, torch.Tensor):
        if ref is None:
            w = np.asarray(w)
        else:
            w = torch.as_tensor(np.asarray(w), dtype=ref.dtype, device=ref.device)
    got = tuple(w.shape)
    if got == tuple(shape):
        return w
    if not exact:
        try:
            return (
                torch.broadcast_to(w, shape)
                if isinstance(w, torch.Tensor)
                else (np.broadcast_to(w, shape))
            )
        except (RuntimeError, ValueError):
            pass
    how = "the same shape as" if exact else "a shape that broadcasts to"
    raise ValueError(
        f"npgrad.losses.{fname}: argument '{name}' has shape {got}; it needs {how} "
        f"the input's {tuple(shape)}"
    )


def _positive(fname: str, name: str, value: float, *, zero_ok: bool = False) -> None:
    if not (value >= 0 if zero_ok else value > 0):
        want = "non-negative" if zero_ok else "positive"
        raise ValueError(f"npgrad.losses.{fname}: {name} must be {want}; got {value!r}")


# ------------------------------------------------------------- one loss, two ops
class _Public:
    """A public loss function that, like npgrad's ops, stays itself as a class attribute
    (``criterion = losses.mse`` in a Module) instead of binding as a method; help(),
    ``inspect.signature``, pickling (by name) and copies see the function."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __get__(self, obj: Any, objtype: Any = None) -> _Public:
        return self

    def __reduce__(self) -> str:
        return self.__qualname__

    def __copy__(self) -> _Public:
        return self

    def __deepcopy__(self, memo: dict) -> _Public:
        return self

    def __repr__(self) -> str:
        return f"<npgrad.losses.{self.__name__}>"


class _Reduced:
    """A loss's two npgrad ops over one NumPy function ``impl(*args, reduction)``:
    ``npgrad.loss`` for the scalar reductions and ``npgrad.function`` for "none"."""

    def __init__(self, impl: Callable[..., Any], name: str, *, broadcast: bool = False) -> None:
        self.name = name
        self.scalar = loss(impl, name=name, broadcast=broadcast)
        self.each = function(impl, name=name)

    def backward(self, bwd: Callable[..., Any]) -> Callable[..., Any]:
        for op in (self.scalar, self.each):
            op.backward(bwd, torch_ops=True)
        return bwd

    def __call__(self, *args: Any, reduction: str, same: dict | None = None) -> Any:
        if reduction == "none":
            _same_shape(self.name, **(same or {}))
            return self.each(*args, reduction)
        return self.scalar(*args, reduction)


def _reduce(per: Any, weight: Any, reduction: str, *, by_weight: bool = False) -> Any:
    """Per-element losses, weighted, reduced.  ``by_weight``: a weighted mean divides
    by the sum of the weights (torch's mse and l1), else by the count (huber, bce)."""
    if weight is not None:
        per = per * weight
    if reduction == "none":
        return per
    if reduction == "sum":
        return np.sum(per)
    if by_weight and weight is not None:
        return np.sum(per) / np.sum(weight)
    return np.mean(per)


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
def mse(x: Array, t: Array, *, reduction: str = "mean", weight: Array = None) -> torch.Tensor:
    """Mean squared error (``torch.nn.functional.mse_loss``).

    ``x``, ``t`` and ``weight`` (optional, per element) share one shape; the result
    is a scalar, or that shape for ``reduction="none"``.  A weighted mean divides by
    the sum of the weights, as torch's does.  With two tensors and the default
    reduction this is the hand-written NumPy backward, bit-identical to
    ``nn.MSELoss`` in training; any other call derives its gradient automatically.

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


# -------------------------------------------------------- automatic gradients
def log_softmax(z, axis=-1):
    """log-softmax through a stable logsumexp (plain NumPy, usable inside losses).

    >>> import numpy as np
    >>> np.exp(log_softmax(np.array([0.0, 0.0]))).tolist()
    [0.5, 0.5]
    """
    m = np.max(z, axis=axis, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _mae_each(x, t, weight, reduction):
    return _reduce(np.abs(x - t), weight, reduction, by_weight=True)


_MAE = _Reduced(_mae_each, "mae")


@_Public
def mae(x: Array, t: Array, *, reduction: str = "mean", weight: Array = None) -> torch.Tensor:
    """Mean absolute error (``torch.nn.functional.l1_loss``).

    Shapes and options as :func:`mse`: a weighted mean divides by the sum of the
    weights.

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
def huber(
    x: Array, t: Array, delta: float = 1.0, *, reduction: str = "mean", weight: Array = None
) -> torch.Tensor:
    """Huber loss (``torch.nn.functional.huber_loss``), ``delta > 0``.

    ``x``, ``t`` and ``weight`` (optional, per element) share one shape; a weighted
    mean is the mean of the weighted losses, as torch's is.

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
def smooth_l1(x: Array, t: Array, beta: float = 1.0, *, reduction: str = "mean") -> torch.Tensor:
    """Smooth L1 (``torch.nn.functional.smooth_l1_loss``); ``beta = 0`` is L1.

    ``x`` and ``t`` share one shape.

    >>> import torch
    >>> smooth_l1(torch.tensor([0.5, 3.0]), torch.zeros(2))
    tensor(1.3125)
    """
    _check_reduction("smooth_l1", reduction)
    _positive("smooth_l1", "beta", beta, zero_ok=True)
    return _SMOOTH_L1(x, t, beta, reduction=reduction, same=dict(x=x, t=t))


def _log_clamped(a):
    # log(a), at least -100 as torch clamps it; the log runs on safe values, so a == 0
    # gives -100 without a divide-by-zero warning
    pos = a > 0
    return np.where(pos, np.maximum(np.log(np.where(pos, a, 1)), -100), -100)


def _bce_impl(p, t, weight, reduction):
    per = -(t * _log_clamped(p) + (1 - t) * _log_clamped(1 - p))
    return _reduce(per, weight, reduction)


_BCE = _Reduced(_bce_impl, "bce")
# ATen's EPSILON for the bce backward is a float32 1e-12, in float64 too
_BCE_EPS = float(np.float32(1e-12))


@_BCE.backward
def _bce_backward(g, p, t, weight, reduction, out, *, needs_input_grad=(True, True, True)):
    # torch's formula for p: (p - t) / max(p (1 - p), 1e-12), finite at p = 0 and 1,
    # where the derivative of the clamped logs would be 0 * inf.  For t and weight: the
    # derivative of the clamped loss itself (torch's t gradient is +-inf at p = 0, 1).
    inputs = (p, t, weight)
    flags = iter(needs_input_grad)  # one per tensor input
    wanted = [isinstance(a, torch.Tensor) and bool(next(flags)) for a in inputs]
    ref = _first_tensor(*inputs)
    # half precision in float32: 1e-12 is 0 in float16
    work = torch.float32 if ref.dtype in (torch.float16, torch.bfloat16) else ref.dtype

    def as_work(a):
        return None if a is None else torch.as_tensor(a, device=ref.device).to(work)

    pw, tw, ww, gw = as_work(p), as_work(t), as_work(weight), as_work(g)
    n = math.prod(torch.broadcast_shapes(pw.shape, tw.shape)) if reduction == "mean" else 1

    def finish(d, weighted=True):  # torch's order: times the weight, then over N
        d = d * ww if weighted and ww is not None else d
        return d / n if n != 1 else d

    grads: list[torch.Tensor | None] = [None, None, None]
    if wanted[0]:
        grads[0] = finish(gw * (pw - tw) / torch.clamp_min((1 - pw) * pw, _BCE_EPS))
    if wanted[1] or wanted[2]:
        log_p, log_1mp = torch.log(pw).clamp_min(-100), torch.log1p(-pw).clamp_min(-100)
        if wanted[1]:
            grads[1] = finish(gw * (log_1mp - log_p))
        if wanted[2]:
            grads[2] = finish(-gw * (tw * log_p + (1 - tw) * log_1mp), weighted=False)
    for i, (a, gr) in enumerate(zip(inputs, grads)):
        if gr is not None:
            grads[i] = unbroadcast(gr, tuple(a.shape)).to(a.dtype)
    return (*grads, None)


@_Public
def bce(p: Array, t: Array, *, weight: Array = None, reduction: str = "mean") -> torch.Tensor:
    """Binary cross-entropy on probabilities (``torch.nn.functional.binary_cross_entropy``).

    ``p`` and ``t`` share one shape; ``weight`` (optional) broadcasts to it.  Logs are
    clamped at -100 like torch's, so ``p`` may be exactly 0 or 1: the value and the
    gradient for ``p`` are torch's (finite) there.

    >>> import torch
    >>> bce(torch.tensor([0.5, 1.0]), torch.tensor([1.0, 1.0]))
    tensor(0.3466)
    """
    _check_reduction("bce", reduction)
    weight = _as_weight("bce", "weight", weight, (p, t), _shape_of(p) or (), exact=False)
    return _BCE(p, t, weight, reduction=reduction, same=dict(p=p, t=t))


def _bce_logits_impl(z, t, weight, pos_weight, reduction):
    softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + e^z), stable
    if pos_weight is None:
        per = softplus - z * t
    else:
        # -[pw t log(sigmoid z) + (1 - t) log(1 - sigmoid z)], where -log(sigmoid z) is
        # softplus(z) - z and -log(1 - sigmoid z) is softplus(z)
        per = pos_weight * t * (softplus - z) + (1 - t) * softplus
    return _reduce(per, weight, reduction)


_BCE_LOGITS = _Reduced(_bce_logits_impl, "bce_with_logits")


@_Public
def bce_with_logits(
    z: Array,
    t: Array,
    *,
    weight: Array = None,
    reduction: str = "mean",
    pos_weight: Array = None,
) -> torch.Tensor:
    """Binary cross-entropy on logits, in the stable form
    (``torch.nn.functional.binary_cross_entropy_with_logits``).

    ``z`` and ``t`` share one shape; ``weight`` and ``pos_weight`` (the weight of
    positive examples, typically one per class along the last axis) broadcast to it.

    >>> import torch
    >>> bce_with_logits(torch.zeros(3), torch.ones(3), pos_weight=torch.tensor([2.0]))
    tensor(1.3863)
    """
    _check_reduction("bce_with_logits", reduction)
    shape = _shape_of(z) or ()
    weight = _as_weight("bce_with_logits", "weight", weight, (z, t), shape, exact=False)
    pos_weight = _as_weight("bce_with_logits", "pos_weight", pos_weight, (z, t), shape, exact=False)
    return _BCE_LOGITS(z, t, weight, pos_weight, reduction=reduction, same=dict(z=z, t=t))


def _is_integer(a: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return not (a.is_floating_point() or a.is_complex())
    return np.asarray(a).dtype.kind in "iub"


def _cross_entropy_impl(logits, target, weight, ignore_index, label_smoothing, reduction):
    axis = 1 if logits.ndim > 1 else 0  # the class axis, as torch has it
    n_classes = logits.shape[axis]
    logp = np.moveaxis(log_softmax(logits, axis=axis), axis, -1)  # classes last
    if weight is None:
        weight = np.ones_like(logp[(0,) * (logp.ndim - 1)])  # (C,), the logits' dtype
    eps = label_smoothing
    if not np.issubdtype(target.dtype, np.integer):  # probabilities, the logits' shape
        prob = np.moveaxis(target, axis, -1)
        if eps:
            prob = prob * (1 - eps) + eps / n_classes
        return _reduce(-np.sum(logp * prob * weight, axis=-1), None, reduction)
    keep = target != ignore_index
    # an ignored label reads class 0 (any valid index), then weighs nothing
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(logp, safe[..., None], axis=-1)[..., 0]
    w_y = np.where(keep, weight[safe], 0)
    per = -w_y * picked
    if eps:
        smooth = np.where(keep, -np.sum(logp * weight, axis=-1), 0)
        per = (1 - eps) * per + (eps / n_classes) * smooth
    if reduction == "mean":  # torch: divided by the summed weight of the targets counted
        return np.sum(per) / np.sum(w_y)
    return _reduce(per, None, reduction)


_CROSS_ENTROPY = _Reduced(_cross_entropy_impl, "cross_entropy", broadcast=True)


@_Public
def cross_entropy(
    logits: Array,
    target: Array,
    *,
    weight: Array = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Cross-entropy on logits (``torch.nn.functional.cross_entropy``).

    ``logits``: [N, C], [N, C, d1, ...] or [C]; ``target``: class indices of the
    logits' shape without the class axis ([N], [N, d1, ...] or []), or probabilities
    of the logits' shape.  ``weight``: [C] per-class weights (a tensor or an array);
    indices equal to ``ignore_index`` count for nothing, and the mean divides by the
    summed weight of the targets counted, as torch's does.  ``label_smoothing`` in
    [0, 1] mixes the targets with the uniform distribution, as torch does.

    >>> import torch
    >>> cross_entropy(torch.zeros(2, 4), torch.tensor([1, -100]))
    tensor(1.3863)
    """
    fname = "cross_entropy"
    _check_reduction(fname, reduction)
    shape = _shape_of(logits)
    if not shape:
        raise ValueError(
            f"npgrad.losses.{fname}: argument 'logits' needs a class axis ([N, C], "
            f"[N, C, d1, ...] or [C]); got shape {shape}"
        )
    axis = 1 if len(shape) > 1 else 0
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"npgrad.losses.{fname}: label_smoothing must be in [0, 1]; got {label_smoothing!r}"
        )
    if not isinstance(ignore_index, int) or isinstance(ignore_index, bool):
        raise TypeError(f"npgrad.losses.{fname}: ignore_index must be an int; got {ignore_index!r}")
    indices = _is_integer(target)
    want = shape[:axis] + shape[axis + 1 :] if indices else shape
    got = _shape_of(target)
    if got != want:
        what = "class indices" if indices else "probabilities"
        raise ValueError(
            f"npgrad.losses.{fname}: argument 'target' ({what}) has shape {got}; "
            f"logits of shape {shape} need {want}"
        )
    weight = _as_weight(fname, "weight", weight, logits, (shape[axis],), exact=True)
    return _CROSS_ENTROPY(
        logits, target, weight, ignore_index, label_smoothing, reduction=reduction
    )


def _kl_div_impl(logq, p, log_target, reduction):
    if log_target:
        per = np.exp(p) * (p - logq)
    else:
        # p log p is 0 at p = 0; the log runs on a safe value there, so that the
        # unselected branch is finite and its gradient is not 0 * inf
        positive = p > 0
        per = np.where(positive, p * np.log(np.where(positive, p, 1)), 0) - p * logq
    if reduction == "batchmean":
        return np.sum(per) / (logq.shape[0] if logq.ndim else 1)
    return _reduce(per, None, reduction)


_KL_DIV = _Reduced(_kl_div_impl, "kl_div")


@_Public
def kl_div(
    logq: Array, p: Array, *, reduction: str = "batchmean", log_target: bool = False
) -> torch.Tensor:
    """KL(p || q) from log-probabilities ``logq`` and probabilities ``p`` (or
    log-probabilities with ``log_target=True``), both [N, ...]
    (``torch.nn.functional.kl_div``).

    The default reduction is ``"batchmean"`` (the sum over all, divided by N: the true
    KL divergence per sample), not torch's ``"mean"``, which divides by every element.

    >>> import torch
    >>> logq = torch.log(torch.tensor([[0.5, 0.5]]))
    >>> kl_div(logq, torch.tensor([[1.0, 0.0]]))
    tensor(0.6931)
    """
    _check_reduction("kl_div", reduction, ("batchmean", *_REDUCTIONS))
    return _KL_DIV(logq, p, bool(log_target), reduction=reduction, same=dict(logq=logq, p=p))


def _cosine_embedding_impl(x1, x2, y, margin, reduction):
    eps = 1e-12
    cos = np.sum(x1 * x2, axis=1) / np.sqrt(
        (np.sum(x1 * x1, axis=1) + eps) * (np.sum(x2 * x2, axis=1) + eps)
    )
    per = np.where(y == 1, 1 - cos, np.maximum(0, cos - margin))  # both finite
    return _reduce(per, None, reduction)


_COSINE_EMBEDDING = _Reduced(_cosine_embedding_impl, "cosine_embedding", broadcast=True)


@_Public
def cosine_embedding(
    x1: Array, x2: Array, y: Array, margin: float = 0.0, *, reduction: str = "mean"
) -> torch.Tensor:
    """``torch.nn.functional.cosine_embedding_loss``: rows of ``x1``, ``x2`` [N, D],
    ``y`` [N] is +1 (similar) or -1; ``reduction="none"`` gives [N].

    >>> import torch
    >>> cosine_embedding(torch.eye(2), torch.eye(2), torch.tensor([1.0, -1.0]))
    tensor(0.5000)
    """
    _check_reduction("cosine_embedding", reduction)
    _same_shape("cosine_embedding", x1=x1, x2=x2)  # y has another shape: broadcast=True
    return _COSINE_EMBEDDING(x1, x2, y, margin, reduction=reduction)


def _focal_impl(p, y, gamma, reduction):
    pt = np.where(y == 1, p, 1 - p)
    m = 1 - pt
    # m**gamma at m = 0 (a certain, right prediction): the power's derivative there
    # (inf for gamma < 1) times log(1) = 0 is nan; the power runs on a safe value and
    # the loss's true derivative there, 0, comes out
    safe = np.where(m > 0, m, 1)
    modulation = np.where(m > 0, safe**gamma, 0.0**gamma)
    per = -modulation * np.log(np.clip(pt, 1e-7, 1))
    return _reduce(per, None, reduction)


_FOCAL = _Reduced(_focal_impl, "focal")


@_Public
def focal(p: Array, y: Array, gamma: float = 2.0, *, reduction: str = "mean") -> torch.Tensor:
    """Focal loss on probabilities ``p`` with binary labels ``y`` of ``p``'s shape:
    -(1 - p_t)^gamma log(p_t), ``gamma >= 0``.

    >>> import torch
    >>> focal(torch.tensor([0.5, 1.0]), torch.tensor([1, 1]), gamma=1.0)
    tensor(0.1733)
    """
    _check_reduction("focal", reduction)
    _positive("focal", "gamma", gamma, zero_ok=True)
    return _FOCAL(p, y, gamma, reduction=reduction, same=dict(p=p, y=y))


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


@_Public
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
    (``torch.nn.functional.gaussian_nll_loss``); ``mu``, ``t`` and ``var`` share one
    shape (torch's broadcast forms of ``var`` are not accepted).

    Below ``eps`` the variance is clamped like torch's, but the gradient is the true
    derivative of the clamped loss (zero); torch lets the gradient pass as if
    unclamped.

    >>> import torch
    >>> gaussian_nll(torch.zeros(2), torch.tensor([1.0, -1.0]), torch.ones(2))
    tensor(0.5000)
    """
    _check_reduction("gaussian_nll", reduction)
    return _GAUSSIAN_NLL(
        mu, t, var, bool(full), eps, reduction=reduction, same=dict(mu=mu, t=t, var=var)
    )


@loss
def info_nce(a, b, temperature=0.1):
    """InfoNCE on embeddings ``a``, ``b`` [N, D]: row i of ``a`` should match row i of
    ``b`` among all rows of ``b`` (cosine similarities over ``temperature``).

    >>> import torch
    >>> info_nce(torch.eye(2), torch.eye(2))
    tensor(4.5418e-05)
    """
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    logits = an @ bn.T / temperature
    return -np.mean(np.diagonal(log_softmax(logits, axis=1)))


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
