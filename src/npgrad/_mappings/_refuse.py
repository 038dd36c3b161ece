"""Gradients that cannot be followed: a value that carries on, and a clear error
should a gradient ever reach an argument it cannot be taken for.

``refuse(value, arg, message)`` is ``value``; its gradient flows on as usual, but
a backward pass that needs the gradient for ``arg`` raises a TraceError with
``message`` (never a silent zero).  It is a plain torch autograd.Function with a
generated vmap rule, so eager code, ``torch.func`` and ``torch.compile`` all see
it; under ``torch.compile`` the error comes when the backward graph is traced.
"""

from __future__ import annotations

import torch

from .._errors import TraceError


class _Refuse(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(value, arg, message, only_nonzero):
        return value.view_as(value)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.message, ctx.only_nonzero = inputs[2], inputs[3]

    @staticmethod
    def backward(ctx, grad):
        if ctx.only_nonzero and grad is not None:
            # a zero gradient (the part unused, or sliced away) is the true one; under
            # vmap (torch.func.jacrev) whether it is zero cannot be read: refused, so
            if torch._C._functorch.is_batchedtensor(grad):
                raise TraceError(
                    f"{ctx.message} (under torch.func's vmap, as in jacrev, npgrad cannot "
                    "see whether that gradient is zero; npgrad.jacobian can)"
                )
            if bool(grad.ne(0).any()):
                raise TraceError(ctx.message)
        elif ctx.needs_input_grad[1]:
            raise TraceError(ctx.message)
        return grad, None, None, None


def refuse(value: torch.Tensor, arg, message: str) -> torch.Tensor:
    """``value``, with an error for any gradient that would reach ``arg``."""
    if not isinstance(arg, torch.Tensor) or not (arg.is_floating_point() or arg.is_complex()):
        return value  # an integer or a number: no gradient can be asked of it
    return _Refuse.apply(value, arg, message, False)


def refuse_used(value: torch.Tensor, message: str) -> torch.Tensor:
    """``value``, with an error for any nonzero gradient that reaches it: for parts
    of a result whose gradient is undefined (a zero one passes, as unused)."""
    return _Refuse.apply(value, None, message, True)


def refuse_nonzero(value: torch.Tensor, arg, message: str) -> torch.Tensor:
    """``value`` (computed apart from the graph) joined to ``arg``'s graph: an error
    for any nonzero gradient that reaches it, a zero one for ``arg`` otherwise.  For
    parts of a result whose gradient is undefined and whose torch backward would
    raise even for a zero gradient (the completion of a complete QR)."""
    if not isinstance(arg, torch.Tensor) or not arg.requires_grad:
        return value
    return _Refuse.apply(value, arg, message, True)
