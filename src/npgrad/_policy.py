"""What happens around the user's code, written once: running it (a note naming the
op on any error), keeping Dynamo out of it, the ``nonfinite`` policy, and a loss's
scalar check.

Everything here takes an *owner*: any object with ``name``, ``nonfinite``
(``"raise"``, ``"warn"`` or ``"ignore"``) and ``is_loss``, such as a ``Function``.
"""

from __future__ import annotations

import math
import string
import warnings
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch

from ._errors import NpgradError, user_stacklevel

NONFINITE = ("raise", "warn", "ignore")


class Owner(Protocol):
    name: str
    nonfinite: str
    is_loss: bool


class Plain:
    """An owner for code that belongs to no op (the NumPy-level API)."""

    __slots__ = ("name", "nonfinite", "is_loss")

    def __init__(self, name: str, nonfinite: str = "ignore", is_loss: bool = False) -> None:
        self.name, self.nonfinite, self.is_loss = name, nonfinite, is_loss


def run_user(owner: Owner, which: str, f: Callable, args: Any, kwargs: dict) -> Any:
    """``f(*args, **kwargs)``; an error that is not npgrad's gets a note naming the op."""
    try:
        return f(*args, **kwargs)
    except NpgradError:
        raise
    except Exception as e:
        e.add_note(f"(raised in the {which} of npgrad op '{owner.name}')")
        raise


def never_traced(*fns: Callable) -> None:
    """Have Dynamo run ``fns``, and every frame they call, as plain Python.

    They run the user's NumPy code on host arrays.  Where ``torch.compile`` falls
    back frame by frame (a ``torch.func`` transform around an opaque op, without
    ``fullgraph``), Dynamo would otherwise compile each of these frames on its own
    and follow the NumPy code with its own NumPy tracing, which fails on host arrays.
    Marking the code objects costs nothing in eager calls (a decorator's wrapper
    would cost a call each).  A torch without this hook keeps Dynamo's default.
    """
    try:
        from torch._C._dynamo.eval_frame import (
            _FrameAction,
            _FrameExecStrategy,
            set_code_exec_strategy,
        )

        skip = _FrameExecStrategy(_FrameAction.SKIP, _FrameAction.SKIP)
        for fn in fns:
            set_code_exec_strategy(fn.__code__, skip)
    except (ImportError, AttributeError, TypeError):
        # a private hook: another torch may lack it or spell it otherwise, and
        # importing npgrad must not fail over an optimisation of Dynamo's fallback
        return


def report_nonfinite(owner: Owner, what: str) -> None:
    """Apply the owner's ``nonfinite`` policy to a value known to hold nan or inf."""
    msg = f"npgrad op '{owner.name}': {what} is not finite (contains nan or inf)"
    if owner.nonfinite == "raise":
        raise FloatingPointError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=user_stacklevel())


# from this many elements a sum answers first (below, the elementwise test is as
# cheap as einsum's fixed cost)
SUM_TEST_SIZE = 1 << 14
_SUMMABLE = (np.dtype(np.float32), np.dtype(np.float64))
_LETTERS = string.ascii_letters  # einsum's subscripts, a letter a dimension (52 of 64)


def all_finite(value: np.ndarray | torch.Tensor) -> bool:
    """Whether every element is finite (a tensor's answer is read on the host).

    A large contiguous float32 or float64 array is first summed, with einsum (one
    vectorised pass on one thread, no temporary: about 2/3 of the time of
    ``np.isfinite(a).all()``, whose boolean array is written and read again; NumPy's
    own pairwise ``sum`` is slower than both, and torch's sum or a BLAS dot would
    wake threads that, on a busy machine, may wait a scheduler slice for a core).
    The test is exact one way: a nan or an infinity among the elements makes the sum
    nan or infinite (inf + -inf is nan, and no addition turns nan or inf back into a
    finite number), so a finite sum proves every element finite; signed zeros make
    no difference to it.  A nonfinite sum may also be an overflow of finite elements,
    so it is settled by the elementwise test.
    """
    if isinstance(value, torch.Tensor):
        if not (value.is_floating_point() or value.is_complex()):
            return True
        return math.isfinite(value.item()) if value.ndim == 0 else bool(value.isfinite().all())
    if value.dtype.kind not in "fc":
        return True
    if value.ndim == 0:
        return math.isfinite(value.item())
    if (
        value.size >= SUM_TEST_SIZE
        and value.dtype in _SUMMABLE
        and (value.flags.c_contiguous or value.flags.f_contiguous)  # strided: slow
        and value.ndim <= len(_LETTERS)
        and math.isfinite(np.einsum(_LETTERS[: value.ndim] + "->", value))
    ):
        return True
    return bool(np.isfinite(value).all())


def legacy_batched(t: Any) -> bool:
    """Whether ``t`` is a batch of torch's legacy vmap (autograd's engine under
    ``is_grads_batched=True``): the ``Batched`` dispatch key, which torch's Python
    enum does not name.  Its values cannot be read."""
    if not isinstance(t, torch.Tensor):
        return False
    keys = str(torch._C._dispatch_keys(t)).partition("(")[2].rstrip(")").split(", ")
    return "Batched" in keys


def check_finite(owner: Owner, value: np.ndarray | torch.Tensor, what: str) -> None:
    """The ``nonfinite`` policy for one output or gradient."""
    if owner.nonfinite != "ignore" and not all_finite(value):
        report_nonfinite(owner, what)


def require_scalar_loss(owner: Owner, shape: tuple) -> None:
    if owner.is_loss and len(shape) != 0:
        raise ValueError(
            f"npgrad.loss '{owner.name}': the loss must be a scalar, got output of shape "
            f"{tuple(shape)}; use npgrad.function for non-scalar results"
        )
