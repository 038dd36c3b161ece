"""npgrad: write a loss in NumPy, train PyTorch models with it.

>>> import numpy as np, torch, npgrad
>>> @npgrad.loss
... def mse(x, t):
...     return np.mean((x - t) ** 2)
>>> @mse.backward
... def _(g, x, t, out):
...     d = np.float32(2 / x.size) * (x - t) * g
...     return d, -d
>>> x = torch.ones(2, 3, requires_grad=True)
>>> mse(x, torch.zeros(2, 3)).backward()
>>> x.grad[0]
tensor([0.3333, 0.3333, 0.3333])
"""

from . import losses as losses  # light (NumPy only): npgrad.losses works after import npgrad
from ._api import Loss, function, loss, unbroadcast
from ._check import CheckReport, check
from ._errors import BackwardError, GradcheckError, NpgradError, TraceError
from ._numpy_api import grad, hessian, hvp, jacobian, value_and_grad, vjp  # wt-numpy: for testing
from ._op import Function

__version__ = "0.1.0"

__all__ = [
    "BackwardError",
    "CheckReport",
    "Function",
    "GradcheckError",
    "Loss",
    "NpgradError",
    "TraceError",
    "check",
    "function",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "loss",
    "unbroadcast",
    "value_and_grad",
    "vjp",
]
