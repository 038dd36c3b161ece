"""Per-thread trace state, and the errors and constants every layer above needs."""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np
import torch

from .._dtypes import NARROW, NO_FLOAT64
from .._errors import TraceError, prefix


class _State(threading.local):
    """Per thread (``nn.DataParallel`` traces on several devices at once): the ops
    being traced, for error messages, and the device of the innermost one, so NumPy
    constants meet the tensors where they are."""

    def __init__(self) -> None:
        self.ops: list[str] = []
        self.fns: list = []  # the user functions being traced (to name their arguments)
        self.device = torch.device("cpu")
        # id(NumPy array) -> tensor: arrays a compiled trace reads from outside its
        # arguments (a closure, a global), lifted to graph inputs (see ``lifting``)
        self.lifted: dict[int, torch.Tensor] = {}


STATE = _State()


class lifting:
    """While a compiled trace runs: each captured NumPy array in ``pairs`` (array,
    tensor) becomes its tensor, a graph input read at run time, instead of a copy
    frozen into the graph as a constant."""

    def __init__(self, pairs: Any) -> None:
        self.mapping = {id(a): t for a, t in pairs}

    def __enter__(self) -> None:
        self.saved, STATE.lifted = STATE.lifted, self.mapping

    def __exit__(self, *exc: Any) -> None:
        STATE.lifted = self.saved


_PROXY = getattr(getattr(torch._C, "_TorchDispatchModeKey", None), "PROXY", None)


def abstract() -> bool:
    """Values cannot be read: under torch.func, or while make_fx traces (linearize)."""
    return torch._C._are_functorch_transforms_active() or (
        _PROXY is not None and torch._C._get_dispatch_mode(_PROXY) is not None
    )


def values_hidden() -> bool:
    """Whether a tensor's values cannot be read on the host now: under torch.func or
    make_fx (:func:`abstract`), or while torch.compile traces (fake tensors: reading
    one breaks the graph or fails).  Rows whose result's shape or validity depends on
    the values refuse or skip a check there."""
    return abstract() or torch.compiler.is_compiling()


def op_name() -> str:
    return STATE.ops[-1] if STATE.ops else "?"


def here() -> str:
    """The message prefix for the op being traced."""
    return prefix(op_name(), "auto")


def numpy_conversion(where: str) -> TraceError:
    """The refusal of ``np.asarray`` of a traced float array inside ``where`` (and of
    ``np.array([a, b])`` of traced values, which converts them one by one)."""
    tip = (
        "; np.asarray(x) of one: use x; np.array([a, b]) of several: np.stack; a list "
        "given to a function that reads a tuple of arrays, np.lexsort([a, b]): a tuple"
    )
    return fail(f"converting a traced array to a NumPy array (in {where}"
                f"{'' if where.startswith('scipy.') else tip})")  # fmt: skip


# advice a layer above adds to fail()'s message (_trace._scipy: a SciPy module
# imported while the trace ran, followed from the next call)
HINTS: list = []


def fail(what: str) -> TraceError:
    """A TraceError for something that would drop the gradient."""
    return TraceError(
        f"{here()}: {what} would drop the gradient. Keep the computation in NumPy "
        "functions on the array, or register a backward with @op.backward, or use "
        "mode='numeric'." + "".join(hint(what) for hint in HINTS)
    )


def unsupported(what: str) -> TraceError:
    return TraceError(
        f"{here()}: {what} is not supported; register a backward, or use mode='numeric'"
    )


def caller() -> str:
    """The innermost caller outside npgrad and NumPy, for error messages."""
    f = sys._getframe(2)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if mod.startswith("scipy._lib"):
            # SciPy's decorators (scipy.linalg's batching wrapper) convert the
            # arguments before the function they wrap starts: name that function
            wrapped = _scipy_function_in(f)
            if wrapped:
                return wrapped
        elif not mod.startswith(("numpy", "npgrad._trace", "npgrad._mappings")):
            return f"{mod}.{f.f_code.co_name}"
        f = f.f_back
    return "?"


