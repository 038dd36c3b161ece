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
        # (array, tensor) for the same arrays: a view of one is found by its memory
        self.lifted_arrays: list[tuple[np.ndarray, torch.Tensor]] = []
        # while a lifting trace with captured arrays runs: the other NumPy values it
        # froze into the graph (they may be computed from a captured array: X * 2)
        self.baked: list | None = None


STATE = _State()


class lifting:
    """While a compiled trace runs: each captured NumPy array in ``pairs`` (array,
    tensor) becomes its tensor, a graph input read at run time, instead of a copy
    frozen into the graph as a constant. A view of one (``X.T``, ``X[:, 0]``) becomes
    the same view of its tensor. Any other NumPy value frozen meanwhile is listed in
    ``baked`` (only where arrays are captured): it may be computed from them (``X *
    2``), so the caller must not trust a graph that froze one once they change."""

    def __init__(self, pairs: Any) -> None:
        self.pairs = list(pairs)
        self.mapping = {id(a): t for a, t in self.pairs}
        self.baked: list = []

    def __enter__(self) -> None:
        self.saved = STATE.lifted, STATE.lifted_arrays, STATE.baked
        STATE.lifted, STATE.lifted_arrays = self.mapping, self.pairs
        STATE.baked = self.baked if self.pairs else None

    def __exit__(self, *exc: Any) -> None:
        STATE.lifted, STATE.lifted_arrays, STATE.baked = self.saved


