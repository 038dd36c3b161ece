"""One call of an op: its arguments bound, its tensors found and validated.

Shared by every route (eager, ``torch.func``, compiled) and every mode; it runs
no user code.
"""

from __future__ import annotations

from typing import Any

import torch

from ._dtypes import COMPUTE_DTYPE
from ._errors import NpgradError


class Call:
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
        "arg_names",
    )

    @classmethod
    def _blank(cls, op: Any, mode: str) -> Call:
        self = cls()
        self.op, self.mode = op, mode
        self.residuals = self.host_in = None
        self.check_finite, self.keep_residuals, self.all_tensors = True, False, False
        self.batch_rank = 0  # leading batch dimensions, in a batched vmap rule's call
        return self

    @classmethod
    def build(cls, op: Any, args: tuple, kwargs: dict) -> Call:
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
        self.slots: list[Any] = []
        self.names: list[str] = []
        self.tensors: list[torch.Tensor] = []
        self.arg_names = [
            names[i] if i < len(names) else f"args[{i}]" for i in range(len(self.args))
        ]
        for slot, name, a in [
            *((i, self.arg_names[i], a) for i, a in enumerate(self.args)),
            *((k, k, a) for k, a in self.kwargs.items()),
        ]:
            if isinstance(a, torch.Tensor):
                self.slots.append(slot)
                self.names.append(name)
                self.tensors.append(a)
            elif type(a) in (list, tuple, dict):
                # tensors inside containers (f(x, [w1, w2])): each is an input of its own
                for path, t in nested_tensors(a):
                    if self.mode != "auto":
                        raise TypeError(
                            f"npgrad op '{op.name}': argument '{name}' holds a tensor inside "
                            f"a {type(a).__name__} ({name}{_path_text(path)}); in "
                            f"mode={self.mode!r} pass each tensor as an argument of its own "
                            "(a backward returns one gradient per tensor argument), or use "
                            "mode='auto', which follows tensors inside containers"
                        )
                    self.slots.append((slot, *path))
                    self.names.append(f"{name}{_path_text(path)}")
                    self.tensors.append(t)
        self._validate()
        if self.mode == "numpy" and op.bwd is None:
            raise NpgradError(
                f"npgrad op '{op.name}': mode='numpy' needs a backward; register one with "
                f"@{op.name}.backward, or use mode='auto' or mode='numeric'"
            )
        return self

    @classmethod
    def quick(cls, op: Any, args: tuple, mode: str) -> Call | None:
        """A call built without binding or per-argument checks, for arguments that
        :func:`uniform_tensors` accepts; ``None`` otherwise (take :meth:`build`)."""
        dtype = uniform_tensors(op, args)
        if dtype is None or (mode == "numpy" and op.bwd is None):
            return None
        self = cls()  # _blank's state, written out: this runs on every quick call
        self.op, self.mode = op, mode
        self.residuals = self.host_in = None
        self.check_finite, self.keep_residuals, self.all_tensors = True, False, True
        self.batch_rank = 0
        self.args, self.kwargs = list(args), {}
        self.slots = list(range(len(args)))
        self.names = self.arg_names = op._positional
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
        for slot, name, t in zip(self.slots, self.names, self.tensors):
            if t.device != device:
                raise ValueError(
                    f"npgrad op '{op.name}': argument '{name}' is on {t.device} but "
                    f"'{self.names[0]}' is on {device}; move them to one device"
                )
            differentiable = t.dtype in COMPUTE_DTYPE
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
                # autocast gives mixed float dtypes: torch's promotion, whatever the order
                dtype = t.dtype if dtype is None else torch.promote_types(dtype, t.dtype)
                # integer and bool inputs (labels, masks) may have other shapes, and so
                # may tensors inside containers (a model's parameters, f(x, [w, b]))
                if same_shape and not isinstance(slot, tuple):
                    if ref_shape is None:
                        ref_name, ref_shape = name, t.shape
                    elif t.shape != ref_shape:
                        raise ValueError(
                            f"npgrad.loss '{op.name}': argument '{name}' has shape "
                            f"{tuple(t.shape)} but '{ref_name}' has shape {tuple(ref_shape)}; "
                            "pass broadcast=True to npgrad.loss if the shapes differ on "
                            "purpose (it turns this check off)"
                        )
        if same_shape and ref_shape is not None:
            self._check_array_shapes(ref_name, ref_shape)
        self.device, self.dtype = device, dtype

    def _check_array_shapes(self, ref_name: str, ref_shape: Any) -> None:
        """A floating NumPy array or list among a loss's arguments (a target) must have
        the tensors' shape too: broadcasting it would silently change the loss."""
        import numpy as np

        named = [*zip(self.arg_names, self.args), *self.kwargs.items()]
        for name, a in named:
            if isinstance(a, np.ndarray) or (type(a) is list and not nested_tensors(a)):
                arr = np.asarray(a) if type(a) is list else a
                if arr.dtype.kind == "f" and tuple(arr.shape) != tuple(ref_shape):
                    raise ValueError(
                        f"npgrad.loss '{self.op.name}': argument '{name}' has shape "
                        f"{tuple(arr.shape)} but '{ref_name}' has shape "
                        f"{tuple(ref_shape)}; pass broadcast=True to npgrad.loss if the shapes "
                        "differ on purpose (it turns this check off)"
                    )

    def numpy_args(self, arrays: list) -> tuple[list, dict]:
        if self.all_tensors:  # every argument positional and a tensor
            return list(arrays), {}
        args, kwargs = list(self.args), dict(self.kwargs)
        nested: dict[Any, list] = {}
        for slot, arr in zip(self.slots, arrays):
            if isinstance(slot, tuple):
                nested.setdefault(slot[0], []).append((slot[1:], arr))
            elif isinstance(slot, int):
                args[slot] = arr
            else:
                kwargs[slot] = arr
        for top, items in nested.items():
            # inside a container: rebuilt once for all its tensors, never mutated
            where = args if isinstance(top, int) else kwargs
            where[top] = _replaced(where[top], items)
        return args, kwargs

    def unpack(self, outs: tuple) -> Any:
        return outs if self.structure == "tuple" else outs[0]


