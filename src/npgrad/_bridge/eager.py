"""The eager routes: ``torch.autograd.Function``s around a call's host work.

* :class:`FastBridge`: old-style (its ``apply`` is cheapest), for plain autograd;
* :class:`EagerBridge`: ``setup_context`` style with a ``vmap`` rule, for
  ``torch.func``;
* :class:`BackwardBridge`: runs a NumPy backward as a function of its own, whose
  backward refuses second-order gradients (they would silently be wrong).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from .. import _modes as modes
from .._call import Call
from .._dtypes import COMPUTE_DTYPE
from .._errors import NpgradError
from .._policy import legacy_batched, never_traced


def backward_can_follow(tensors) -> bool:
    """Whether autograd will record this call: only then do residuals pay off."""
    if torch.is_grad_enabled():
        for t in tensors:
            if t.requires_grad:
                return True
    return False


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


def _save(ctx, call: Call, tensors: tuple, output: tuple) -> None:
    ctx.call = call
    ctx.n_in = len(tensors)
    ctx.save_for_backward(*tensors, *output)
    if len(output) == 1:  # a loss's value: no comprehension on the hot path
        if not output[0].is_floating_point():
            ctx.mark_non_differentiable(output[0])
        return
    nondiff = [o for o in output if not o.is_floating_point()]
    if nondiff:
        ctx.mark_non_differentiable(*nondiff)


def _batched(grads: tuple) -> bool:
    """Whether these gradients are batches of torch's legacy vmap (``is_grads_batched``)."""
    return any(legacy_batched(g) for g in grads)


def _bridge_backward(ctx, grads: tuple) -> tuple:
    call: Call = ctx.call
    saved = ctx.saved_tensors
    inputs, outputs = saved[: ctx.n_in], saved[ctx.n_in :]
    needs = tuple(n and t.dtype in COMPUTE_DTYPE for n, t in zip(ctx.needs_input_grad[1:], inputs))
    if not any(needs):
        return (None,) * (1 + ctx.n_in)
    if call.op.torch_backward or not torch.is_grad_enabled():
        try:
            result = modes.backward(call, grads, inputs, outputs, needs)
        except RuntimeError:
            if call.op.torch_backward or not _batched(grads):
                raise
            # is_grads_batched=True, jacobian(vectorize=True): autograd's engine under
            # vmap hands this backward a batch of cotangents NumPy cannot see as arrays
            raise NpgradError(
                f"npgrad op '{call.op.name}': a NumPy backward cannot take batched "
                "gradients (torch.autograd.grad(..., is_grads_batched=True), "
                "torch.autograd.functional.jacobian(..., vectorize=True)); take them one "
                "at a time (vectorize=False), use torch.func.jacrev, or mode='auto'"
            ) from None
    else:
        # create_graph=True or torch.func: a second autograd.Function, so that
        # torch.func unwraps its inputs and differentiating the gradient again
        # raises instead of silently treating it as a constant
        got = iter(BackwardBridge.apply(call, needs, len(grads), *grads, *inputs, *outputs))
        result = [next(got) if n else None for n in needs]
    return (None, *[g if n else None for g, n in zip(result, needs)])


class FastBridge(torch.autograd.Function):
    """Old-style Function for plain eager autograd: its ``apply`` is ~25 us cheaper."""

    @staticmethod
    def forward(ctx, call: Call, *tensors: torch.Tensor):  # type: ignore[override]
        output = modes.forward(call, list(tensors))
        _save(ctx, call, tensors, output)
        return output

    @staticmethod
    def backward(ctx, *grads):
        return _bridge_backward(ctx, grads)


class EagerBridge(torch.autograd.Function):
    """``setup_context`` style with a ``vmap`` rule: what ``torch.func`` needs."""

    @staticmethod
    def forward(call: Call, *tensors: torch.Tensor):  # type: ignore[override]
        return modes.forward(call, list(tensors))

    @staticmethod
    def setup_context(ctx, inputs, output):
        _save(ctx, inputs[0], inputs[1:], output)

    @staticmethod
    def backward(ctx, *grads):
        return _bridge_backward(ctx, grads)

    @staticmethod
    def jvp(ctx, *tangents):
        op = ctx.call.op
        if op.mode == "numeric":
            how = "a mode='numeric' op has only a vector-Jacobian product (central differences)"
            way = "use reverse mode (torch.func.jacrev, vjp), or mode='auto'"
        else:
            how = "it does not go through a registered backward"
            way = (
                "use reverse mode (torch.func.jacrev; jacrev(jacrev(f)) for a Hessian "
                "with a torch_ops=True backward), or mode='auto'"
            )
        raise NpgradError(
            f"npgrad op '{op.name}': forward-mode differentiation "
            f"(torch.func.jvp, jacfwd, hessian, linearize): {how}; {way}"
        )

    @staticmethod
    def vmap(info, in_dims, call: Call, *tensors):
        if call.op.batched:
            size = info.batch_size
            moved = [
                t.movedim(d, 0) if d is not None else t.unsqueeze(0).expand(size, *t.shape)
                for t, d in zip(tensors, in_dims[1:])
            ]
            # a batched loss gives one value per sample: a copy of the call that knows
            c = copy.copy(call)
            c.batch_rank = call.batch_rank + 1
            outs = EagerBridge.apply(c, *moved)
            call.structure = c.structure
            return outs, (0,) * len(outs)

        def row(*ts):
            # a copy of the call per row: each keeps its own residuals
            c = copy.copy(call)
            out = EagerBridge.apply(c, *ts)
            call.structure = c.structure
            return out

        return _batched_loop(row, info, in_dims[1:], *tensors)


class BackwardBridge(torch.autograd.Function):
    """Runs a NumPy backward; returns the gradients of the inputs in ``needs``."""

    @staticmethod
    def forward(call: Call, needs: tuple, n_grads: int, *tensors: torch.Tensor):  # type: ignore[override]
        grads = tensors[:n_grads]
        n_in = len(needs)
        inputs, outputs = tensors[n_grads : n_grads + n_in], tensors[n_grads + n_in :]
        result = modes.backward(call, grads, inputs, outputs, needs)
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
    def vmap(info, in_dims, call: Call, needs: tuple, n_grads: int, *tensors):
        def row(*ts):
            # this row's inputs, not the forward's (which may have seen the whole batch)
            c = copy.copy(call)
            c.host_in = c.residuals = None
            return BackwardBridge.apply(c, needs, n_grads, *ts)

        return _batched_loop(row, info, in_dims[3:], *tensors)


# the bridges' host work, whichever frame Dynamo meets first
never_traced(
    modes.forward,
    modes.backward,
    FastBridge.forward,
    FastBridge.backward,
    EagerBridge.forward,
    EagerBridge.backward,
    EagerBridge.vmap,
    BackwardBridge.forward,
    BackwardBridge.vmap,
)
