"""``nn.Module`` forms of npgrad's losses: each only calls its function.

>>> import torch
>>> from npgrad import nn
>>> nn.HuberLoss(delta=0.5)(torch.tensor([0.0, 3.0]), torch.zeros(2))
tensor(0.6875)
>>> criterion = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0]), label_smoothing=0.1)
>>> sorted(criterion.state_dict())
['weight']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from . import losses


class Loss(torch.nn.Module):
    """``nn.Module`` wrapper: ``criterion = npgrad.nn.Loss(fn, **options)``; it only
    calls ``fn(*inputs, **options)``.

    Tensor options (a ``weight=``) are registered as buffers, so they follow
    ``.to()``/``.double()`` and appear in ``state_dict``; the others are kept as given.

    >>> import torch
    >>> from npgrad.losses import mse
    >>> criterion = Loss(mse, weight=torch.tensor([1.0, 3.0]))
    >>> criterion(torch.ones(2), torch.zeros(2))
    tensor(1.)
    >>> criterion.double().weight.dtype
    torch.float64
    """

    def __init__(self, fn: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__()
        self.fn = fn
        self.kwargs = {k: v for k, v in kwargs.items() if not isinstance(v, torch.Tensor)}
        self._tensor_kwargs = [k for k, v in kwargs.items() if isinstance(v, torch.Tensor)]
        for k in self._tensor_kwargs:
            self.register_buffer(k, kwargs[k])

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        options = {k: getattr(self, k) for k in self._tensor_kwargs}
        return self.fn(*args, **self.kwargs, **options, **kwargs)

    def extra_repr(self) -> str:
        name = getattr(self.fn, "name", getattr(self.fn, "__name__", repr(self.fn)))
        extra = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"{name}{extra}"


# class name -> (the loss, how many leading parameters are inputs, not options)
_TABLE: dict[str, tuple[Callable[..., Any], int]] = {
    "MSELoss": (losses.mse, 2),
    "L1Loss": (losses.mae, 2),
    "HuberLoss": (losses.huber, 2),
    "SmoothL1Loss": (losses.smooth_l1, 2),
    "BCELoss": (losses.bce, 2),
    "BCEWithLogitsLoss": (losses.bce_with_logits, 2),
    "CrossEntropyLoss": (losses.cross_entropy, 2),
    "KLDivLoss": (losses.kl_div, 2),
    "CosineEmbeddingLoss": (losses.cosine_embedding, 3),
    "FocalLoss": (losses.focal, 2),
    "CharbonnierLoss": (losses.charbonnier, 2),
    "LogCoshLoss": (losses.log_cosh, 2),
    "PinballLoss": (losses.pinball, 2),
    "DiceLoss": (losses.dice, 2),
    "TotalVariationLoss": (losses.total_variation, 1),
    "GaussianNLLLoss": (losses.gaussian_nll, 3),
    "InfoNCELoss": (losses.info_nce, 2),
    "SpectralLoss": (losses.spectral, 2),
    "Wasserstein1DLoss": (losses.wasserstein_1d, 2),
}


def _loss_class(class_name: str, fn: Callable[..., Any], n_inputs: int) -> type[Loss]:
    params = list(inspect.signature(fn).parameters.values())
    options = [p.replace(kind=p.KEYWORD_ONLY) for p in params[n_inputs:]]
    allowed = {p.name for p in options}
    name = fn.__name__

    def __init__(self: Loss, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(
                f"npgrad.nn.{class_name}: unknown option {unknown[0]!r}; "
                f"{name} takes {', '.join(sorted(allowed)) or 'none'}"
            )
        Loss.__init__(self, fn, **kwargs)

    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature([self_param, *options])  # type: ignore[attr-defined]
    inputs = ", ".join(p.name for p in params[:n_inputs])
    doc = (
        f"Module form of :func:`npgrad.losses.{name}`: ``{class_name}(**options)({inputs})``"
        f" is ``{name}({inputs}, **options)``; see that function for shapes and options."
    )
    return type(class_name, (Loss,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


for _class_name, (_fn, _n) in _TABLE.items():
    globals()[_class_name] = _loss_class(_class_name, _fn, _n)
del _class_name, _fn, _n

__all__ = ["Loss", *_TABLE]
