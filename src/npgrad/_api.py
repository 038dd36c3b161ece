"""The public constructors: ``function``, ``loss`` and the ``Loss`` module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ._op import Function


def function(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    mode: str | None = None,
    nonfinite: str = "warn",
    batched: bool = False,
) -> Any:
    """Turn a NumPy function into a differentiable function on torch tensors.

    Tensor arguments reach ``fn`` as read-only NumPy arrays (on the CPU, the tensors'
    own memory); everything else passes through.
    Register a backward with ``@f.backward``; without one, ``mode="auto"`` derives
    gradients and ``mode="numeric"`` uses central differences.  ``batched=True``
    declares that ``fn`` handles a leading batch dimension (used by ``vmap``).

    >>> import numpy as np, torch, npgrad
    >>> @npgrad.function
    ... def square(x):
    ...     return x * x
    >>> @square.backward
    ... def _(g, x, out):
    ...     return 2 * x * g
    >>> square(torch.tensor([1.0, 2.0]))
    tensor([1., 4.])
    """

    def wrap(f: Callable[..., Any]) -> Function:
        return Function(f, name=name, mode=mode, nonfinite=nonfinite, batched=batched)

    return wrap(fn) if fn is not None else wrap


def loss(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    mode: str | None = None,
    nonfinite: str = "warn",
    broadcast: bool = False,
    batched: bool = False,
) -> Any:
    """Like :func:`function` for scalar losses, with the checks a loss deserves.

    Floating inputs must share one shape (``broadcast=True`` allows broadcasting)
    and be non-empty; the result must be a scalar.

    >>> import numpy as np, torch, npgrad
    >>> mae = npgrad.loss(lambda x, t: np.mean(np.abs(x - t)), name="mae")
    >>> mae(torch.zeros(3), torch.zeros(4))
    Traceback (most recent call last):
    ...
    ValueError: npgrad.loss 'mae': argument 't' has shape (4,) but 'x' has shape (3,); ...
    """

    def wrap(f: Callable[..., Any]) -> Function:
        return Function(
            f,
            name=name,
            mode=mode,
            nonfinite=nonfinite,
            batched=batched,
            is_loss=True,
            broadcast=broadcast,
        )

    return wrap(fn) if fn is not None else wrap


class Loss(torch.nn.Module):
    """``nn.Module`` wrapper: ``criterion = npgrad.Loss(mse)``; it only calls ``fn``.

    Extra keyword arguments are passed to ``fn`` on every call.

    >>> import torch, npgrad
    >>> from npgrad.losses import mse
    >>> criterion = npgrad.Loss(mse)
    >>> criterion(torch.ones(4), torch.zeros(4))
    tensor(1.)
    """

    def __init__(self, fn: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__()
        self.fn = fn
        self.kwargs = kwargs

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **self.kwargs, **kwargs)

    def extra_repr(self) -> str:
        name = getattr(self.fn, "name", getattr(self.fn, "__name__", repr(self.fn)))
        extra = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"{name}{extra}"


def unbroadcast(grad: Any, shape: tuple[int, ...] | int) -> Any:
    """Sum a broadcast gradient back down to ``shape`` (a helper for backwards).

    Takes a NumPy array (a NumPy backward) or a torch tensor (a backward registered
    with ``torch_ops=True``, where the sum stays differentiable) and returns the same
    kind.

    >>> import numpy as np
    >>> unbroadcast(np.ones((4, 3)), (3,))
    array([4., 4., 4.])
    >>> unbroadcast(np.ones((4, 3)), (4, 1)).shape
    (4, 1)
    """
    import numpy as np

    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    is_tensor = isinstance(grad, torch.Tensor)
    if not is_tensor:
        grad = np.asarray(grad)
    got = tuple(grad.shape)
    if got == shape:
        return grad
    lead = len(got) - len(shape)
    # ``shape`` must broadcast to the gradient's: each of its sizes equal or 1
    if lead < 0 or any(n not in (1, m) for n, m in zip(shape, got[lead:])):
        raise ValueError(
            f"npgrad.unbroadcast: a gradient of shape {got} does not come from "
            f"broadcasting shape {shape}"
        )
    if is_tensor:
        return grad.sum_to_size(shape) if shape else grad.sum()
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and got[lead + i] != 1
    )
    return grad.sum(axis=axes).reshape(shape) if axes else grad.reshape(shape)
