"""The bridge: a NumPy forward (and backward) becomes a differentiable torch op.

Two routes share one implementation of the actual work (:class:`_Call`):

* eager: an old-style ``torch.autograd.Function`` (cheapest to apply), or, while a
  ``torch.func`` transform is active, one with ``setup_context`` and a ``vmap`` rule,
  which ``grad``/``vjp``/``vmap`` understand; a NumPy backward runs inside a second
  ``autograd.Function`` whose own backward refuses second-order gradients;
* ``torch.compile``: the same kind of ``autograd.Function``, but its forward and
  backward call two opaque ``torch.library`` custom ops, so Dynamo never traces the
  user's NumPy or SciPy code and ``fullgraph=True`` holds.

Non-tensor arguments travel untouched in eager mode.  Under ``torch.compile`` they
are encoded into a constant string key (str, bool, None) and two scalar lists
(int, float), which is what a custom op schema can carry.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import math
import sys
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from . import _convert, _trace
from ._errors import BackwardError, NpgradError, describe, user_stacklevel

_NONFINITE = ("raise", "warn", "ignore")
_MODES = ("auto", "numpy", "numeric")
# key -> op, for the compiled route's kernels; weak, so ops made on the fly can go
_REGISTRY: weakref.WeakValueDictionary[str, Function] = weakref.WeakValueDictionary()
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
        if nonfinite not in _NONFINITE:
            raise ValueError(
                f"npgrad.function: nonfinite must be one of {_NONFINITE}, got {nonfinite!r}"
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
        self._bwd_wants_needs = False
        self._bwd_wants_res = False
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
        _REGISTRY[self.key] = self
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
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.key = f"{next(_ids)}"
        _REGISTRY[self.key] = self

    @property
    def mode(self) -> str:
        """``"numpy"`` with a registered backward, else ``"auto"`` unless set."""
        if self._mode is not None:
            return self._mode
        return "numpy" if self.bwd is not None else "auto"

    def backward(self, bwd: Callable[..., Any] | None = None, *, torch_ops: bool = False):
        """Register the backward: ``bwd(g, *inputs, out, **kwargs) -> gradients``.

        ``g`` and ``out`` are arrays (tuples of them for a tuple output).  Return one
        gradient per tensor input, in order (a bare array when there is one), with
        ``None`` where there is none.  With ``torch_ops=True`` the backward gets and
        returns torch tensors and may be differentiated again (``create_graph``).
        A backward with a keyword parameter ``needs_input_grad`` receives a tuple of
        booleans, one per tensor input, and may skip the gradients nobody wants.

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
            self.bwd = f
            self._auto = self.mode == "auto"
            self.torch_backward = torch_ops
            try:
                params = inspect.signature(f).parameters
            except (TypeError, ValueError):
                params = {}
            self._bwd_wants_needs = "needs_input_grad" in params
            self._bwd_wants_res = "residuals" in params
            return f

        return register(bwd) if bwd is not None else register

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
            return _call_compiled(self, args, kwargs)
        if not kwargs and self._nargs == len(args) and args:
            # the common call (positional tensors of one dtype and device) skips the
            # general route's argument binding and checks: in a training loop that
            # Python runs with cold caches and costs more than NumPy's own work
            if self._auto:
                out = _trace.run_fast(self, args)
                if out is not None:
                    return out
            elif not torch._C._are_functorch_transforms_active():
                mode = self.mode
                call = _Call.quick(self, args, mode)
                if call is not None:
                    call.keep_residuals = _backward_can_follow(args)
                    return call.unpack(_FastBridge.apply(call, *args))
        call = _Call.build(self, args, kwargs)
        if call.mode == "auto":
            return _trace.run_traced(call)
        functorch = torch._C._are_functorch_transforms_active()
        call.keep_residuals = functorch or _backward_can_follow(call.tensors)
        outs = (_EagerBridge if functorch else _FastBridge).apply(call, *call.tensors)
        return call.unpack(outs)


def _backward_can_follow(tensors) -> bool:
    """Whether autograd will record this call: only then do residuals pay off."""
    if torch.is_grad_enabled():
        for t in tensors:
            if t.requires_grad:
                return True
    return False


def _default_name(fn: Any) -> str:
    if isinstance(fn, functools.partial):
        return f"partial({_default_name(fn.func)})"
    return getattr(fn, "__name__", None) or type(fn).__name__


