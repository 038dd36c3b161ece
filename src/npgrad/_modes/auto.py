"""Automatic mode: the op's NumPy code runs on the engine, autograd recording."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._call import Call, uniform_tensors
from .._dtypes import COMPUTE_DTYPE
from .._errors import NpgradError, TraceError, prefix
from .._policy import all_finite, report_nonfinite, require_scalar_loss, run_user
from .._trace import _engine
from .._trace._array import TracedArray
from .._trace._state import abstract, constant
from .._trace._write import caller_mark, hidden

_rows = False


def tracing(name: str, device: torch.device, fn: Any):
    """The engine's ``tracing``, once the registry's rows are loaded.

    The rows (``_mappings``) are imported on the first trace, not with this module:
    they take about 0.14 s, which an op with a registered backward never needs.
    """
    global _rows
    if not _rows:
        from .. import _mappings  # noqa: F401 - the registry's rows

        _rows = True
    return _engine.tracing(name, device, fn)


def vmap_refusal(op: Any, e: BaseException) -> TraceError | None:
    """torch's error for a value read under ``torch.func.vmap`` (``.item()``, an
    ``if`` on an array, a boolean mask: what a batch has no one value for), as a
    TraceError naming the op, the user's line and what to do instead; else ``None``."""
    msg = str(e)
    if type(e) is not RuntimeError or not msg.startswith("vmap:"):
        return None
    where, tb = "?", e.__traceback__
    while tb is not None:  # the innermost frame of the user's own code
        mod = tb.tb_frame.f_globals.get("__name__", "")
        if not mod.startswith(("npgrad.", "numpy", "torch", "scipy")):
            where = f"{mod}.{tb.tb_frame.f_code.co_name}, line {tb.tb_lineno}"
        tb = tb.tb_next
    why = msg.removeprefix("vmap:").strip().split(". ")[0]
    return TraceError(
        f"{prefix(op.name, 'auto')}: under torch.func.vmap the NumPy code reads an "
        f"array's values (in {where}), which vmap cannot batch: each example has values "
        f"of its own (torch: {why}). Compute without reading values (np.where(c, a, b) "
        "instead of an if, a mask instead of a selection), or call the op once per example"
    )


def _check_output(op: Any, j: int, r: torch.Tensor, dtype: Any, device: torch.device, check: bool):
    if r.is_complex():
        raise TypeError(
            f"npgrad op '{op.name}': output {j} is complex; return a real array "
            "(for example np.abs of the spectrum)"
        )
    require_scalar_loss(op, r.shape)
    if r.is_floating_point():
        if dtype is not None and r.dtype != dtype:
            r = r.to(dtype)
        # reading a finiteness check's answer is a device-to-host copy: off the CPU only
        # an explicit nonfinite="raise" pays for it; under torch.func values are abstract
        if (
            check
            and (op.nonfinite == "raise" or (op.nonfinite == "warn" and device.type == "cpu"))
            and not abstract()
            and not all_finite(r)
        ):
            report_nonfinite(op, f"output {j}")
    return r


def outputs(
    op: Any, out: Any, dtype: Any, device: torch.device, check: bool, inputs: Any = ()
) -> tuple[tuple[torch.Tensor, ...], str]:
    structure = "tuple" if isinstance(out, tuple) else "single"
    outs = out if structure == "tuple" else (out,)
    results = []
    for j, o in enumerate(outs):
        if isinstance(o, TracedArray):
            r = o.t
        elif isinstance(o, (np.ndarray, np.generic, int, float, bool)):
            r = constant(o, device)
        else:
            raise TypeError(
                f"npgrad op '{op.name}': output {j} is not array-like: {type(o).__name__}"
            )
        if any(r is a for a in inputs):
            r = r.view_as(r)  # an op returns a new tensor (here a view), never its input
        r = _check_output(op, j, r, dtype, device, check)
        if (
            r.is_floating_point()
            and not r.requires_grad
            and torch.is_grad_enabled()
            and not torch._C._are_functorch_transforms_active()
        ):
            # a constant result (an empty mask's 0.0): connected to the inputs with a
            # zero gradient, as a registered backward would be, so backward() works
            # (torch.func gives a constant its zero derivative itself, and refuses a
            # Function without setup_context)
            wanting = [a for a in inputs if isinstance(a, torch.Tensor) and a.requires_grad]
            if wanting:
                r = _Constant.apply(r, *wanting)
        results.append(r)
    return tuple(results), structure


