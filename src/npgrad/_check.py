"""Gradient verification against float64 central differences."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._errors import GradcheckError, describe, user_stacklevel

NUMERIC_WARN_SIZE = 4096  # elements; above this, mode="numeric" warns that it is slow


@dataclass
class InputCheck:
    """The comparison for one input: worst absolute and relative error."""

    name: str
    shape: tuple[int, ...]
    max_abs_err: float
    max_rel_err: float
    ok: bool


@dataclass
class CheckReport:
    """What :func:`check` found, one row per differentiable input.

    >>> import torch, npgrad
    >>> report = npgrad.check(lambda a: a.exp(), torch.Size([2]))
    >>> report.ok, [r.name for r in report.inputs]
    (True, ['a'])
    """

    op: str
    inputs: list[InputCheck] = field(default_factory=list)
    atol: float = 0.0
    rtol: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every input's gradient is within tolerance.

        >>> import torch, npgrad
        >>> npgrad.check(torch.sin, torch.Size([3])).ok
        True
        """
        return all(r.ok for r in self.inputs)

    def __str__(self) -> str:
        head = f"gradient check of {self.op} (atol={self.atol:g}, rtol={self.rtol:g})"
        rows = [f"{'input':<12} {'shape':<16} {'max abs err':>12} {'max rel err':>12}  result"]
        for r in self.inputs:
            rows.append(
                f"{r.name:<12} {str(r.shape):<16} {r.max_abs_err:>12.3e} "
                f"{r.max_rel_err:>12.3e}  {'ok' if r.ok else 'FAIL'}"
            )
        return "\n".join([head, *rows])


def _as_input(a: Any, gen: torch.Generator) -> Any:
    if isinstance(a, torch.Size):
        return torch.randn(tuple(a), dtype=torch.float64, generator=gen).requires_grad_()
    if isinstance(a, np.ndarray):
        a = torch.from_numpy(a)
    if isinstance(a, torch.Tensor) and a.is_floating_point():
        a = a.detach().cpu().to(torch.float64)
        return a.clone(memory_format=torch.contiguous_format).requires_grad_()
    if isinstance(a, torch.Tensor):
        return a.detach().cpu()
    return a


