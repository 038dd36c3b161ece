"""Exception types, and the helpers that word npgrad's messages and place its warnings."""

from __future__ import annotations

import sys


class NpgradError(Exception):
    """Base class of npgrad's own errors.

    >>> import numpy as np, torch, npgrad
    >>> f = npgrad.function(lambda x: x, name="ident", mode="numpy")
    >>> f(torch.ones(1))
    Traceback (most recent call last):
    ...
    npgrad._errors.NpgradError: npgrad op 'ident': mode='numpy' needs a backward; ...
    """


class BackwardError(NpgradError, ValueError):
    """A registered backward returned something that cannot be a gradient.

    >>> import numpy as np, torch, npgrad
    >>> f = npgrad.function(lambda x: 2 * x, name="double")
    >>> _ = f.backward(lambda g, x, out: (2 * g)[:1])
    >>> f(torch.ones(3, requires_grad=True)).sum().backward()
    Traceback (most recent call last):
    ...
    npgrad._errors.BackwardError: npgrad op 'double': the gradient for 'x' has shape (1,), ...
    """


class GradcheckError(NpgradError, AssertionError):
    """A backward disagrees with finite differences (raised by :func:`npgrad.check`).

    >>> import numpy as np, torch, npgrad
    >>> f = npgrad.function(lambda x: x**3, name="cube")
    >>> _ = f.backward(lambda g, x, out: 2 * x**2 * g)
    >>> npgrad.check(f, torch.Size([2]))
    Traceback (most recent call last):
    ...
    npgrad._errors.GradcheckError: gradient check of cube (atol=1e-06, rtol=1e-05)
    ...
    """


class TraceError(NpgradError, TypeError):
    """Automatic mode met an operation whose gradient it cannot follow.

    >>> import numpy as np, torch, npgrad
    >>> f = npgrad.function(lambda x: np.asarray(x).sum(), name="leak")
    >>> f(torch.ones(2))
    Traceback (most recent call last):
    ...
    npgrad._errors.TraceError: npgrad op 'leak' (mode='auto'): converting a traced array ...
    """


class TraceAttributeError(TraceError, AttributeError):
    """An ndarray attribute a traced array does not have (``x.strides``): an
    AttributeError too, so that ``hasattr`` and ``getattr(x, name, default)`` work."""


def prefix(name: str, mode: str | None = None) -> str:
    """The start of every message about one op: ``npgrad op 'name' (mode='auto')``.

    >>> prefix("mse", "auto")
    "npgrad op 'mse' (mode='auto')"
    """
    return f"npgrad op '{name}'" + (f" (mode={mode!r})" if mode else "")


def describe(value: object) -> str:
    """A short description of a received value for error messages."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    return f"{type(value).__name__} {value!r:.60}"


class JitFallbackWarning(RuntimeWarning):
    """A transform made with ``jit=True`` could not compile its function for some
    input signature and runs it eagerly there (shown once per transform)."""


def user_stacklevel() -> int:
    """``warnings.warn``'s stacklevel for the first frame outside npgrad's private
    modules and torch: the user's line, however deep the call came (autograd's
    engine included), so that a filter on the user's module catches it."""
    # level 1 is the function that calls warnings.warn (our caller)
    frame, level = sys._getframe(1), 1
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not (name.startswith(("npgrad._", "torch.")) or name == "torch"):
            return level
        frame, level = frame.f_back, level + 1
    return 1