class _Call:
    """One call of a :class:`Function`: its arguments, tensors and output layout."""

    __slots__ = (
        "op",
        "args",
        "kwargs",
        "slots",
        "names",
        "tensors",
        "device",
        "dtype",
        "structure",
        "out_meta",
        "mode",
        "residuals",
        "host_in",
        "check_finite",
        "keep_residuals",
        "all_tensors",
        "batch_rank",
    )

    @classmethod
    def _blank(cls, op: Function, mode: str) -> _Call:
        self = cls()
        self.op, self.mode = op, mode
        self.residuals = self.host_in = None
        self.check_finite, self.keep_residuals, self.all_tensors = True, False, False
        self.batch_rank = 0  # leading batch dimensions, in a batched vmap rule's call
        return self

    @classmethod
    def build(cls, op: Function, args: tuple, kwargs: dict) -> _Call:
        self = cls._blank(op, op.mode)
        if op._plain and not kwargs and len(args) == len(op._positional):
            # the common case, without inspect's binding (tens of microseconds a call)
            self.args, self.kwargs, names = list(args), {}, op._positional
        else:
            try:
                bound = op.signature.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(f"npgrad op '{op.name}': {e}") from None
            if op._fill_defaults:
                bound.apply_defaults()
            self.args = list(bound.args)
            self.kwargs = dict(bound.kwargs)
            # positional parameter names; a *args parameter gives name[i]
            names = list(op._positional)
            for p in op.signature.parameters.values():
                if p.kind is p.VAR_POSITIONAL:
                    names.extend(f"{p.name}[{i}]" for i in range(len(self.args) - len(names)))
        self.slots: list[int | str] = []
        self.names: list[str] = []
        self.tensors: list[torch.Tensor] = []
        for i, a in enumerate(self.args):
            if isinstance(a, torch.Tensor):
                self.slots.append(i)
                self.names.append(names[i] if i < len(names) else f"args[{i}]")
                self.tensors.append(a)
        for k, a in self.kwargs.items():
            if isinstance(a, torch.Tensor):
                self.slots.append(k)
                self.names.append(k)
                self.tensors.append(a)
        self._validate()
        if self.mode == "numpy" and op.bwd is None:
            raise NpgradError(
                f"npgrad op '{op.name}': mode='numpy' needs a backward; register one with "
                f"@{op.name}.backward, or use mode='auto' or mode='numeric'"
            )
        return self

    @classmethod
    def quick(cls, op: Function, args: tuple, mode: str) -> _Call | None:
        """A call built without binding or per-argument checks, for arguments that
        :func:`uniform_tensors` accepts; ``None`` otherwise (take :meth:`build`)."""
        dtype = uniform_tensors(op, args)
        if dtype is None or (mode == "numpy" and op.bwd is None):
            return None
        self = cls._blank(op, mode)
        self.all_tensors = True
        self.args, self.kwargs = list(args), {}
        self.slots = list(range(len(args)))
        self.names = op._positional
        self.tensors = list(args)
        self.device, self.dtype = args[0].device, dtype
        return self

    def _validate(self) -> None:
        """Devices, dtypes and (for a loss) shapes, in one pass over the tensors."""
        op = self.op
        if not self.tensors:
            raise TypeError(f"npgrad op '{op.name}': no torch.Tensor among the arguments")
        device = self.tensors[0].device
        dtype = None
        loss, same_shape = op.is_loss, op.is_loss and not op.broadcast
        ref_name, ref_shape = None, None
        for name, t in zip(self.names, self.tensors):
            if t.device != device:
                raise ValueError(
                    f"npgrad op '{op.name}': argument '{name}' is on {t.device} but "
                    f"'{self.names[0]}' is on {device}; move them to one device"
                )
            differentiable = t.dtype in _convert._COMPUTE_DTYPE
            if not differentiable and t.is_complex():
                raise TypeError(
                    f"npgrad op '{op.name}': argument '{name}' is complex ({t.dtype}); "
                    "complex tensors are not supported"
                )
            if loss and t.numel() == 0:
                raise ValueError(
                    f"npgrad.loss '{op.name}': argument '{name}' is empty (shape "
                    f"{tuple(t.shape)}); a mean over no elements is undefined"
                )
            if differentiable:
                if dtype is None:
                    dtype = t.dtype
                # integer and bool inputs (labels, masks) may have other shapes
                if same_shape:
                    if ref_shape is None:
                        ref_name, ref_shape = name, t.shape
                    elif t.shape != ref_shape:
                        raise ValueError(
                            f"npgrad.loss '{op.name}': argument '{name}' has shape "
                            f"{tuple(t.shape)} but '{ref_name}' has shape {tuple(ref_shape)}; "
                            "pass broadcast=True to npgrad.loss to allow broadcasting"
                        )
        self.device, self.dtype = device, dtype

    # -- running the user's code ------------------------------------------------
    def numpy_args(self, arrays: list[np.ndarray]) -> tuple[list, dict]:
        if self.all_tensors:  # every argument positional and a tensor
            return list(arrays), {}
        args, kwargs = list(self.args), dict(self.kwargs)
        for slot, arr in zip(self.slots, arrays):
            if isinstance(slot, int):
                args[slot] = arr
            else:
                kwargs[slot] = arr
        return args, kwargs

    def forward(self, tensors: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Run the NumPy forward on ``tensors``; return torch outputs on their device."""
        if self.mode == "auto":
            with torch.no_grad():
                outs, self.structure = _trace.evaluate(self, tensors)
            self.out_meta = [(tuple(r.shape), r.dtype) for r in outs]
            storages = {t.untyped_storage().data_ptr() for t in tensors}
            return tuple(
                o.clone() if o.untyped_storage().data_ptr() in storages else o for o in outs
            )
        arrays = _convert.to_numpy(tensors)
        # kept for the backward: on CUDA this saves copying the inputs to the host again
        # (autograd's saved-tensor version check still catches in-place changes)
        self.host_in = arrays
        args, kwargs = self.numpy_args(arrays)
        if self.op.fwd_res is not None and self.mode == "numpy" and self.keep_residuals:
            pair = _run_user(self.op, "forward", self.op.fwd_res, args, kwargs)
            # an array of two rows would unpack too: only a tuple or list is a pair
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(
                    f"npgrad op '{self.op.name}': the @def_fwd forward must return "
                    f"(output, residuals), got {describe(pair)}"
                )
            out, self.residuals = pair
        else:
            out = _run_user(self.op, "forward", self.op.fn, args, kwargs)
        return self.outputs_from_numpy(out, arrays, tensors[0].device)

    def outputs_from_numpy(self, out: Any, arrays: list, device: torch.device) -> tuple:
        op = self.op
        if (
            device.type == "cpu"
            and self.dtype in _convert._SAME_ON_HOST
            and type(out) is np.ndarray
            and out.dtype == _convert.numpy_dtype(self.dtype)
        ):
            # one float array of the input's dtype (a loss's value, typically): the same
            # checks as below, in fewer steps
            self.structure = "single"
            if self.check_finite and op.nonfinite != "ignore":
                if not (math.isfinite(out.item()) if out.ndim == 0 else np.isfinite(out).all()):
                    report_nonfinite(op, "output 0")
            require_scalar_loss(op, out.shape[self.batch_rank :])
            result = _convert.from_numpy(out, dtype=self.dtype, device=device, avoid=arrays)
            self.out_meta = [(out.shape, result.dtype)]
            return (result,)
        self.structure = "tuple" if isinstance(out, tuple) else "single"
        outs = out if isinstance(out, tuple) else (out,)
        results = []
        for j, o in enumerate(outs):
            try:
                arr = np.asarray(o)
            except Exception as e:  # noqa: BLE001 - any conversion failure is the user's value
                raise TypeError(
                    f"npgrad op '{op.name}': output {j} is not array-like: {describe(o)}"
                ) from e
            if arr.dtype.kind not in "fiub":
                raise TypeError(
                    f"npgrad op '{op.name}': output {j} has dtype {arr.dtype}; expected a "
                    "real number array"
                )
            if arr.dtype.kind == "f":
                if self.check_finite:
                    _check_finite(op, arr, f"output {j}")
                dtype = self.dtype
            else:
                dtype = None
            require_scalar_loss(op, arr.shape[self.batch_rank :])
            r = _convert.from_numpy(arr, dtype=dtype, device=device, avoid=arrays)
            if self.check_finite and dtype in _convert.HALF and op.nonfinite != "ignore":
                # a finite float32 value may overflow float16's range on the way back
                if not bool(r.isfinite().all()) and np.isfinite(arr).all():
                    report_nonfinite(op, f"output {j} (in {dtype})")
            results.append(r)
        self.out_meta = [(tuple(r.shape), r.dtype) for r in results]
        return tuple(results)

    def backward(
        self, grads: tuple, inputs: tuple, outputs: tuple, needs: tuple[bool, ...]
    ) -> list[torch.Tensor | None]:
        op = self.op
        if self.mode == "auto":
            # the compiled route: recompute the traced forward with autograd on
            with _autograd_inside_kernel(), torch.enable_grad():
                leaves = [t.detach().requires_grad_(n) for t, n in zip(inputs, needs)]
                outs, _ = _trace.evaluate(self, leaves)
                pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
                wanted = [t for t, n in zip(leaves, needs) if n]
                outs_, grads_ = [o for o, _ in pairs], [g for _, g in pairs]
                got = iter(torch.autograd.grad(outs_, wanted, grads_, allow_unused=True))
            return [next(got) if n else None for n in needs]
        if self.mode == "numeric":
            from ._check import numeric_vjp

            return numeric_vjp(self, grads, inputs, needs)
        if op.torch_backward:
            result = self._user_backward(grads, inputs, outputs, needs)
            return self._check_grads(result, inputs, as_tensor=True)
        n_out = len(grads)
        if self.host_in is not None:
            in_np = self.host_in
            arrays = _convert.to_numpy([*grads, *outputs])
            g_np, out_np = arrays[:n_out], arrays[n_out:]
            arrays = arrays + list(in_np)
        else:
            arrays = _convert.to_numpy([*grads, *inputs, *outputs])
            g_np, in_np = arrays[:n_out], arrays[n_out : n_out + len(inputs)]
            out_np = arrays[n_out + len(inputs) :]
        result = self._user_backward(g_np, in_np, out_np, needs)
        # a gradient must own its memory: not an input's, not a residual's (a later
        # backward would see it changed), not another gradient's (accumulating into
        # one .grad would change the other)
        avoid = [*arrays, *_arrays_in(self.residuals)]
        return self._check_grads(result, inputs, as_tensor=False, avoid=avoid)

    def _user_backward(self, grads, inputs, outputs, needs: tuple[bool, ...]) -> Any:
        """Call the registered backward as ``bwd(g, *inputs, out, **kwargs)``."""
        op = self.op
        g = tuple(grads) if self.structure == "tuple" else grads[0]
        out = tuple(outputs) if self.structure == "tuple" else outputs[0]
        args, kwargs = self.numpy_args(list(inputs))
        if op._bwd_wants_needs:
            kwargs["needs_input_grad"] = needs
        if op._bwd_wants_res:
            kwargs["residuals"] = self.residuals
        return _run_user(op, "backward", op.bwd, [g, *args, out], kwargs)

    def _check_grads(self, result: Any, inputs: tuple, *, as_tensor: bool, avoid=()) -> list:
        avoid = list(avoid)
        op = self.op
        n = len(inputs)
        if n == 1 and not isinstance(result, (tuple, list)):
            result = (result,)
        elif (
            isinstance(result, (tuple, list)) and len(result) != n and len(result) == len(self.args)
        ):
            positional = [s for s in self.slots if isinstance(s, int)]
            if len(positional) == n:
                # one gradient per positional argument, like autograd.Function: the
                # non-tensor positions must hold None
                extra = [i for i in range(len(self.args)) if i not in positional]
                if any(result[i] is not None for i in extra):
                    raise BackwardError(
                        f"npgrad op '{op.name}': the backward returned a gradient for a "
                        f"non-tensor argument (position {extra[0]}); return None there"
                    )
                result = [result[i] for i in positional]
        if not isinstance(result, (tuple, list)) or len(result) != n:
            got = len(result) if isinstance(result, (tuple, list)) else describe(result)
            raise BackwardError(
                f"npgrad op '{op.name}': the backward must return {n} gradient(s), one per "
                f"tensor input ({', '.join(self.names)}), got {got}"
            )
        out: list[torch.Tensor | None] = []
        for name, t, g in zip(self.names, inputs, result):
            if g is None or t.dtype not in _convert._COMPUTE_DTYPE:
                out.append(None)
                continue
            if not as_tensor and not isinstance(g, (np.ndarray, np.generic)):
                g = self._as_array(g, name, t)
            shape = getattr(g, "shape", ())
            if shape != t.shape:  # a tuple against a torch.Size: equal when the dims are
                raise BackwardError(
                    f"npgrad op '{op.name}': the gradient for '{name}' has shape "
                    f"{tuple(shape)}, but '{name}' has shape {tuple(t.shape)}"
                )
            if as_tensor:
                if not isinstance(g, torch.Tensor) or g.dtype != t.dtype:
                    raise BackwardError(
                        f"npgrad op '{op.name}': the torch backward's gradient for '{name}' "
                        f"must be a tensor of dtype {t.dtype}, got {describe(g)}"
                    )
                out.append(g)
                continue
            want = _convert.numpy_dtype(t.dtype)
            gdtype = getattr(g, "dtype", None)
            if gdtype is None or np.dtype(gdtype) != want:
                raise BackwardError(
                    f"npgrad op '{op.name}': the gradient for '{name}' has dtype {gdtype}, "
                    f"expected {want} (the dtype NumPy saw for '{name}', a {t.dtype} tensor)"
                )
            out.append(_convert.from_numpy(g, dtype=t.dtype, device=t.device, avoid=avoid))
            if isinstance(g, np.ndarray):
                avoid.append(g)
        return out

    def _as_array(self, g: Any, name: str, t: torch.Tensor) -> np.ndarray:
        """A NumPy backward's gradient that is no array: a plain number for a 0-d input
        is one; anything else is refused with what came back."""
        if isinstance(g, (int, float)) and not isinstance(g, bool) and t.ndim == 0:
            return np.asarray(g, dtype=_convert.numpy_dtype(t.dtype))
        hint = (
            "; a backward written in torch ops is registered with @op.backward(torch_ops=True)"
            if isinstance(g, torch.Tensor)
            else ""
        )
        raise BackwardError(
            f"npgrad op '{self.op.name}': the gradient for '{name}' must be a NumPy array, "
            f"got {describe(g)}{hint}"
        )

    def unpack(self, outs: tuple) -> Any:
        return outs if self.structure == "tuple" else outs[0]


def uniform_tensors(op: Function, args: tuple) -> torch.dtype | None:
    """The dtype when every argument is a tensor of one floating dtype on one device
    (and, for a loss without ``broadcast``, of one non-empty shape); else ``None``.
    Such a call passes every check of :meth:`_Call._validate`."""
    first = args[0]
    if not isinstance(first, torch.Tensor):
        return None
    dtype, device = first.dtype, first.device
    if dtype not in _convert._COMPUTE_DTYPE:
        return None
    is_loss = op.is_loss
    shape = first.shape if is_loss and not op.broadcast else None
    for a in args:
        if (
            not isinstance(a, torch.Tensor)
            or a.dtype != dtype
            or a.device != device
            or (shape is not None and a.shape != shape)
            or (is_loss and not a.numel())
        ):
            return None
    return dtype


def _autograd_inside_kernel():
    """Autograd back on inside a custom op's kernel, which runs below it.

    The compiled route's backward recomputes the traced forward and differentiates
    it; the dispatcher has excluded the autograd keys there, so they are let back in.
    """
    dk = torch._C.DispatchKey
    autograd = torch._C.DispatchKeySet(dk.AutogradFunctionality) | torch._C.DispatchKeySet(
        dk.ADInplaceOrView
    )
    return torch._C._ForceDispatchKeyGuard(
        torch._C._dispatch_tls_local_include_set(),
        torch._C._dispatch_tls_local_exclude_set() - autograd,
    )


def _arrays_in(value: Any) -> list[np.ndarray]:
    """The NumPy arrays in a residuals value (an array, or a tuple/list/dict of them)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in _arrays_in(v)]
    if isinstance(value, dict):
        return [a for v in value.values() for a in _arrays_in(v)]
    return []