def _scipy_function_in(frame: Any) -> str:
    """``scipy.linalg.logm`` for the SciPy function a decorator's frame holds."""
    for value in frame.f_locals.values():
        mod = getattr(value, "__module__", None) or ""
        if callable(value) and mod.startswith("scipy.") and not mod.startswith("scipy._lib"):
            parts = mod.split(".")
            while len(parts) > 2 and parts[-1].startswith("_"):
                parts.pop()  # scipy.linalg._matfuncs -> scipy.linalg, where it is public
            return f"{'.'.join(parts)}.{getattr(value, '__name__', '?')}"
    return ""


def numpy_error(e: RuntimeError, fname: str) -> Exception:
    """torch's error for what NumPy raises differently: the kind NumPy code catches
    (``except np.linalg.LinAlgError``, ``except ValueError``), naming the op and call."""
    text = f"{here()}: {fname}: {e}"
    if isinstance(e, torch.linalg.LinAlgError):
        return np.linalg.LinAlgError(text)
    if "omplex" in str(e):  # torch's "complex", "ComplexDouble": no kernel for them
        return TraceError(
            f"{here()}: {fname} of complex values is not supported (torch has no complex "
            "kernel for it; where NumPy orders complex numbers, by real part, then "
            "imaginary part, torch does not); apply it to z.real or np.abs(z) if that is "
            "what is meant"
        )
    if isinstance(e, NotImplementedError):  # a dtype torch has no kernel for
        uf = getattr(np, fname.removeprefix("np."), None)
        floating = any(k in str(e) for k in ("'Float'", "'Double'", "'Half'", "'BFloat16'"))
        if floating and isinstance(uf, np.ufunc) and not any(t[0] in "efdg" for t in uf.types):
            # NumPy has no floating loop either (x & y, x >> 1 of floats): its TypeError
            return TypeError(
                f"{here()}: ufunc {uf.__name__!r} is not supported for floating inputs"
            )
        return TraceError(f"{text}; register a backward, or use mode='numeric'")
    if "out of bounds" in str(e) or "out of range" in str(e):
        return IndexError(text)
    return ValueError(text)


def no_mapping(what: str) -> TraceError:
    return TraceError(
        f"{here()}: no torch mapping for {what} (called from {caller()}); register a "
        "backward with @op.backward, or a rule with @npgrad.implements, or use "
        "mode='numeric'. npgrad.supported() lists what is followed"
    )


def constant(x: Any, device: torch.device | None = None) -> torch.Tensor:
    """A NumPy value (array, list, scalar) as a tensor on the traced device."""
    device = STATE.device if device is None else device
    if STATE.lifted and type(x) is np.ndarray:
        lifted = STATE.lifted.get(id(x))
        if lifted is not None:
            return lifted.to(device)
    a = np.asarray(x)
    if device.type in NO_FLOAT64 and a.dtype in NARROW:
        a = a.astype(NARROW[a.dtype])
    # always a copy: the user's code may write into its array later (a scratch buffer,
    # a weight updated between forward and backward, the buffer a read-only view such
    # as np.broadcast_to's shows), after autograd saved this tensor or before a
    # deferred op reads it; torch warns of a read-only array's memory, and a reversed
    # view (w[::-1]) needs a copy anyway (no negative strides)
    own = a.copy()
    if device.type == "cpu":
        try:
            return torch.from_numpy(own)  # the copy's memory itself: half as_tensor's time
        except (TypeError, ValueError):  # a dtype or byte order torch has no tensor for
            pass
    return torch.as_tensor(own, device=device)


def number_tensor(v: Any, dtype: torch.dtype) -> torch.Tensor:
    """A Python number as a 0-d CPU tensor of ``dtype`` (``torch.scalar_tensor`` takes
    half ``torch.tensor``'s time; a number it refuses, one that overflows the dtype,
    gets ``torch.tensor``'s answer)."""
    try:
        return torch.scalar_tensor(v, dtype=dtype)
    except (RuntimeError, OverflowError, TypeError):
        return torch.tensor(v, dtype=dtype)


def wide() -> torch.dtype:
    """The float NumPy promotes integers to: float64 where the traced device has it."""
    return torch.float32 if STATE.device.type in NO_FLOAT64 else torch.float64
