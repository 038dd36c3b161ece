"""numpy mode: the op's NumPy forward and its registered backward, on the host.

The functions take the call as their first argument (``self``): they are the
host half of a ``Call``, kept apart from binding so that modes and routes do not
import each other.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import torch

from .. import _convert
from .._call import Call, backward_arguments
from .._dtypes import COMPUTE_DTYPE, HALF, SAME_ON_HOST, numpy_dtype
from .._errors import BackwardError, describe
from .._policy import (
    all_finite,
    check_finite,
    legacy_batched,
    report_nonfinite,
    require_scalar_loss,
    run_user,
)


def forward(self: Call, tensors: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """Run the NumPy forward on ``tensors``; return torch outputs on their device."""
    arrays = _convert.to_numpy(tensors)
    # kept for the backward: on CUDA this saves copying the inputs to the host again
    # (autograd's saved-tensor version check still catches in-place changes)
    self.host_in = arrays
    args, kwargs = self.numpy_args(arrays)
    if self.op.fwd_res is not None and self.mode == "numpy" and self.keep_residuals:
        pair = run_user(self.op, "forward", self.op.fwd_res, args, kwargs)
        # an array of two rows would unpack too: only a tuple or list is a pair
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(
                f"npgrad op '{self.op.name}': the @def_fwd forward must return "
                f"(output, residuals), got {describe(pair)}"
            )
        out, self.residuals = pair
        del pair  # only `out` refers to the output here (see _kept)
    else:
        out = run_user(self.op, "forward", self.op.fn, args, kwargs)
    if _SCALARS.get(type(out), False) is self.dtype and tensors[0].is_cpu:
        # a NumPy scalar of the input's dtype (np.mean's value, a loss's typically):
        # the checks of outputs_from_numpy that apply, in the fewest steps (a training
        # step runs this with cold caches, where every call and lookup costs)
        self.structure = "single"
        if self.check_finite and self.op.nonfinite != "ignore" and not math.isfinite(out):
            report_nonfinite(self.op, "output 0")
        result = torch.from_numpy(np.asarray(out))  # a fresh array: no memory shared
        self.out_meta = [((), result.dtype)]
        return (result,)
    # an output must not share memory with a residual: a backward may change the
    # residual in place (the losses.mse pattern), which would change the output too
    avoid = [*arrays, *_arrays_in(self.residuals)]
    return outputs_from_numpy(self, out, avoid, tensors[0].device)


# NumPy scalars of the SAME_ON_HOST dtypes, and those dtypes
_SCALARS = {np.float32: torch.float32, np.float64: torch.float64}

# the references to a fresh output, as forward calls outputs_from_numpy: forward's
# local, outputs_from_numpy's parameter (or the output tuple and the loop variable),
# and getrefcount's argument (CPython; elsewhere a count too high costs a copy)
_FRESH_OUT_REFS = 3


def _kept(value: Any) -> bool:
    """Whether the forward also keeps this output array (a buffer filled with out=):
    handed out as it is, the next call would change the tensor already returned."""
    return isinstance(value, np.ndarray) and sys.getrefcount(value) > _FRESH_OUT_REFS + 1


def outputs_from_numpy(self: Call, out: Any, arrays: list, device: torch.device) -> tuple:
    op = self.op
    if _kept(out):
        out = out.copy()
    scalar = type(out) in _SCALARS
    if (
        device.type == "cpu"
        and self.dtype in SAME_ON_HOST
        and (scalar or type(out) is np.ndarray)
        and out.dtype == numpy_dtype(self.dtype)
    ):
        # one float array or NumPy scalar of the input's dtype (a loss's value,
        # typically: np.mean gives a scalar): the same checks as below, in fewer steps
        self.structure = "single"
        if self.check_finite and op.nonfinite != "ignore":
            if not (math.isfinite(out.item()) if out.ndim == 0 else all_finite(out)):
                report_nonfinite(op, "output 0")
        require_scalar_loss(op, out.shape[self.batch_rank :])
        # a scalar becomes a fresh array, which shares no one's memory
        avoid = () if scalar else arrays
        result = _convert.from_numpy(out, dtype=self.dtype, device=device, avoid=avoid)
        self.out_meta = [(out.shape, result.dtype)]
        return (result,)
    self.structure = "tuple" if isinstance(out, tuple) else "single"
    outs = out if isinstance(out, tuple) else (out,)
    results = []
    for j, o in enumerate(outs):
        if _kept(o):
            o = o.copy()
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
                check_finite(op, arr, f"output {j}")
            dtype = self.dtype
        else:
            dtype = None
        require_scalar_loss(op, arr.shape[self.batch_rank :])
        r = _convert.from_numpy(arr, dtype=dtype, device=device, avoid=arrays)
        if self.check_finite and dtype in HALF and op.nonfinite != "ignore":
            # a finite float32 value may overflow float16's range on the way back
            if not bool(r.isfinite().all()) and np.isfinite(arr).all():
                report_nonfinite(op, f"output {j} (in {dtype})")
        results.append(r)
        arrays.append(arr)  # a later output must not share this one's memory
    self.out_meta = [(tuple(r.shape), r.dtype) for r in results]
    return tuple(results)


def backward(
    self: Call, grads: tuple, inputs: tuple, outputs: tuple, needs: tuple[bool, ...]
) -> list[torch.Tensor | None]:
    op = self.op
    if op.torch_backward:
        result = _user_backward(self, grads, inputs, outputs, needs)
        return _check_grads(self, result, inputs, as_tensor=True, needs=needs)
    n_out = len(grads)
    if self.host_in is not None:
        in_np = self.host_in
        arrays = _convert.to_numpy([*grads, *outputs])
        g_np, out_np = arrays[:n_out], arrays[n_out:]
    else:
        arrays = _convert.to_numpy([*grads, *inputs, *outputs])
        g_np, in_np = arrays[:n_out], arrays[n_out : n_out + len(inputs)]
        out_np = arrays[n_out + len(inputs) :]
    # a gradient must own its memory: not an input's, not a residual's (a later
    # backward would see it changed), not another gradient's (accumulating into
    # one .grad would change the other), not a buffer the backward keeps; the result
    # is passed on directly, so that only its container refers to it (see _owned)
    return _check_grads(
        self, _user_backward(self, g_np, in_np, out_np, needs), inputs, as_tensor=False, needs=needs
    )


def _user_backward(self: Call, grads, inputs, outputs, needs: tuple[bool, ...]) -> Any:
    """Call the registered backward, its arguments bound by its plan (``_call``)."""
    op = self.op
    g = tuple(grads) if self.structure == "tuple" else grads[0]
    out = tuple(outputs) if self.structure == "tuple" else outputs[0]
    residuals = self.residuals
    # residuals serve one backward: a backward may change them in place (d *= g) or
    # consume them (pop), so a second pass through the same graph (retain_graph,
    # torch.autograd.functional.jacobian's rows) gets None and recomputes, as the
    # contract allows, instead of reading what the first pass left
    self.residuals = None
    args, kwargs = backward_arguments(self, op._bwd_plan, g, list(inputs), out, needs, residuals)
    return run_user(op, "backward", op.bwd, args, kwargs)


def _check_grads(self: Call, result: Any, inputs: tuple, *, as_tensor: bool, needs=()) -> list:
    op = self.op
    n = len(inputs)
    if n == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    elif isinstance(result, (tuple, list)) and len(result) != n and len(result) == len(self.args):
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
    _refuse_missing(self, inputs, result, needs)
    for name, t, g in zip(self.names, inputs, result):
        if g is None or t.dtype not in COMPUTE_DTYPE:
            out.append(None)
            continue
        if not as_tensor and not isinstance(g, (np.ndarray, np.generic)):
            g = _as_array(self, g, name, t)
        shape = getattr(g, "shape", ())
        if shape != t.shape:  # a tuple against a torch.Size: equal when the dims are
            raise BackwardError(
                f"npgrad op '{op.name}': the gradient for '{name}' has shape "
                f"{tuple(shape)}, but '{name}' has shape {tuple(t.shape)}"
            )
        if as_tensor:
            if not isinstance(g, torch.Tensor) or not _castable(g.dtype, t.dtype):
                raise BackwardError(
                    f"npgrad op '{op.name}': the torch backward's gradient for '{name}' "
                    f"must be a real floating tensor (cast to {t.dtype}), got {describe(g)}"
                )
            if g.dtype != t.dtype:  # autograd's own rule: cast to the input's dtype
                g = g.to(t.dtype)
            if (
                op.nonfinite != "ignore"
                and (op.nonfinite == "raise" or g.is_cpu)
                # a batch of gradients (torch.func's vmap, autograd's is_grads_batched)
                # has no values to read: automatic mode's outputs go unchecked there too
                and not torch._C._are_functorch_transforms_active()
                and not legacy_batched(g)
            ):
                check_finite(op, g, f"the gradient for '{name}'")
            out.append(g)
            continue
        gdtype = getattr(g, "dtype", None)
        if gdtype is None or np.dtype(gdtype).kind != "f":
            raise BackwardError(
                f"npgrad op '{op.name}': the gradient for '{name}' has dtype {gdtype}; "
                f"expected a real floating array (it is cast to {numpy_dtype(t.dtype)}, the "
                f"dtype NumPy saw for '{name}', a {t.dtype} tensor)"
            )
        check_finite(op, g, f"the gradient for '{name}'")
        if isinstance(g, np.ndarray) and not _owned(g):
            # memory the backward keeps (a buffer reused every step), or an input's, a
            # residual's, another gradient's: autograd would accumulate into it, and
            # the next step's write would change this gradient
            g = g.copy()
        # owned or copied, an array shares no one's memory (nor does the fresh array a
        # NumPy scalar or a number becomes): from_numpy needs no arrays to avoid
        if (
            type(g) is np.ndarray
            and t.is_cpu
            and _SCALARS.get(g.dtype.type, False) is t.dtype
            and g.dtype.isnative  # torch refuses another byte order
            and g.flags.writeable
            and (g.ndim == 0 or min(g.strides) >= 0)
        ):
            out.append(torch.from_numpy(g))  # what from_numpy does here, in one step
        else:
            out.append(_convert.from_numpy(g, dtype=t.dtype, device=t.device))
    return out


def _refuse_missing(self: Call, inputs: tuple, result: Any, needs: tuple) -> None:
    """A None for an input whose gradient is wanted: autograd would read it as "no
    gradient", silently; refused, naming the input.  (Apart from _check_grads' loop,
    whose references to each gradient _owned counts.)"""
    for name, t, g, need in zip(self.names, inputs, result, needs):
        if g is None and need and t.dtype in COMPUTE_DTYPE:
            raise BackwardError(
                f"npgrad op '{self.op.name}': the backward returned None for '{name}', "
                "whose gradient is wanted (it requires grad); return its gradient (zeros "
                "if it has none), or read needs_input_grad to skip only unwanted ones"
            )


def _castable(got: torch.dtype, want: torch.dtype) -> bool:
    return got.is_floating_point and not got.is_complex


# the references to a gradient nobody else holds, as _check_grads calls _owned: the
# backward's result container, zip's cached item tuple, the loop variable, _owned's
# parameter and getrefcount's argument (CPython; elsewhere a count too high only
# costs a copy)
_FRESH_REFS = 5


def _owned(g: np.ndarray) -> bool:
    """Whether ``g``'s memory belongs to no one but this gradient: a fresh array (or a
    view chain ending in one) that only the backward's result refers to."""
    if sys.getrefcount(g) > _FRESH_REFS:
        return False
    base = g.base
    while base is not None:
        # a base is referred to by its view's .base, and by getrefcount's argument
        if not isinstance(base, np.ndarray) or sys.getrefcount(base) > 2 + 1:
            return False
        base = base.base
    return True


def _as_array(self: Call, g: Any, name: str, t: torch.Tensor) -> np.ndarray:
    """A NumPy backward's gradient that is no array: a plain number for a 0-d input
    is one; anything else is refused with what came back."""
    if isinstance(g, (int, float)) and not isinstance(g, bool) and t.ndim == 0:
        return np.asarray(g, dtype=numpy_dtype(t.dtype))
    hint = (
        "; a backward written in torch ops is registered with @op.backward(torch_ops=True)"
        if isinstance(g, torch.Tensor)
        else ""
    )
    raise BackwardError(
        f"npgrad op '{self.op.name}': the gradient for '{name}' must be a NumPy array, "
        f"got {describe(g)}{hint}"
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