def _check_finite(op: Function, arr: np.ndarray, what: str) -> None:
    if op.nonfinite == "ignore" or np.isfinite(arr).all():
        return
    report_nonfinite(op, what)


def report_nonfinite(op: Function, what: str) -> None:
    """Apply the op's ``nonfinite`` policy to an output known to hold nan or inf."""
    msg = f"npgrad op '{op.name}': {what} is not finite (contains nan or inf)"
    if op.nonfinite == "raise":
        raise FloatingPointError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=user_stacklevel())


def require_scalar_loss(op: Function, shape: tuple) -> None:
    if op.is_loss and len(shape) != 0:
        raise ValueError(
            f"npgrad.loss '{op.name}': the loss must be a scalar, got output of shape "
            f"{tuple(shape)}; use npgrad.function for non-scalar results"
        )


def _run_user(op: Function, which: str, f: Callable, args: list, kwargs: dict) -> Any:
    try:
        return f(*args, **kwargs)
    except NpgradError:
        raise
    except Exception as e:
        e.add_note(f"(raised in the {which} of npgrad op '{op.name}')")
        raise


def _batched_loop(apply: Callable, info, in_dims, *tensors) -> tuple:
    """A ``vmap`` rule by looping over the batch: correct for any NumPy code."""
    size = info.batch_size
    moved = [
        t.movedim(d, 0) if d is not None and isinstance(t, torch.Tensor) else None
        for t, d in zip(tensors, in_dims)
    ]
    rows = []
    for i in range(size):
        rows.append(apply(*[m[i] if m is not None else t for m, t in zip(moved, tensors)]))
    outs = tuple(torch.stack(col) for col in zip(*rows))
    return outs, (0,) * len(outs)


