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

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING

__version__ = "0.2.0.dev0"

# The public API, name -> the private module that defines it. Loaded on first use
# (PEP 562), so that `npgrad --help` and argument errors answer without importing
# torch. The registry's rows load on the first trace (see _modes.auto); the names
# that read or extend the registry load them first.
_EXPORTS = {
    "BackwardError": "._errors",
    "CheckReport": "._check",
    "Function": "._function",
    "GradcheckError": "._errors",
    "Loss": ".nn",
    "JitFallbackWarning": "._errors",
    "NpgradError": "._errors",
    "TraceError": "._errors",
    "check": "._check",
    "function": "._function",
    "grad": "._numpy_api",
    "hessian": "._numpy_api",
    "hvp": "._numpy_api",
    "jacobian": "._numpy_api",
    "value_and_grad": "._numpy_api",
    "vjp": "._numpy_api",
    "implements": "._trace",
    "loss": "._function",
    "supported": "._trace",
    "unbroadcast": "._function",
}
_SUBMODULES = ("losses", "nn")
_NEED_ROWS = frozenset({"implements", "supported"})

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from . import losses as losses
    from . import nn as nn
    from ._check import CheckReport as CheckReport
    from ._check import check as check
    from ._errors import BackwardError as BackwardError
    from ._errors import GradcheckError as GradcheckError
    from ._errors import JitFallbackWarning as JitFallbackWarning
    from ._errors import NpgradError as NpgradError
    from ._errors import TraceError as TraceError
    from ._function import Function as Function
    from ._function import function as function
    from ._function import loss as loss
    from ._function import unbroadcast as unbroadcast
    from ._numpy_api import grad as grad
    from ._numpy_api import hessian as hessian
    from ._numpy_api import hvp as hvp
    from ._numpy_api import jacobian as jacobian
    from ._numpy_api import value_and_grad as value_and_grad
    from ._numpy_api import vjp as vjp
    from ._trace import implements as implements
    from ._trace import supported as supported
    from .nn import Loss as Loss


def __getattr__(name: str):
    if name in _EXPORTS or name in _SUBMODULES:
        if name in _NEED_ROWS:
            _importlib.import_module("._mappings", __name__)
        if name in _SUBMODULES:
            value = _importlib.import_module(f".{name}", __name__)
        else:
            value = getattr(_importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'npgrad' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})