class _Constant(torch.autograd.Function):
    """An output that does not depend on the inputs, with their (zero) gradients."""

    @staticmethod
    def forward(ctx, r, *inputs):  # type: ignore[override]
        ctx.like = [(i.shape, i.dtype, i.device) for i in inputs]
        return r.clone()

    @staticmethod
    def backward(ctx, g):
        zeros = [torch.zeros(s, dtype=d, device=dev) for s, d, dev in ctx.like]
        return (None, *zeros)


def evaluate(call: Call, tensors: list[torch.Tensor]) -> tuple[tuple[torch.Tensor, ...], str]:
    """Run ``call``'s NumPy function on ``tensors`` through the engine.

    Returns the outputs as tensors (with autograd history when grad is enabled)
    and the structure (``"single"`` or ``"tuple"``).
    """
    device = tensors[0].device if tensors else torch.device("cpu")
    slots = range(len(tensors)) if call.all_tensors else call.slots
    arrays = [TracedArray(t, caller_mark(s)) for t, s in zip(tensors, slots)]
    args, kwargs = call.numpy_args(arrays)
    op = call.op
    with tracing(op.name, device, op.fn):
        try:
            out = run_user(op, "forward", op.fn, args, kwargs)
        except ValueError as e:
            if hidden(e) is not None:
                raise hidden(e) from None
            raise
        except RuntimeError as e:
            refused = vmap_refusal(op, e)
            if refused is not None:
                raise refused from e
            raise
    return outputs(op, out, call.dtype, device, call.check_finite, tensors)


def run_traced(call: Call) -> Any:
    """Eager automatic mode: autograd records the torch ops directly."""
    outs, structure = evaluate(call, call.tensors)
    return outs if structure == "tuple" else outs[0]


def run_fast(op: Any, args: tuple) -> Any:
    """Eager automatic mode for the common call: positional tensors only, one
    device, one floating dtype and (for a loss) one non-empty shape.

    Returns ``None`` for any other call, which then takes the general route
    (``Call.build``, which also words the errors).  In a training loop this Python
    runs with cold caches and costs as much as a small loss's kernels, so it does
    ``_check_output``'s checks inline, in as few steps as it can.
    """
    dtype = uniform_tensors(op, args, labels=True)
    if dtype is not None:
        device = args[0].device
        wrapped = [TracedArray(a, caller_mark(i)) for i, a in enumerate(args)]
        inputs = args
    else:
        found = _in_containers(op, args)
        if found is None:
            return None
        dtype, device, wrapped, inputs = found
    with tracing(op.name, device, op.fn):
        try:
            out = op.fn(*wrapped)
        except Exception as e:
            if hidden(e) is not None:
                raise hidden(e) from None
            refused = vmap_refusal(op, e)
            if refused is not None:
                raise refused from e
            if not isinstance(e, NpgradError):
                e.add_note(f"(raised in the forward of npgrad op '{op.name}')")
            raise
    if isinstance(out, TracedArray):
        r = out.t
        # (a result without history while grad is on, a constant, goes to outputs(),
        # which connects it to the inputs with a zero gradient, as the general route)
        if (
            r.dtype == dtype
            and (r.ndim == 0 or not op.is_loss)
            and (r.requires_grad or not torch.is_grad_enabled())
        ):
            for a in inputs:
                if r is a:
                    break  # the input itself: the general route returns a view
            else:
                # the float result of the input's dtype: only the finiteness policy is left
                policy = op.nonfinite
                if (
                    policy != "ignore"
                    and (policy == "raise" or device.type == "cpu")
                    and not abstract()
                    and not all_finite(r)
                ):
                    report_nonfinite(op, "output 0")
                return r
    outs, structure = outputs(op, out, dtype, device, True, inputs)
    return outs if structure == "tuple" else outs[0]