def uniform_tensors(op: Any, args: tuple, labels: bool = False) -> torch.dtype | None:
    """The dtype when every argument is a tensor of one floating dtype on one device
    (and, for a loss without ``broadcast``, of one non-empty shape); else ``None``.
    Such a call passes every check of :meth:`Call._validate`.  With ``labels``, after
    a floating first argument, integer and bool tensors (labels, masks: of any shape,
    as ``_validate`` allows them) pass too."""
    first = args[0]
    if not isinstance(first, torch.Tensor):
        return None
    dtype, device = first.dtype, first.device
    if dtype not in COMPUTE_DTYPE:
        return None
    is_loss = op.is_loss
    if is_loss and not first.numel():
        return None
    shape = first.shape if is_loss and not op.broadcast else None
    for a in args[1:]:  # the first passes every test below by construction
        if not isinstance(a, torch.Tensor) or a.device != device or (is_loss and not a.numel()):
            return None
        if a.dtype != dtype:
            if not labels or a.dtype in COMPUTE_DTYPE or a.is_complex() or a.is_floating_point():
                return None
        elif shape is not None and a.shape != shape:
            return None
    return dtype


def nested_tensors(value: Any, path: tuple = ()) -> list[tuple[tuple, torch.Tensor]]:
    """(path, tensor) for every tensor inside nested lists, tuples and dicts."""
    if isinstance(value, torch.Tensor):
        return [(path, value)]
    if type(value) in (list, tuple):
        return [f for i, v in enumerate(value) for f in nested_tensors(v, (*path, i))]
    if type(value) is dict:
        return [f for k, v in value.items() for f in nested_tensors(v, (*path, k))]
    return []


def _path_text(path: tuple) -> str:
    return "".join(f"[{p!r}]" for p in path)


def _replaced(container: Any, items: list) -> Any:
    """A copy of ``container`` with the element at each (path, value) of ``items``
    replaced (a path of ``()`` replaces the container itself)."""
    heads: dict[Any, list] = {}
    for path, value in items:
        if not path:
            return value
        heads.setdefault(path[0], []).append((path[1:], value))
    if type(container) is dict:
        return {**container, **{h: _replaced(container[h], sub) for h, sub in heads.items()}}
    out = list(container)
    for h, sub in heads.items():
        out[h] = _replaced(out[h], sub)
    return type(container)(out)


# ------------------------------------------------------------ the backward's binding
_BACKWARD_EXTRAS = ("out", "residuals", "needs_input_grad")