def _save(ctx, call: _Call, tensors: tuple, output: tuple) -> None:
    ctx.call = call
    ctx.n_in = len(tensors)
    ctx.save_for_backward(*tensors, *output)
    nondiff = [o for o in output if not o.is_floating_point()]
    if nondiff:
        ctx.mark_non_differentiable(*nondiff)


def _bridge_backward(ctx, grads: tuple) -> tuple:
    call: _Call = ctx.call
    saved = ctx.saved_tensors
    inputs, outputs = saved[: ctx.n_in], saved[ctx.n_in :]
    needs = tuple(
        n and _convert.is_differentiable(t) for n, t in zip(ctx.needs_input_grad[1:], inputs)
    )
    if not any(needs):
        return (None,) * (1 + ctx.n_in)
    if call.op.torch_backward or not torch.is_grad_enabled():
        result = call.backward(grads, inputs, outputs, needs)
    else:
        # create_graph=True or torch.func: a second autograd.Function, so that
        # torch.func unwraps its inputs and differentiating the gradient again
        # raises instead of silently treating it as a constant
        got = iter(_BackwardBridge.apply(call, needs, len(grads), *grads, *inputs, *outputs))
        result = [next(got) if n else None for n in needs]
    return (None, *[g if n else None for g, n in zip(result, needs)])