def _in_containers(op: Any, args: tuple) -> tuple | None:
    """:func:`run_fast`'s call with parameters in containers (``f(params, x, y)``, a
    dict or list of tensors, one level deep): every tensor on one device, the floating
    ones of one dtype, the others integer or bool (labels), for a loss none empty and
    the top-level floating ones of one shape; that is a call ``Call.build`` accepts
    with these dtype and device.  Returns ``(dtype, device, the arguments as the
    function sees them, the tensors)``, or ``None`` (the general route)."""
    dtype = device = shape = None
    loss, same_shape = op.is_loss, op.is_loss and not op.broadcast
    wrapped: list[Any] = []
    tensors: list[torch.Tensor] = []
    for i, a in enumerate(args):
        kind = type(a)
        if kind is dict:
            items = list(a.items())
        elif kind is list or kind is tuple:
            items = list(enumerate(a))
        elif isinstance(a, torch.Tensor):
            items = None
        else:
            return None
        if items is not None and not items:
            return None  # an empty list is an array of its own to a loss's shape check
        for _, t in ((None, a),) if items is None else items:
            if not isinstance(t, torch.Tensor) or (loss and not t.numel()):
                return None
            if device is None:
                device = t.device
            elif t.device != device:
                return None
            if t.dtype in COMPUTE_DTYPE:
                if dtype is None:
                    dtype = t.dtype
                elif t.dtype is not dtype:
                    return None
                if same_shape and items is None:
                    if shape is None:
                        shape = t.shape
                    elif t.shape != shape:
                        return None
            elif t.is_floating_point() or t.is_complex():
                return None
            tensors.append(t)
        if items is None:
            wrapped.append(TracedArray(a, caller_mark(i)))
            continue
        # a new container of the caller's kind, never the caller's own
        arrays = [(key, TracedArray(t, caller_mark((i, key)))) for key, t in items]
        if kind is dict:
            wrapped.append(dict(arrays))
        else:
            wrapped.append(kind(v for _, v in arrays))
    if dtype is None or all(type(a) is not kind for a in args for kind in (dict, list, tuple)):
        return None  # no container: uniform_tensors has declined the call
    return dtype, device, wrapped, tensors


def forward(call: Call, tensors: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """The opaque (compiled) route's forward: the trace without autograd."""
    with torch.no_grad():
        outs, call.structure = evaluate(call, tensors)
    call.out_meta = [(tuple(r.shape), r.dtype) for r in outs]
    storages = {t.untyped_storage().data_ptr() for t in tensors}
    return tuple(o.clone() if o.untyped_storage().data_ptr() in storages else o for o in outs)


def backward(
    call: Call, grads: tuple, inputs: tuple, needs: tuple[bool, ...], outputs: tuple = ()
) -> list:
    """The opaque route's backward: recompute the trace with autograd on.

    The recomputation must be the forward's: its values are compared with the saved
    outputs (a random draw from a ``np.random.Generator`` would differ), and a leaf
    of its graph that is no input (a captured tensor that requires grad) is refused:
    either would make this gradient silently another function's."""
    with autograd_inside_kernel(), torch.enable_grad():
        leaves = [t.detach().requires_grad_(n) for t, n in zip(inputs, needs)]
        outs, _ = evaluate(call, leaves)
        _same_as_forward(call, outs, outputs)
        _no_foreign_leaves(call, outs, leaves)
        pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
        wanted = [t for t, n in zip(leaves, needs) if n]
        outs_, grads_ = [o for o, _ in pairs], [g for _, g in pairs]
        got = iter(torch.autograd.grad(outs_, wanted, grads_, allow_unused=True))
    return [next(got) if n else None for n in needs]


def _same_as_forward(call: Call, outs: tuple, saved: tuple) -> None:
    for j, (o, s) in enumerate(zip(outs, saved)):
        if o.is_floating_point() and o.shape == s.shape:
            same = torch.allclose(o.detach(), s, rtol=1e-6, atol=1e-12, equal_nan=True)
        else:
            same = o.shape == s.shape and torch.equal(o.detach(), s)
        if not same:
            raise NpgradError(
                f"npgrad op '{call.op.name}': under torch.compile its backward re-runs the "
                f"forward, and the re-run gave other values (output {j}): the function "
                "reads state that changes between calls, such as a np.random.Generator or "
                "Python's random module (NumPy's global np.random is replayed). Draw the "
                "random numbers outside and pass them as an argument, or call the op "
                "outside the compiled region"
            )


def _no_foreign_leaves(call: Call, outs: tuple, leaves: list) -> None:
    mine = {id(t) for t in leaves}
    seen, stack = set(), [o.grad_fn for o in outs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)  # an AccumulateGrad: a leaf
        if variable is not None and id(variable) not in mine:
            raise NpgradError(
                f"npgrad op '{call.op.name}': under torch.compile it uses a tensor that "
                "requires grad without receiving it as an argument (a closure or a "
                "global, such as lambda x: np.sum(x * w)); that tensor would silently get "
                "no gradient. Pass it as an argument: f(x, w)"
            )
        stack.extend(f for f, _ in node.next_functions)


def autograd_inside_kernel():
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
