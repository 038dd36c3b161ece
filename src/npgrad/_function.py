"""``Function`` and its constructors: ``function`` and ``loss``; ``unbroadcast``.

The top of the stack: a ``Function`` holds the user's forward and backward and
picks the route for each call (the engine for automatic mode, an eager bridge,
or the compiled route's custom ops).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any, overload

import numpy as np
import torch

from ._bridge import compiled, composite
from ._bridge.eager import EagerBridge, FastBridge, backward_can_follow
from ._call import Call, backward_plan, nested_tensors
from ._errors import describe
from ._modes import auto
from ._policy import NONFINITE
from ._trace._array import TracedArray

_MODES = ("auto", "numpy", "numeric")
# op key -> depth of without_residuals() blocks, per thread
_WITHOUT_RESIDUALS = threading.local()


def _residuals(op: Function) -> bool:
    """Whether calls of ``op`` in this thread may keep residuals for the backward."""
    off = getattr(_WITHOUT_RESIDUALS, "depth", None)
    return not off or op.key not in off


_ids = itertools.count()


class Function:
    """A NumPy function usable on torch tensors, with a gradient.

    Create it with :func:`function` or :func:`loss`; register a backward with
    :meth:`backward`.

    >>> import numpy as np, torch, npgrad
    >>> f = npgrad.function(lambda x: np.sin(x), name="sin")
    >>> f
    <npgrad.function sin mode=auto>
    >>> _ = f.backward(lambda g, x, out: np.cos(x) * g)
    >>> f.mode
    'numpy'
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        mode: str | None = None,
        nonfinite: str = "warn",
        batched: bool = False,
        is_loss: bool = False,
        broadcast: bool = False,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"npgrad.function: expected a callable, got {describe(fn)}")
        if nonfinite not in NONFINITE:
            raise ValueError(
                f"npgrad.function: nonfinite must be one of {NONFINITE}, got {nonfinite!r}"
            )
        if mode is not None and mode not in _MODES:
            raise ValueError(f"npgrad.function: mode must be one of {_MODES}, got {mode!r}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or _default_name(fn)
        self._mode = mode
        self.nonfinite = nonfinite
        self.batched = batched
        self.is_loss = is_loss
        self.broadcast = broadcast
        self.bwd: Callable[..., Any] | None = None
        self.torch_backward = False
        self._bwd_plan = None
        self.fwd_res: Callable[..., Any] | None = None
        self.signature = inspect.signature(fn)
        params = list(self.signature.parameters.values())
        self._positional = [
            p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        self._plain = len(self._positional) == len(params)  # no *args, **kwargs, kw-only
        self._method = bool(self._positional) and self._positional[0] == "self"
        base = fn
        while isinstance(base, functools.partial):
            base = base.func
        # ufuncs refuse some of their own defaults when given them by name
        self._fill_defaults = not isinstance(base, np.ufunc)
        # positional-argument count for the quick call route; -1: never quick
        self._nargs = len(self._positional) if self._plain else -1
        self._auto = self.mode == "auto"  # kept current by backward()
        self.key = f"{next(_ids)}"
        compiled.register(self, self.key)
        # where fn reads values from outside its arguments (see composite.call_compiled)
        self._captures = compiled.captured_places(fn)
        # (key, shapes, scalars) -> (output shapes and dtypes, structure), for fake kernels
        self._fake_cache: dict[tuple, tuple[list, str]] = {}

    def __repr__(self) -> str:
        kind = "loss" if self.is_loss else "function"
        return f"<npgrad.{kind} {self.name} mode={self.mode}>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # a decorated method (first parameter "self") binds its instance, as a function
        # does; an op kept as a class attribute (criterion = npgrad.losses.mse) does not
        if obj is None or not self._method:
            return self
        return types.MethodType(self, obj)

    # An op is a function: a copy is the op itself, and pickling refers to it by module
    # and qualified name where that finds it, as Python pickles functions. Otherwise it
    # is pickled by value and registered anew when loaded: this process's registry key
    # would name some other op in another process.
    def __copy__(self) -> Function:
        return self

    def __deepcopy__(self, memo: dict) -> Function:
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        module = sys.modules.get(self.__dict__.get("__module__", ""))
        # the function's qualified name, or the op's name (mse = loss(_mse, name="mse"))
        for qualname in (self.__dict__.get("__qualname__"), self.name):
            found: Any = module
            for part in (qualname or "<none>").split("."):
                found = getattr(found, part, None)
            if found is self:
                return qualname
        return super().__reduce_ex__(protocol)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_fake_cache"] = {}
        state.pop("_routes", None)
        state.pop("_last_route", None)
        state.pop("_captures", None)  # cells and module dicts: found again when loaded
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.key = f"{next(_ids)}"
        compiled.register(self, self.key)
        self._captures = compiled.captured_places(self.fn)

    @property
    def mode(self) -> str:
        """``"numpy"`` with a registered backward, else ``"auto"`` unless set."""
        if self._mode is not None:
            return self._mode
        return "numpy" if self.bwd is not None else "auto"

    @property
    def compiled_route(self) -> str | None:
        """The route the latest ``torch.compile`` trace of this op took: ``"composite"``
        (torch ops in the graph), ``"opaque"`` (custom ops running the NumPy code), or
        ``None`` before any.  ``logging.getLogger("npgrad")`` says why at DEBUG level.
        """
        return self.__dict__.get("_last_route")

    def backward(self, bwd: Callable[..., Any] | None = None, *, torch_ops: bool = False):
        """Register the backward: ``bwd(g, <the forward's parameters>, out) -> gradients``.

        ``g`` comes first; every other parameter is bound **by name**: the forward's
        parameters (tensors as arrays, other values as given), ``out`` (the output),
        and the optional ``residuals`` (what a ``def_fwd`` forward saved) and
        ``needs_input_grad`` (one boolean per tensor input, to skip gradients nobody
        wants).  A backward whose parameters cannot be matched to the forward's is
        refused here, with the signature expected.  ``g`` and ``out`` are arrays
        (tuples of them for a tuple output).  Return one gradient per tensor input,
        in order (a bare array when there is one), with ``None`` where there is
        none.  With ``torch_ops=True`` the backward gets and returns torch tensors
        and may be differentiated again (``create_graph``).

        >>> import numpy as np, torch, npgrad
        >>> @npgrad.loss
        ... def huber(x, t, delta=1.0):
        ...     a = np.abs(x - t)
        ...     return np.mean(np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta)))
        >>> @huber.backward
        ... def _(g, x, t, out, delta=1.0):
        ...     d = x - t
        ...     gx = np.clip(d, -delta, delta) * (g / d.size)
        ...     return gx, -gx
        >>> x = torch.tensor([0.0, 3.0], requires_grad=True)
        >>> huber(x, torch.zeros(2), delta=0.5).backward()
        >>> x.grad
        tensor([0.0000, 0.2500])

        >>> import numpy as np, torch, npgrad
        >>> cube = npgrad.function(lambda x: x**3, name="cube")
        >>> @cube.backward
        ... def _(g, x, out):
        ...     return 3 * x**2 * g
        >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> cube(x).sum().backward()
        >>> x.grad
        tensor([ 3., 12.])
        """

        def register(f: Callable[..., Any]) -> Callable[..., Any]:
            self._bwd_plan = backward_plan(self, f)
            self.bwd = f
            self._auto = self.mode == "auto"
            self.torch_backward = torch_ops
            return f

        return register(bwd) if bwd is not None else register

    @contextlib.contextmanager
    def without_residuals(self) -> Iterator[None]:
        """Calls inside run the plain forward, so the backward gets ``residuals=None``
        and takes its recomputing branch (as under ``torch.compile``); ``npgrad.check``
        uses it.  It holds for calls from this thread while the block runs.

        >>> import numpy as np, torch, npgrad
        >>> sse = npgrad.loss(lambda x: np.sum(x * x), name="sse")
        >>> _ = sse.def_fwd(lambda x: (np.sum(x * x), [2 * x]))
        >>> @sse.backward
        ... def _(g, x, out, residuals=None):
        ...     return (residuals.pop() if residuals else 2 * x) * g
        >>> with sse.without_residuals():
        ...     sse(torch.ones(2, requires_grad=True))
        tensor(2., grad_fn=<FastBridgeBackward>)
        """
        off = _WITHOUT_RESIDUALS.__dict__.setdefault("depth", {})
        off[self.key] = off.get(self.key, 0) + 1  # nested blocks: a depth, not a flag
        try:
            yield
        finally:
            off[self.key] -= 1
            if not off[self.key]:
                del off[self.key]

    def def_fwd(self, fwd: Callable[..., Any]) -> Callable[..., Any]:
        """Register a forward that also returns residuals: ``fwd(*inputs) -> (out, res)``.

        The bridge then calls it instead of the plain function and hands ``res`` to a
        backward that declares a keyword parameter ``residuals`` (saving work such as
        ``x - t`` between the passes).  ``residuals`` is ``None`` where the forward ran
        elsewhere (the compiled route), so the backward must be able to recompute.
        The plain forward runs instead where no backward can follow (no input requires
        grad, or grad mode is off).  A backward may consume a mutable residual (say,
        ``residuals.pop()`` from a list) to return its memory as a gradient; a second
        backward (``retain_graph=True``) then finds it gone and recomputes.

        >>> import numpy as np, torch, npgrad
        >>> @npgrad.loss
        ... def sse(x, t):
        ...     return np.sum((x - t) ** 2)
        >>> @sse.def_fwd
        ... def _(x, t):
        ...     d = x - t
        ...     return np.sum(d * d), d
        >>> @sse.backward
        ... def _(g, x, t, out, residuals=None):
        ...     d = (x - t) if residuals is None else residuals
        ...     return 2 * d * g, -2 * d * g
        >>> x = torch.ones(3, requires_grad=True)
        >>> sse(x, torch.zeros(3)).backward()
        >>> x.grad
        tensor([2., 2., 2.])
        """
        self.fwd_res = fwd
        return fwd

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if torch.compiler.is_compiling():
            if self._auto:
                # torch ops inductor can fuse where the code allows (else the opaque ops)
                return composite.call_compiled(self, args, kwargs)
            return compiled.call_compiled(self, args, kwargs)
        if not kwargs and self._nargs == len(args) and args:
            # the common call (positional tensors of one dtype and device) skips the
            # general route's argument binding and checks: in a training loop that
            # Python runs with cold caches and costs more than NumPy's own work
            if self._auto:
                out = auto.run_fast(self, args)
                if out is not None:
                    return out
            elif not torch._C._are_functorch_transforms_active():
                mode = self.mode
                call = Call.quick(self, args, mode)
                if call is not None:
                    # (only a @def_fwd forward keeps residuals: the others skip the test)
                    call.keep_residuals = (
                        self.fwd_res is not None and _residuals(self) and backward_can_follow(args)
                    )
                    return call.unpack(FastBridge.apply(call, *args))
        if any(isinstance(a, TracedArray) for a in (*args, *kwargs.values())):
            return self._composed(args, kwargs)
        if not any(nested_tensors(a) for a in (*args, *kwargs.values())):
            # NumPy values alone (a plain call, or a constant inside npgrad.grad): the
            # NumPy function's own result, as autograd's primitives give; no graph to join
            return self.fn(*args, **kwargs)
        call = Call.build(self, args, kwargs)
        if call.mode == "auto":
            return auto.run_traced(call)
        functorch = torch._C._are_functorch_transforms_active()
        call.keep_residuals = _residuals(self) and (functorch or backward_can_follow(call.tensors))
        outs = (EagerBridge if functorch else FastBridge).apply(call, *call.tensors)
        return call.unpack(outs)

    def _composed(self, args: tuple, kwargs: dict) -> Any:
        """Called on traced arrays inside an automatic-mode function (or
        ``npgrad.grad``): the op runs on their tensors, its own backward used for its
        part of the graph, and its results go back as traced arrays."""

        def tensors(v: Any) -> Any:
            return v.t if isinstance(v, TracedArray) else v

        out = self(*map(tensors, args), **{k: tensors(v) for k, v in kwargs.items()})
        if isinstance(out, tuple):
            return tuple(TracedArray(o) for o in out)
        return TracedArray(out)


def _default_name(fn: Any) -> str:
    if isinstance(fn, functools.partial):
        return f"partial({_default_name(fn.func)})"
    return getattr(fn, "__name__", None) or type(fn).__name__


@overload
def function(
    fn: Callable[..., Any],
    *,
    name: str | None = ...,
    mode: str | None = ...,
    nonfinite: str = ...,
    batched: bool = ...,
) -> Function: ...
@overload
def function(
    fn: None = ...,
    *,
    name: str | None = ...,
    mode: str | None = ...,
    nonfinite: str = ...,
    batched: bool = ...,
) -> Callable[[Callable[..., Any]], Function]: ...
def function(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    mode: str | None = None,
    nonfinite: str = "warn",
    batched: bool = False,
) -> Function | Callable[[Callable[..., Any]], Function]:
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


@overload
def loss(
    fn: Callable[..., Any],
    *,
    name: str | None = ...,
    mode: str | None = ...,
    nonfinite: str = ...,
    broadcast: bool = ...,
    batched: bool = ...,
) -> Function: ...
@overload
def loss(
    fn: None = ...,
    *,
    name: str | None = ...,
    mode: str | None = ...,
    nonfinite: str = ...,
    broadcast: bool = ...,
    batched: bool = ...,
) -> Callable[[Callable[..., Any]], Function]: ...
def loss(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    mode: str | None = None,
    nonfinite: str = "warn",
    broadcast: bool = False,
    batched: bool = False,
) -> Function | Callable[[Callable[..., Any]], Function]:
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