class _FastBridge(torch.autograd.Function):
    """Old-style Function for plain eager autograd: its ``apply`` is ~25 us cheaper."""

    @staticmethod
    def forward(ctx, call: _Call, *tensors: torch.Tensor):  # type: ignore[override]
        output = call.forward(list(tensors))
        _save(ctx, call, tensors, output)
        return output

    @staticmethod
    def backward(ctx, *grads):
        return _bridge_backward(ctx, grads)


class _EagerBridge(torch.autograd.Function):
    """``setup_context`` style with a ``vmap`` rule: what ``torch.func`` needs."""

    @staticmethod
    def forward(call: _Call, *tensors: torch.Tensor):  # type: ignore[override]
        return call.forward(list(tensors))

    @staticmethod
    def setup_context(ctx, inputs, output):
        _save(ctx, inputs[0], inputs[1:], output)

    @staticmethod
    def backward(ctx, *grads):
        return _bridge_backward(ctx, grads)

    @staticmethod
    def jvp(ctx, *tangents):
        raise NpgradError(
            f"npgrad op '{ctx.call.op.name}': forward-mode differentiation "
            "(torch.func.jvp, jacfwd, hessian, linearize) does not go through a registered "
            "backward; use reverse mode (torch.func.jacrev; jacrev(jacrev(f)) for a Hessian "
            "with a torch_ops=True backward), or mode='auto'"
        )

    @staticmethod
    def vmap(info, in_dims, call: _Call, *tensors):
        if call.op.batched:
            size = info.batch_size
            moved = [
                t.movedim(d, 0) if d is not None else t.unsqueeze(0).expand(size, *t.shape)
                for t, d in zip(tensors, in_dims[1:])
            ]
            # a batched loss gives one value per sample: a copy of the call that knows
            c = copy.copy(call)
            c.batch_rank = call.batch_rank + 1
            outs = _EagerBridge.apply(c, *moved)
            call.structure = c.structure
            return outs, (0,) * len(outs)

        def row(*ts):
            # a copy of the call per row: each keeps its own residuals
            c = copy.copy(call)
            out = _EagerBridge.apply(c, *ts)
            call.structure = c.structure
            return out

        return _batched_loop(row, info, in_dims[1:], *tensors)