def _owner(a: np.ndarray) -> Any:
    """The array that owns ``a``'s memory (NumPy's ``.base`` chain)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _lifted_view(x: np.ndarray) -> torch.Tensor | None:
    """``x`` as a view of a lifted array's tensor, where ``x`` is a view of that
    array's memory the tensor lays out as the array does; else None."""
    if x.size == 0:
        return None
    owner, size = _owner(x), x.itemsize
    start = x.__array_interface__["data"][0]
    if any(s < 0 or s % size for s in x.strides):
        return None  # (torch has no negative strides)
    end = start + sum((n - 1) * s for n, s in zip(x.shape, x.strides))
    for b, t in STATE.lifted_arrays:
        if b.dtype != x.dtype or _owner(b) is not owner:
            continue
        # every element offset in b's extent is one of b's elements (dense), and the
        # tensor's memory is b's (its strides b's, in elements)
        if not (b.flags.c_contiguous or b.flags.f_contiguous):
            continue
        if t.element_size() != size or tuple(t.shape) != b.shape:
            continue
        if any(s % size for s in b.strides):
            continue
        if t.stride() != tuple(s // size for s in b.strides):
            continue
        base = b.__array_interface__["data"][0]
        if (start - base) % size or start < base or end >= base + b.nbytes:
            continue
        strides = tuple(s // size for s in x.strides)
        offset = t.storage_offset() + (start - base) // size
        return torch.as_strided(t, x.shape, strides, offset)
    return None


def note_baked(x: Any) -> None:
    """Record a NumPy value frozen into a lifting trace (see ``lifting``)."""
    if STATE.baked is not None:
        STATE.baked.append(type(x).__name__)


_KEYS = getattr(torch._C, "_TorchDispatchModeKey", None)
_PROXY = getattr(_KEYS, "PROXY", None)
_FAKE = getattr(_KEYS, "FAKE", None)


def abstract() -> bool:
    """Values cannot be read: under torch.func, while make_fx traces (linearize), or
    under a fake-tensor mode (shape propagation, torch.export's tools)."""
    return torch._C._are_functorch_transforms_active() or (
        _PROXY is not None
        and (
            torch._C._get_dispatch_mode(_PROXY) is not None
            or torch._C._get_dispatch_mode(_FAKE) is not None
        )
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


def unread(what: str) -> TraceError:
    """A TraceError for reading the value of an array that has none: a data array a
    compiled kernel reads at run time (``jit=True``), with no gradient to drop."""
    return TraceError(
        f"{here()}: {what} reads its value, which a compiled trace (jit=True, "
        "torch.compile) does not have; keep the computation on the array"
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


def numpy_error(e: RuntimeError, fname: str, operands: tuple = ()) -> Exception:
    """torch's error for what NumPy raises differently: the kind NumPy code catches
    (``except np.linalg.LinAlgError``, ``except ValueError``), naming the op and call;
    ``operands`` (a ufunc's) give a broadcasting failure NumPy's words."""
    text = f"{here()}: {fname}: {e}"
    if operands and "must match the size of tensor" in str(e):
        shapes = " ".join(shape_words(getattr(x, "shape", ())) for x in operands)
        return ValueError(
            f"{here()}: {fname}: operands could not be broadcast together with shapes {shapes}"
        )
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


def shape_words(shape: Any) -> str:
    """A shape as NumPy's messages write it: ``(4,)``, ``(2,3)``, ``()``."""
    dims = [str(int(d)) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({','.join(dims)})"


def no_mapping(what: str) -> TraceError:
    return TraceError(
        f"{here()}: no torch mapping for {what} (called from {caller()}); register a "
        "backward with @op.backward, or a rule with @npgrad.implements, or use "
        "mode='numeric'. npgrad.supported() lists what is followed"
    )


# traces running now, in any thread (a trace's code may hand its arrays to a worker
# thread): with none, a traced array in use has escaped the call that made it
LIVE = [0]
LIVE_LOCK = threading.Lock()


def escaped() -> TraceError:
    return TraceError(
        "a traced array was used after the call that traced it had returned (it was "
        "kept in a global, a closure or an object during npgrad.grad or an npgrad op); "
        "return it from the function (has_aux=True for extra results), or keep "
        "np.asarray(...) of what the call returned"
    )


def not_picklable() -> TraceError:
    return TraceError(
        f"{here()}: pickling a traced array (pickle, multiprocessing, torch.save) would "
        "drop its gradient; np.copy(a) or copy.deepcopy(a) copies it with its gradient, "
        "and a result belongs in the function's return value"
    )


def subclass_semantics(x: Any) -> str | None:
    """What an ndarray subclass means that its data alone does not: a masked array's
    mask, a matrix's products (``*`` and ``**``); None for any other value."""
    if type(x) is np.ndarray or not isinstance(x, np.ndarray):
        return None
    ma = sys.modules.get("numpy.ma")
    if ma is not None and isinstance(x, ma.MaskedArray):
        return (
            "a numpy.ma masked array: its mask is not followed (the engine would compute "
            "on all of its data); use np.ma.filled(m, value), or np.where with the mask, "
            "on plain arrays"
        )
    if isinstance(x, np.matrix):
        return (
            "a np.matrix: its * and ** are matrix products, which the engine would compute "
            "elementwise; use np.asarray(m) with @ and np.linalg.matrix_power"
        )
    return None


# bool, signed ints, uint8, float16/32/64: dtypes every supported torch takes from NumPy
_PLAIN_CHARS = frozenset("?bBhilqefd")


def constant(x: Any, device: torch.device | None = None) -> torch.Tensor:
    """A NumPy value (array, list, scalar) as a tensor on the traced device."""
    state = STATE
    if type(x) is np.ndarray and not state.lifted and state.baked is None:
        # the common constant (a target, a data matrix) on the CPU: the general
        # path's copy below, with only the tests that can apply to it
        if device is None:
            device = state.device
        dt = x.dtype
        kind = device.type
        if kind == "cpu" and dt.char in _PLAIN_CHARS and dt.isnative and kind not in NO_FLOAT64:
            return torch.from_numpy(x.copy())  # a copy: see below
    if type(x) is not np.ndarray:
        refused = subclass_semantics(x)
        if refused is not None:
            raise TraceError(f"{here()}: {refused}")
    device = STATE.device if device is None else device
    if STATE.lifted and type(x) is np.ndarray:
        lifted = STATE.lifted.get(id(x))
        if lifted is None:
            lifted = _lifted_view(x)
        if lifted is not None:
            return lifted.to(device)
    if STATE.baked is not None and isinstance(x, np.ndarray) and x.size:
        note_baked(x)
    a = np.asarray(x)
    if not a.dtype.isnative and a.dtype.kind in "biufc":  # big-endian data: torch has none
        a = a.astype(a.dtype.newbyteorder("="))
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