class BackwardPlan:
    """How a registered backward receives its arguments, decided at registration.

    ``"names"``: ``g`` first, then every other parameter by its name: the forward's
    parameters (arrays for tensors), ``out``, ``residuals``, ``needs_input_grad``.
    ``"positional"``: ``bwd(g, *args, out, **kwargs)`` in the forward's order, only
    where that cannot put a value in the wrong slot (the forward has no optional or
    variadic parameters) or where the signatures cannot be read.
    """

    __slots__ = ("mode", "names", "wants_needs", "wants_res", "var_kw", "out_by_name")

    def __init__(self, mode: str, names: tuple = (), *, params: Any = ()) -> None:
        self.mode, self.names = mode, names
        # bwd(g, x, *rest, out): after a *args parameter, out can only be given by name
        out = params.get("out") if hasattr(params, "get") else None
        self.out_by_name = out is not None and out.kind is out.KEYWORD_ONLY
        self.wants_needs = "needs_input_grad" in params
        self.wants_res = "residuals" in params
        self.var_kw = any(p.kind is p.VAR_KEYWORD for p in getattr(params, "values", list)())


def backward_plan(op: Any, bwd: Any) -> BackwardPlan:
    """The plan for ``bwd`` against ``op``'s forward; refuses an ambiguous backward."""
    import inspect

    try:
        params = inspect.signature(bwd).parameters
    except (TypeError, ValueError):
        return BackwardPlan("positional")
    # a ufunc forward's signature lists options that are never filled in: its
    # arguments are exactly those given, in order
    fwd = getattr(op, "signature", None) if getattr(op, "_fill_defaults", True) else None
    plist = list(params.values())
    if fwd is None or not plist or plist[0].kind is plist[0].VAR_POSITIONAL:
        return BackwardPlan("positional", params=params)
    fparams = list(fwd.parameters.values())
    fnames = [p.name for p in fparams]
    rest = [p for p in plist[1:] if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    variadic_fwd = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in fparams)
    known = set(fnames) | set(_BACKWARD_EXTRAS)
    positional_only = any(p.kind is p.POSITIONAL_ONLY for p in plist[1:])
    if not variadic_fwd and not positional_only and all(p.name in known for p in rest):
        if "out" not in params and not any(p.kind is p.VAR_KEYWORD for p in plist):
            raise _ambiguous(op, bwd, fparams, "it has no parameter 'out'")
        return BackwardPlan("names", tuple(p.name for p in rest), params=params)
    optional = any(p.default is not p.empty for p in fparams)
    if variadic_fwd or not optional:
        # the forward's own order, unambiguous: every forward argument is always given
        return BackwardPlan("positional", params=params)
    unknown = [p.name for p in rest if p.name not in known]
    raise _ambiguous(op, bwd, fparams, f"its parameters {unknown} are none of the forward's")


def _ambiguous(op: Any, bwd: Any, fparams: list, why: str) -> Exception:
    required = [p.name for p in fparams if p.default is p.empty]
    optional = [f"{p.name}={p.default!r}" for p in fparams if p.default is not p.empty]
    expected = ", ".join(["g", *required, "out", *optional])
    name = getattr(bwd, "__name__", "backward")
    return NpgradError(
        f"npgrad op '{op.name}': the backward {name}() cannot be matched to the forward "
        f"({why}). A backward receives g, then the forward's parameters by name, then "
        f"out: def {name}({expected}, *, residuals=None, needs_input_grad=None)"
    )


def backward_arguments(
    call: Call, plan: BackwardPlan, g: Any, inputs: list, out: Any, needs: tuple, residuals: Any
) -> tuple[list, dict]:
    """The positional and keyword arguments of the backward for one call."""
    args, kwargs = call.numpy_args(inputs)
    if plan.mode == "positional":
        kwargs = dict(kwargs)
        if plan.wants_needs:
            kwargs["needs_input_grad"] = needs
        if plan.wants_res:
            kwargs["residuals"] = residuals
        if plan.out_by_name:
            kwargs["out"] = out
            return [g, *args], kwargs
        return [g, *args, out], kwargs
    values = dict(zip(call.op._positional, args))
    values.update(kwargs)
    values["out"], values["residuals"], values["needs_input_grad"] = out, residuals, needs
    if plan.var_kw:
        chosen = {k: v for k, v in values.items() if k not in _BACKWARD_EXTRAS or k in plan.names}
        chosen.setdefault("out", out)
    else:
        chosen = {k: values[k] for k in plan.names if k in values}
    return [g], chosen