class _BackwardBridge(torch.autograd.Function):
    """Runs a NumPy backward; returns the gradients of the inputs in ``needs``."""

    @staticmethod
    def forward(call: _Call, needs: tuple, n_grads: int, *tensors: torch.Tensor):  # type: ignore[override]
        grads = tensors[:n_grads]
        n_in = len(needs)
        inputs, outputs = tensors[n_grads : n_grads + n_in], tensors[n_grads + n_in :]
        result = call.backward(grads, inputs, outputs, needs)
        return tuple(
            g if g is not None else torch.zeros_like(t)
            for g, t, n in zip(result, inputs, needs)
            if n
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.name = inputs[0].op.name

    @staticmethod
    def backward(ctx, *_):
        raise NpgradError(
            f"npgrad op '{ctx.name}': a second-order gradient cannot flow through a NumPy "
            "backward (it would silently be wrong); write the backward in torch ops and "
            "register it with @op.backward(torch_ops=True)"
        )

    @staticmethod
    def vmap(info, in_dims, call: _Call, needs: tuple, n_grads: int, *tensors):
        def row(*ts):
            # this row's inputs, not the forward's (which may have seen the whole batch)
            c = copy.copy(call)
            c.host_in = c.residuals = None
            return _BackwardBridge.apply(c, needs, n_grads, *ts)

        return _batched_loop(row, info, in_dims[3:], *tensors)


# ---------------------------------------------------------------- torch.compile
_SEP = "\x1f"


def _encode(op: Function, args: tuple, kwargs: dict):
    """Split a call into tensors, ints, floats and a constant string key."""
    parts = [op.key]
    tensors: list[torch.Tensor] = []
    ints: list[int] = []
    floats: list[float] = []
    items = [(None, a) for a in args] + list(kwargs.items())
    for k, a in items:
        tag = "" if k is None else k
        if isinstance(a, torch.Tensor):
            tensors.append(a)
            parts.append(tag + ":" + "T")
        elif a is None:
            parts.append(tag + ":" + "N")
        elif isinstance(a, bool):
            parts.append(tag + ":" + ("B1" if a else "B0"))
        elif isinstance(a, int):
            ints.append(a)
            parts.append(tag + ":" + "I")
        elif isinstance(a, float):
            floats.append(a)
            parts.append(tag + ":" + "F")
        elif isinstance(a, str):
            if _SEP in a:
                raise ValueError(
                    f"npgrad op '{op.name}': under torch.compile, string arguments may not "
                    "contain the character \\x1f"
                )
            parts.append(tag + ":" + "S" + a)
        else:
            raise TypeError(
                f"npgrad op '{op.name}': under torch.compile, arguments must be tensors, "
                f"int, float, bool, str or None; got {type(a).__name__}"
            )
    return _SEP.join(parts), tensors, ints, floats


def _decode(key: str, tensors, ints, floats) -> tuple[Function, tuple, dict]:
    fid, *parts = key.split(_SEP)
    op = _REGISTRY[fid]
    ti, ii, fi = iter(tensors), iter(ints), iter(floats)
    args: list = []
    kwargs: dict = {}
    for p in parts:
        name, _, code = p.partition(":")
        kind, rest = code[0], code[1:]
        if kind == "T":
            value: Any = next(ti)
        elif kind == "I":
            value = int(next(ii))
        elif kind == "F":
            value = float(next(fi))
        elif kind == "B":
            value = rest == "1"
        elif kind == "S":
            value = rest
        else:
            value = None
        if name:
            kwargs[name] = value
        else:
            args.append(value)
    return op, tuple(args), kwargs


def _meta_key(key: str, tensors, ints, floats) -> tuple:
    # int() and float(): under dynamic shapes these may be symbolic, which cannot be
    # hashed; concrete values make Dynamo recompile for a new value instead
    shapes = tuple((tuple(int(s) for s in t.shape), t.dtype) for t in tensors)
    return (key, shapes, tuple(int(i) for i in ints), tuple(float(f) for f in floats))


def _probes(shapes: tuple) -> list[list[torch.Tensor]]:
    """Inputs to find output shapes with: zeros; random values in [0.5, 1.5); the same
    plus a large diagonal (an invertible, positive definite matrix for linear algebra).
    Integer and bool inputs (labels, masks) stay zero in every probe."""
    gen = torch.Generator().manual_seed(0)

    def filled(s, d, diagonal):
        if not (d.is_floating_point or d.is_complex):
            return torch.zeros(s, dtype=d)
        t = 0.5 + torch.rand(s, generator=gen, dtype=torch.float64)
        if diagonal and len(s) >= 2 and s[-1] == s[-2]:
            t = t + s[-1] * torch.eye(s[-1], dtype=torch.float64)
        return t.to(d)

    return [
        [torch.zeros(s, dtype=d) for s, d in shapes],
        [filled(s, d, False) for s, d in shapes],
        [filled(s, d, True) for s, d in shapes],
    ]


def _shapes_differ(op: Function, first: list, second: list) -> NpgradError:
    return NpgradError(
        f"npgrad op '{op.name}': under torch.compile an op's output shapes must follow "
        "from its input shapes alone, but inputs of the same shapes gave "
        f"{[tuple(sh) for sh, _ in first]} and {[tuple(sh) for sh, _ in second]}. Call "
        "it outside the compiled region, or return a fixed shape (a mask instead of a "
        "selection)"
    )


def _meta(op: Function, key: str, tensors, ints, floats) -> tuple[list, str]:
    """Output shapes, dtypes and structure, found by running the forward on probes."""
    cache_key = _meta_key(key, tensors, ints, floats)
    if cache_key not in op._fake_cache:
        from torch._subclasses.fake_tensor import unset_fake_temporarily

        _, shapes, ints, floats = cache_key
        failures, found = [], []
        with unset_fake_temporarily():
            for probe in _probes(shapes):
                _, args, kwargs = _decode(key, probe, list(ints), list(floats))
                call = _Call.build(op, args, kwargs)
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        call.check_finite = False  # probes may well give inf: only shapes
                        call.forward(call.tensors)
                except Exception as e:  # noqa: BLE001 - any failure: try the next probe
                    failures.append(f"{type(e).__name__}: {e}")
                    continue
                found.append((call.out_meta, call.structure))
                if len(found) == 2:  # two probes that ran: enough to compare
                    break
        if not found:
            raise NpgradError(
                f"npgrad op '{op.name}': under torch.compile npgrad finds the output shapes "
                "by running the op on stand-in inputs of the same shapes (zeros, random "
                "values, random values with a large diagonal), and all of them failed; "
                f"the first: {failures[0]}"
            )
        if any(f != found[0] for f in found):
            # a compiled graph is built for one set of output shapes
            raise _shapes_differ(op, found[0][0], found[1][0])
        op._fake_cache[cache_key] = found[0]
    return op._fake_cache[cache_key]


# A tuple result is returned as [*outputs, marker], a single one as [output], so the
# structure is visible to Dynamo as the list's length (no side channel needed).
def _marker(device: torch.device) -> torch.Tensor:
    return torch.empty(0, dtype=torch.uint8, device=device)


# The ops run NumPy on the host and synchronise with the device, which a CUDA graph
# can neither capture nor replay: the tag keeps torch.compile(mode="reduce-overhead")
# from recording them (older torch has neither the tag nor the keyword).
_CUSTOM_OP_OPTIONS: dict[str, Any] = (
    {"tags": (torch.Tag.cudagraph_unsafe,)}
    if hasattr(torch.Tag, "cudagraph_unsafe")
    and "tags" in inspect.signature(torch.library.custom_op).parameters
    else {}
)


@torch.library.custom_op("npgrad::forward", mutates_args=(), **_CUSTOM_OP_OPTIONS)
def _forward_op(
    tensors: list[torch.Tensor], key: str, ints: list[int], floats: list[float]
) -> list[torch.Tensor]:
    op, args, kwargs = _decode(key, tensors, ints, floats)
    call = _Call.build(op, args, kwargs)
    # C order, as the fake kernel promised (NumPy keeps a transposed input's layout)
    outs = [o.contiguous() for o in call.forward(call.tensors)]
    meta = op._fake_cache.get(_meta_key(key, tensors, ints, floats))
    if meta is not None:
        got = [(tuple(o.shape), o.dtype) for o in outs]
        if got != [(tuple(sh), dt) for sh, dt in meta[0]]:
            # the graph was built for the probe's shapes: going on would be silently wrong
            raise _shapes_differ(op, meta[0], got)
    return outs + [_marker(call.device)] if call.structure == "tuple" else outs


@_forward_op.register_fake
def _(tensors, key, ints, floats):
    op = _REGISTRY[key.split(_SEP, 1)[0]]
    device = tensors[0].device
    meta, structure = _meta(op, key, tensors, ints, floats)
    outs = [torch.empty(s, dtype=d, device=device) for s, d in meta]
    return outs + [_marker(device)] if structure == "tuple" else outs


@torch.library.custom_op("npgrad::backward", mutates_args=(), **_CUSTOM_OP_OPTIONS)
def _backward_op(
    grads: list[torch.Tensor],
    tensors: list[torch.Tensor],
    outputs: list[torch.Tensor],
    key: str,
    ints: list[int],
    floats: list[float],
    wanted: list[bool],
) -> list[torch.Tensor]:
    op, args, kwargs = _decode(key, tensors, ints, floats)
    call = _Call.build(op, args, kwargs)
    call.structure = "tuple" if len(outputs) > 1 else "single"
    if call.structure == "tuple":
        grads, outputs = grads[:-1], outputs[:-1]
    # one gradient per differentiable input comes back; only the wanted ones are
    # computed (a backward may skip the rest, and numeric mode does), zeros elsewhere
    needs = tuple(_convert.is_differentiable(t) and w for t, w in zip(tensors, wanted))
    result = call.backward(tuple(grads), tuple(tensors), tuple(outputs), needs)
    return [
        g.contiguous() if g is not None else torch.zeros(t.shape, dtype=t.dtype, device=t.device)
        for g, t in zip(result, tensors)
        if _convert.is_differentiable(t)
    ]


@_backward_op.register_fake
def _(grads, tensors, outputs, key, ints, floats, wanted):
    return [
        torch.empty(t.shape, dtype=t.dtype, device=t.device)  # C order, as returned
        for t in tensors
        if _convert.is_differentiable(t)
    ]


class _CompiledBridge(torch.autograd.Function):
    @staticmethod
    def forward(key: str, ints: list, floats: list, *tensors: torch.Tensor):  # type: ignore[override]
        return tuple(_forward_op(list(tensors), key, ints, floats))

    @staticmethod
    def setup_context(ctx, inputs, output):
        key, ints, floats, *tensors = inputs
        ctx.key, ctx.ints, ctx.floats = key, ints, floats
        ctx.n_in = len(tensors)
        ctx.diff = [_convert.is_differentiable(t) for t in tensors]
        ctx.save_for_backward(*tensors, *output)
        nondiff = [o for o in output if not o.is_floating_point()]
        if nondiff:
            ctx.mark_non_differentiable(*nondiff)

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors
        tensors, outputs = list(saved[: ctx.n_in]), list(saved[ctx.n_in :])
        grads = [torch.zeros_like(o) if g is None else g for g, o in zip(grads, outputs)]
        wanted = list(ctx.needs_input_grad[3:])
        got = iter(_backward_op(grads, tensors, outputs, ctx.key, ctx.ints, ctx.floats, wanted))
        result = [next(got) if d else None for d in ctx.diff]
        return (None, None, None, *result)


def _call_compiled(op: Function, args: tuple, kwargs: dict) -> Any:
    key, tensors, ints, floats = _encode(op, args, kwargs)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        outs = _CompiledBridge.apply(key, ints, floats, *tensors)
    else:
        # no gradient can follow: the forward op alone (Dynamo cannot trace the
        # autograd.Function here, with its string and list inputs and no grad)
        outs = tuple(_forward_op(list(tensors), key, ints, floats))
    return outs[0] if len(outs) == 1 else outs[:-1]
