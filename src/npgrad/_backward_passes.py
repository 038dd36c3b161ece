"""The autograd passes behind the NumPy-level API: one backward (autograd's engine
called directly where ``torch.autograd.grad`` would add only its Python), and a
Jacobian's rows, by batched backward passes where vmap can batch the graph."""

from __future__ import annotations

import warnings

import torch


def zeros_for_unused(grads: tuple, like: list[torch.Tensor]) -> list[torch.Tensor]:
    # an argument the result does not depend on has a zero gradient (JAX's answer);
    # so does one torch's backward gives as a ZeroTensor (abs's second derivative),
    # which has no NumPy twin
    return [
        torch.zeros_like(x) if g is None or g._is_zerotensor() else g for g, x in zip(grads, like)
    ]


def backward(
    outs: list[torch.Tensor],
    xs: list[torch.Tensor],
    cotangents: list[torch.Tensor] | None,
    *,
    create_graph: bool,
    retain_graph: bool | None = None,
) -> list[torch.Tensor]:
    """The vector-Jacobian product, zeros where no path leads."""
    live = [i for i, o in enumerate(outs) if o.requires_grad]
    if not live:
        return [torch.zeros_like(x) for x in xs]
    if cotangents is None and not create_graph and len(live) == 1 and plain(outs[live[0]], xs):
        # grad and value_and_grad's call: autograd's engine directly, as
        # torch.autograd.grad ends up calling it, without that function's Python
        # (about 40 us a call here, as much as a small function's whole backward)
        out = outs[live[0]]
        grads = ENGINE.run_backward(
            (out,), (torch.ones_like(out),), bool(retain_graph), False, tuple(xs), True, False
        )
        return zeros_for_unused(grads, xs)
    grads = torch.autograd.grad(
        [outs[i] for i in live],
        xs,
        grad_outputs=None if cotangents is None else [cotangents[i] for i in live],
        create_graph=create_graph,
        retain_graph=retain_graph if retain_graph is not None else create_graph,
        allow_unused=True,
    )
    return zeros_for_unused(grads, xs)


ENGINE = getattr(getattr(torch.autograd, "Variable", None), "_execution_engine", None)
LEVEL = getattr(getattr(torch._C, "_functorch", None), "maybe_current_level", None)
MODES = getattr(torch._C, "_len_torch_function_stack", None)


def plain(out: torch.Tensor, xs: list[torch.Tensor]) -> bool:
    """Whether ``torch.autograd.grad`` would do little but call the engine: a scalar
    output, plain tensors and no torch function mode (no ``__torch_function__`` to
    honour), no ``torch.func`` transform around, and a torch whose engine is where it
    has been since 1.x.  (What is skipped: its argument checks, which these answer,
    and its debug logging hooks and compiled-backward context, unused here.)"""
    return (
        ENGINE is not None
        and LEVEL is not None
        and MODES is not None
        and LEVEL() is None
        and MODES() == 0
        and type(out) is torch.Tensor
        and out.ndim == 0
        and all(type(x) is torch.Tensor for x in xs)
    )


_ROWS_AT_ONCE = 256  # rows of a Jacobian one batched backward computes
# below this many rows vmap's set-up costs more than it saves (a 3x3 Hessian: 5.3 ms
# batched against 4.2 ms a row at a time; 50x50: 2.5 against 16.8 ms)
_BATCH_FROM = 8


def jacobian_of(
    y: torch.Tensor, xs: list[torch.Tensor], *, create_graph: bool, batched: bool = True
) -> list:
    """d y / d x for each x, shaped ``y.shape + x.shape``: batched backward passes
    (vmap over the graph, ``_ROWS_AT_ONCE`` rows each), else one pass per element of
    y, where vmap cannot batch a node (a NumPy backward, a refusing row), and while
    make_fx traces (``jit=True``, ``batched=False``): a failed attempt would leave
    its ops in the graph."""
    n = y.numel()
    if batched and n >= _BATCH_FROM and y.requires_grad:
        try:
            return jacobian_batched(y, xs, n, create_graph)
        except Exception:  # noqa: BLE001 - the loop below: the same rows, or the real error
            pass
    rows: list[list[torch.Tensor]] = [[] for _ in xs]
    eye = torch.eye(n, dtype=y.dtype, device=y.device)
    for k in range(n):
        grads = backward([y], xs, [eye[k].reshape(y.shape)], create_graph=create_graph,
                          retain_graph=True)  # fmt: skip
        for j, g in enumerate(grads):
            rows[j].append(g)
    return [
        torch.stack(r).reshape((*y.shape, *x.shape)) if r else x.new_zeros((*y.shape, *x.shape))
        for r, x in zip(rows, xs)
    ]


def jacobian_batched(y: torch.Tensor, xs: list, n: int, create_graph: bool) -> list:
    blocks: list[list[torch.Tensor]] = [[] for _ in xs]
    with warnings.catch_warnings():  # vmap's notes on nodes it batches by a loop
        warnings.simplefilter("ignore")
        for start in range(0, n, _ROWS_AT_ONCE):
            # these rows of the identity only (all n^2 of it: 128 MB at n = 4000)
            k = torch.arange(start, min(start + _ROWS_AT_ONCE, n), device=y.device)
            rows = torch.zeros((len(k), n), dtype=y.dtype, device=y.device)
            rows[torch.arange(len(k), device=y.device), k] = 1
            rows = rows.reshape(len(k), *y.shape)
            grads = torch.autograd.grad([y], xs, [rows], retain_graph=True,
                                        create_graph=create_graph, allow_unused=True,
                                        is_grads_batched=True)  # fmt: skip
            for j, (g, x) in enumerate(zip(grads, xs)):
                blocks[j].append(g if g is not None else x.new_zeros((len(rows), *x.shape)))
    return [torch.cat(b).reshape((*y.shape, *x.shape)) for b, x in zip(blocks, xs)]