def check(
    fn: Callable[..., Any],
    *args: Any,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    seed: int = 0,
    raise_on_fail: bool = True,
    **kwargs: Any,
) -> CheckReport:
    """Compare ``fn``'s gradients with float64 central differences.

    Floating inputs are copied to float64 on the CPU; a ``torch.Size`` argument
    stands for a random float64 input of that shape.  The vector-Jacobian product
    with a random upstream gradient is compared, input by input.  Raises
    :class:`~npgrad.GradcheckError` with a readable table on failure (or returns
    the report with ``raise_on_fail=False``).

    >>> import torch, npgrad
    >>> from npgrad.losses import mse
    >>> npgrad.check(mse, torch.Size([3, 4]), torch.Size([3, 4])).ok
    True
    """
    gen = torch.Generator().manual_seed(seed)
    args = tuple(_as_input(a, gen) for a in args)
    kwargs = {k: _as_input(v, gen) for k, v in kwargs.items()}
    names = _names(fn, args, kwargs)
    diff = [
        (n, t)
        for n, t in names
        if isinstance(t, torch.Tensor) and t.is_floating_point() and t.requires_grad
    ]
    op_name = getattr(fn, "name", getattr(fn, "__name__", repr(fn)))
    report = CheckReport(op=op_name, atol=atol, rtol=rtol)
    if not diff:
        raise ValueError(f"npgrad.check: '{op_name}' has no floating tensor input to check")

    outs = fn(*args, **kwargs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    for j, o in enumerate(outs):
        if not isinstance(o, torch.Tensor):
            raise TypeError(
                f"npgrad.check: '{op_name}' must return a tensor or a tuple of tensors, "
                f"got {describe(o)}" + (f" as output {j}" if len(outs) > 1 else "")
            )
    float_outs = [o for o in outs if o.is_floating_point()]
    vs = [torch.randn(o.shape, dtype=o.dtype, generator=gen) for o in float_outs]
    # an output that does not depend on any input has no graph: its gradient is zero
    linked = [(o, v) for o, v in zip(float_outs, vs) if o.requires_grad]
    analytic = (
        torch.autograd.grad(
            [o for o, _ in linked], [t for _, t in diff], [v for _, v in linked], allow_unused=True
        )
        if linked
        else [None] * len(diff)
    )

    def scalar(*a: Any, **k: Any) -> float:
        with torch.no_grad():
            o = fn(*a, **k)
        o = o if isinstance(o, tuple) else (o,)
        fo = [x for x in o if x.is_floating_point()]
        return float(sum((v * x).sum() for v, x in zip(vs, fo)))

    for (name, t), a in zip(diff, analytic):
        a = torch.zeros_like(t) if a is None else a.detach()
        numeric = torch.empty_like(t)
        base = t.detach()
        flat = base.view(-1)
        for i in range(flat.numel()):
            orig = flat[i].item()
            flat[i] = orig + eps
            plus = scalar(*args, **kwargs)
            flat[i] = orig - eps
            minus = scalar(*args, **kwargs)
            flat[i] = orig
            numeric.view(-1)[i] = (plus - minus) / (2 * eps)
        err = (a - numeric).abs()
        rel = err / numeric.abs().clamp_min(1e-12)
        ok = bool(torch.all(err <= atol + rtol * numeric.abs()))
        report.inputs.append(
            InputCheck(
                name=name,
                shape=tuple(t.shape),
                max_abs_err=float(err.max()) if err.numel() else 0.0,
                max_rel_err=float(rel.max()) if rel.numel() else 0.0,
                ok=ok,
            )
        )
    if raise_on_fail and not report.ok:
        raise GradcheckError(str(report))
    return report


def _names(fn: Callable, args: tuple, kwargs: dict) -> list[tuple[str, Any]]:
    import inspect

    try:
        sig = getattr(fn, "signature", None) or inspect.signature(fn)
        bound = sig.bind(*args, **kwargs)
        out: list[tuple[str, Any]] = []
        for k, v in bound.arguments.items():
            kind = sig.parameters[k].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                out.extend((f"{k}[{i}]", x) for i, x in enumerate(v))
            elif kind is inspect.Parameter.VAR_KEYWORD:
                out.extend(v.items())
            else:
                out.append((k, v))
        return out
    except (TypeError, ValueError):
        return [(f"args[{i}]", a) for i, a in enumerate(args)] + list(kwargs.items())


def numeric_vjp(call: Any, grads: tuple, inputs: tuple, needs: tuple[bool, ...]) -> list:
    """The vector-Jacobian product of ``call``'s NumPy forward, by central differences.

    Computed in float64 on the host; the result is cast back to each input's dtype.
    """
    from . import _convert

    arrays = [
        a.astype(np.float64) if a.dtype.kind == "f" else a for a in _convert.to_numpy(list(inputs))
    ]
    gs = [g.astype(np.float64) for g in _convert.to_numpy(list(grads))]
    size = sum(a.size for a, n in zip(arrays, needs) if n)
    if size > NUMERIC_WARN_SIZE:
        warnings.warn(
            f"npgrad op '{call.op.name}': mode='numeric' differentiates {size} elements "
            "by finite differences (2 forward calls each); this is slow",
            stacklevel=user_stacklevel(),
        )

    def value(arrs: list[np.ndarray]) -> float:
        args, kwargs = call.numpy_args(arrs)
        out = call.op.fn(*args, **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        return float(sum(np.sum(g * np.asarray(o, dtype=np.float64)) for g, o in zip(gs, outs)))

    result: list = []
    for i, (t, need) in enumerate(zip(inputs, needs)):
        if not need or not _convert.is_differentiable(t):
            result.append(None)
            continue
        x = arrays[i].copy()
        arrays[i] = x
        flat = x.reshape(-1)
        grad = np.empty_like(flat)
        h = 1e-6 * np.maximum(1.0, np.abs(flat))
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + h[j]
            plus = value(arrays)
            flat[j] = orig - h[j]
            minus = value(arrays)
            flat[j] = orig
            grad[j] = (plus - minus) / (2 * h[j])
        result.append(torch.from_numpy(grad.reshape(x.shape)).to(t.device, t.dtype))
    return result
