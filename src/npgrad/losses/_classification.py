"""Classification, probabilistic and embedding losses: bce, cross-entropy, KL, ..."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .._function import loss, unbroadcast
from ._common import (
    _REDUCTIONS,
    BANNED,
    Array,
    _all_within,
    _as_weight,
    _autocast,
    _check_reduction,
    _first_tensor,
    _only_values,
    _positive,
    _Public,
    _reduce,
    _Reduced,
    _same_shape,
    _shape_of,
    _truth,
)


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
@_autocast("bce", cuda=BANNED)
def bce(p: Array, t: Array, *, weight: Array = None, reduction: str = "mean") -> torch.Tensor:
    """Binary cross-entropy on probabilities (``torch.nn.functional.binary_cross_entropy``).

    ``p`` and ``t`` share one shape; ``weight`` (optional) broadcasts to it.  Logs are
    clamped at -100 like torch's, so ``p`` may be exactly 0 or 1: the value and the
    gradient for ``p`` are torch's (finite) there.  As in torch, ``p`` and ``t`` must
    lie in [0, 1] (a ValueError naming the argument otherwise, NaN included).  Under
    CPU autocast it runs in float32 (torch's policy); under CUDA autocast it is
    refused, as torch refuses ``binary_cross_entropy`` there.

    >>> import torch
    >>> bce(torch.tensor([0.5, 1.0]), torch.tensor([1.0, 1.0]))
    tensor(0.3466)
    """
    _check_reduction("bce", reduction)
    _all_within("bce", "p", p, 0, 1, "all elements of input should be between 0 and 1")
    _all_within("bce", "t", t, 0, 1, "all elements of target should be between 0 and 1")
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
@_autocast("bce_with_logits")
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
    Under autocast (CPU and CUDA) it runs in float32, as torch's does.

    >>> import torch
    >>> bce_with_logits(torch.zeros(3), torch.ones(3), pos_weight=torch.tensor([2.0]))
    tensor(1.3863)
    """
    _check_reduction("bce_with_logits", reduction)
    shape = _shape_of(z) or ()
    weight = _as_weight("bce_with_logits", "weight", weight, (z, t), shape, exact=False)
    pos_weight = _as_weight("bce_with_logits", "pos_weight", pos_weight, (z, t), shape, exact=False)
    return _BCE_LOGITS(z, t, weight, pos_weight, reduction=reduction, same=dict(z=z, t=t))


# torch's class-index dtypes ("expected target dtype to be Long or Byte")
_INDEX_DTYPES = (torch.int64, torch.uint8)


def _target_kind(fname: str, target: Any) -> str:
    """ "indices" (int64 or uint8, as torch takes them) or "probabilities" (floating);
    any other dtype is refused by name."""
    if isinstance(target, torch.Tensor):
        dtype, floating = target.dtype, target.is_floating_point()
        integer = dtype in _INDEX_DTYPES
    else:
        arr = np.asarray(target)
        dtype, floating = arr.dtype, arr.dtype.kind == "f"
        integer = arr.dtype in (np.dtype(np.int64), np.dtype(np.uint8))
    if floating:
        return "probabilities"
    if integer:
        return "indices"
    raise TypeError(
        f"npgrad.losses.{fname}: argument 'target' has dtype {dtype}; class indices "
        "must be int64 or uint8 (as torch's), probabilities floating"
    )


def _check_labels(fname: str, target: Any, n_classes: int, ignore_index: int) -> Any:
    """Class indices as int64, each in [0, C) or ``ignore_index`` (torch's IndexError
    otherwise, here naming the argument and the first bad label)."""
    if isinstance(target, torch.Tensor):
        target = target.detach().long()
        bad = (target < 0) | (target >= n_classes)
        bad &= target != ignore_index
        first = target[bad][0].item() if _truth(~bad) is False else None
    else:
        target = np.asarray(target).astype(np.int64)
        bad = ((target < 0) | (target >= n_classes)) & (target != ignore_index)
        first = target[bad][0].item() if bad.any() else None
    if first is not None:
        raise IndexError(
            f"npgrad.losses.{fname}: argument 'target' holds class index {first}, out of "
            f"bounds for {n_classes} classes (labels lie in [0, {n_classes}) or equal "
            f"ignore_index={ignore_index})"
        )
    return target


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
@_autocast("cross_entropy")
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

    ``logits``: [N, C], [N, C, d1, ...] or [C]; ``target``: class indices (int64 or
    uint8, the dtypes torch takes) of the logits' shape without the class axis ([N],
    [N, d1, ...] or []), each in [0, C) or equal to ``ignore_index`` (an IndexError
    naming the label otherwise, as torch raises), or probabilities (a floating
    dtype) of the logits' shape.  ``weight``: [C] per-class weights (a tensor or an array);
    indices equal to ``ignore_index`` count for nothing, and the mean divides by the
    summed weight of the targets counted, as torch's does.  ``label_smoothing`` in
    [0, 1] mixes the targets with the uniform distribution, as torch does.  Under
    autocast (CPU and CUDA) it runs in float32 and gives float32, as torch's does.

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
    indices = _target_kind(fname, target) == "indices"
    per_sample = shape[:axis] + shape[axis + 1 :]
    want = per_sample if indices else shape
    got = _shape_of(target)
    if got != want:
        what = "class indices" if indices else "probabilities"
        raise ValueError(
            f"npgrad.losses.{fname}: argument 'target' ({what}, from its dtype) has "
            f"shape {got}; logits of shape {shape} need {want}.  Float targets are "
            f"read as class probabilities of the logits' shape {shape}, integer ones "
            f"(int64, uint8) as class indices of shape {per_sample}"
        )
    if indices:
        target = _check_labels(fname, target, shape[axis], ignore_index)
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
@_autocast("kl_div")
def kl_div(
    logq: Array, p: Array, *, reduction: str = "batchmean", log_target: bool = False
) -> torch.Tensor:
    """KL(p || q) from log-probabilities ``logq`` and probabilities ``p`` (or
    log-probabilities with ``log_target=True``), both [N, ...]
    (``torch.nn.functional.kl_div``).

    The default reduction is ``"batchmean"`` (the sum over all, divided by N: the true
    KL divergence per sample), not torch's ``"mean"``, which divides by every element.
    Under autocast (CPU and CUDA) it runs in float32, as torch's does.

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
@_autocast("cosine_embedding")
def cosine_embedding(
    x1: Array, x2: Array, y: Array, margin: float = 0.0, *, reduction: str = "mean"
) -> torch.Tensor:
    """``torch.nn.functional.cosine_embedding_loss``: rows of ``x1``, ``x2`` [N, D],
    ``y`` [N] is +1 (similar) or -1; ``reduction="none"`` gives [N].  Any other
    label is refused by name (torch counts it as 0 silently).  Under autocast it
    runs in float32, as torch's does.

    >>> import torch
    >>> cosine_embedding(torch.eye(2), torch.eye(2), torch.tensor([1.0, -1.0]))
    tensor(0.5000)
    """
    _check_reduction("cosine_embedding", reduction)
    for name, a in (("x1", x1), ("x2", x2)):
        shape = _shape_of(a)
        if shape is not None and len(shape) != 2:
            raise ValueError(
                f"npgrad.losses.cosine_embedding: argument '{name}' must be [N, D] rows; "
                f"got shape {shape} (one pair: add a batch axis, x[None])"
            )
    _only_values("cosine_embedding", "y", y, (1, -1), "labels")
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

    ``y`` holds 0 or 1 (any dtype; soft labels such as 0.7 are refused by name, as is
    a 2: p_t picks ``p`` or ``1 - p``, which has no meaning between the two), and ``p``
    lies in [0, 1].  It has no torch counterpart, so no autocast policy: it runs in
    the inputs' dtype, each traced torch op under autocast's own rule.

    >>> import torch
    >>> focal(torch.tensor([0.5, 1.0]), torch.tensor([1, 1]), gamma=1.0)
    tensor(0.1733)
    """
    _check_reduction("focal", reduction)
    _positive("focal", "gamma", gamma, zero_ok=True)
    _all_within("focal", "p", p, 0, 1, "probabilities, as bce's input")
    _only_values("focal", "y", y, (0, 1), "binary labels")
    return _FOCAL(p, y, gamma, reduction=reduction, same=dict(p=p, y=y))


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
