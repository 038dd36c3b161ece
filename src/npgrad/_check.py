"""Gradient verification against float64 central differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._errors import GradcheckError, describe
from ._modes.numeric import NUMERIC_WARN_SIZE as NUMERIC_WARN_SIZE


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
    reference: str = "the op"  # what the central differences evaluate

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
        return "\n".join([head, *rows, f"differences of: {self.reference}"])


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


def _asked(a: Any) -> bool:
    """An input the caller marked for differentiation (``requires_grad=True``)."""
    return isinstance(a, torch.Tensor) and a.requires_grad


def check(
    fn: Callable[..., Any],
    *args: Any,
    wrt: str | int | Sequence[str | int] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    seed: int = 0,
    raise_on_fail: bool = True,
    **kwargs: Any,
) -> CheckReport:
    """Compare ``fn``'s gradients with float64 central differences.

    Floating inputs are copied to float64 on the CPU; a ``torch.Size`` argument
    stands for a random float64 input of that shape.  The inputs checked are those
    named in ``wrt``; by default those passed with ``requires_grad=True`` if any
    is, else every floating input.  The vector-Jacobian product with a random
    upstream gradient is compared, input by input.  An op whose ``def_fwd`` saves
    residuals is checked twice: with them, and with the backward's recomputing
    branch (``residuals=None``, the path of ``torch.compile`` and of a second
    backward).  For an automatic-mode op the references are its NumPy function run
    on plain float64 arrays (NumPy's and SciPy's own code, so a wrong mapping or
    user rule shows): its value (a ``value`` row) and its central differences.
    ``wrt`` takes parameter names or positions.  Raises
    :class:`~npgrad.GradcheckError` with a readable table on failure (or returns the
    report with ``raise_on_fail=False``).

    >>> import torch, npgrad
    >>> from npgrad.losses import mse
    >>> npgrad.check(mse, torch.Size([3, 4]), torch.Size([3, 4])).ok
    True
    >>> w = torch.ones(4)  # a weight nobody differentiates
    >>> [r.name for r in npgrad.check(lambda x, w: (x * w).sum(), torch.Size([4]), w,
    ...                               wrt="x").inputs]
    ['x']
    """
    gen = torch.Generator().manual_seed(seed)
    named_in = _names(fn, args, kwargs)
    asked = {n for n, a in named_in if _asked(a)}
    args = tuple(_as_input(a, gen) for a in args)
    kwargs = {k: _as_input(v, gen) for k, v in kwargs.items()}
    names = _names(fn, args, kwargs)
    op_name = getattr(fn, "name", getattr(fn, "__name__", repr(fn)))
    floating = [
        (n, t)
        for n, t in names
        if isinstance(t, torch.Tensor) and t.is_floating_point() and t.requires_grad
    ]
    if wrt is not None:
        wanted = _wanted(wrt, named_in, len(args), op_name)
        unknown = wanted - {n for n, _ in floating}
        if unknown:
            raise ValueError(
                f"npgrad.check: wrt names {sorted(unknown)} that are not floating inputs of "
                f"'{op_name}' (those are {[n for n, _ in floating]})"
            )
    else:
        wanted = asked or {n for n, _ in floating}
    diff = [(n, t) for n, t in floating if n in wanted]
    for n, t in floating:
        if n not in wanted:
            t.requires_grad_(False)
    report = CheckReport(op=op_name, atol=atol, rtol=rtol)
    if not diff:
        raise ValueError(f"npgrad.check: '{op_name}' has no floating tensor input to check")

    outs = _outputs(fn, op_name, args, kwargs)
    float_outs = [o for o in outs if o.is_floating_point()]
    vs = [torch.randn(o.shape, dtype=o.dtype, generator=gen) for o in float_outs]
    routes = [("", outs)]
    if getattr(fn, "fwd_res", None) is not None and getattr(fn, "bwd", None) is not None:
        with fn.without_residuals():
            routes.append((" (recompute)", _outputs(fn, op_name, args, kwargs)))
    analytic = {suffix: _vjp(o, vs, diff) for suffix, o in routes}

    plain = _plain(fn, args, kwargs, float_outs)
    if plain is not None:
        # an automatic-mode op's mappings (and users' rules) are what is checked: its
        # value and differences come from the NumPy function run on plain arrays
        report.reference = (
            "the NumPy function on plain float64 arrays (NumPy's and SciPy's own code)"
        )
        for j, (o, ref) in enumerate(zip(float_outs, plain(*args, **kwargs))):
            got = o.detach().to(torch.float64).numpy()
            err = np.abs(got - ref)
            report.inputs.append(
                InputCheck(
                    name="value" if len(float_outs) == 1 else f"value[{j}]",
                    shape=tuple(o.shape),
                    max_abs_err=float(err.max()) if err.size else 0.0,
                    max_rel_err=float((err / np.maximum(np.abs(ref), 1e-12)).max())
                    if err.size
                    else 0.0,
                    ok=bool(np.all(err <= atol + rtol * np.abs(ref))),
                )
            )

    def scalar(*a: Any, **k: Any) -> float:
        if plain is not None:
            return float(sum((v.numpy() * x).sum() for v, x in zip(vs, plain(*a, **k))))
        with torch.no_grad():
            o = fn(*a, **k)
        o = o if isinstance(o, tuple) else (o,)
        # detached: a view of an input still requires grad under no_grad
        fo = [x.detach() for x in o if x.is_floating_point()]
        return float(sum((v * x).sum() for v, x in zip(vs, fo)))

    first, again = scalar(*args, **kwargs), scalar(*args, **kwargs)
    if first != again and abs(first - again) > 1e-12 * max(abs(first), abs(again)):
        raise ValueError(
            f"npgrad.check: '{op_name}' gives two values at one point ({first!r}, then "
            f"{again!r}): its central differences would be noise. Draw its random numbers "
            "from a generator seeded inside it, or check a deterministic version"
        )

    def differences(t: torch.Tensor) -> torch.Tensor:
        numeric = torch.empty_like(t)
        flat = t.detach().view(-1)
        for j in range(flat.numel()):
            orig = flat[j].item()
            try:
                flat[j] = orig + eps
                plus = scalar(*args, **kwargs)
                flat[j] = orig - eps
                minus = scalar(*args, **kwargs)
            finally:
                flat[j] = orig
            numeric.view(-1)[j] = (plus - minus) / (2 * eps)
        return numeric

    numerics = []
    for _, t in diff:
        try:
            numerics.append(differences(t))
        except Exception as e:
            if plain is None:
                raise
            # SciPy's own checks may refuse a point off its domain that the mapping
            # accepts (dirichlet's simplex): then every difference is of the op
            plain = None
            report.reference = f"the op (the plain NumPy run refused a nearby point: {e})"
            numerics = [differences(u) for _, u in diff]
            break
    for i, (name, t) in enumerate(diff):
        numeric = numerics[i]
        for suffix, grads in analytic.items():
            a = grads[i]
            a = torch.zeros_like(t) if a is None else a.detach()
            err = (a - numeric).abs()
            rel = err / numeric.abs().clamp_min(1e-12)
            report.inputs.append(
                InputCheck(
                    name=name + suffix,
                    shape=tuple(t.shape),
                    max_abs_err=float(err.max()) if err.numel() else 0.0,
                    max_rel_err=float(rel.max()) if rel.numel() else 0.0,
                    ok=bool(torch.all(err <= atol + rtol * numeric.abs())),
                )
            )
    if raise_on_fail and not report.ok:
        raise GradcheckError(str(report))
    return report


def _wanted(wrt: Any, named_in: list, n_args: int, op_name: str) -> set[str]:
    """``wrt`` as parameter names: a name, a position, or a sequence of them."""
    items = [wrt] if isinstance(wrt, (str, int)) else list(wrt)
    wanted = set()
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (str, int)):
            raise TypeError(
                f"npgrad.check: wrt takes parameter names or positions, got {w!r} for '{op_name}'"
            )
        if isinstance(w, int):
            if not -n_args <= w < n_args:
                raise ValueError(
                    f"npgrad.check: wrt={w} is no position of the {n_args} positional "
                    f"arguments given to '{op_name}'"
                )
            w = named_in[w % n_args][0]
        wanted.add(w)
    return wanted


def _plain(fn: Any, args: tuple, kwargs: dict, float_outs: list) -> Callable | None:
    """For an automatic-mode op: its function run outside any trace on plain float64
    arrays, returning its floating outputs; None for other ops, or when that run does
    not give outputs like the op's (then the op itself is differenced)."""
    if getattr(fn, "mode", None) != "auto" or not callable(getattr(fn, "fn", None)):
        return None

    def arrays(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy().copy()
        if type(x) in (list, tuple):
            return type(x)(arrays(v) for v in x)
        if type(x) is dict:
            return {k: arrays(v) for k, v in x.items()}
        return x

    def run(*a: Any, **k: Any) -> list[np.ndarray]:
        out = fn.fn(*arrays(a), **arrays(k))
        out = out if isinstance(out, tuple) else (out,)
        outs = [np.asarray(o) for o in out]
        return [o.astype(np.float64) for o in outs if o.dtype.kind == "f"]

    try:
        got = run(*args, **kwargs)
    except Exception:
        return None
    if [o.shape for o in got] != [tuple(o.shape) for o in float_outs]:
        return None
    return run


def _outputs(fn: Callable, op_name: str, args: tuple, kwargs: dict) -> tuple:
    try:
        outs = fn(*args, **kwargs)
    except TypeError as e:
        if not hasattr(fn, "mode"):  # not an npgrad op: perhaps NumPy code given tensors
            e.add_note(
                f"(npgrad.check calls '{op_name}' with torch tensors; for a NumPy "
                "function check npgrad.function(fn))"
            )
        raise
    outs = outs if isinstance(outs, tuple) else (outs,)
    for j, o in enumerate(outs):
        if not isinstance(o, torch.Tensor):
            raise TypeError(
                f"npgrad.check: '{op_name}' must return a tensor or a tuple of tensors, "
                f"got {describe(o)}" + (f" as output {j}" if len(outs) > 1 else "")
            )
    return outs


def _vjp(outs: tuple, vs: list, diff: list) -> list:
    float_outs = [o for o in outs if o.is_floating_point()]
    # an output that does not depend on any input has no graph: its gradient is zero
    linked = [(o, v) for o, v in zip(float_outs, vs) if o.requires_grad]
    if not linked:
        return [None] * len(diff)
    return list(
        torch.autograd.grad(
            [o for o, _ in linked], [t for _, t in diff], [v for _, v in linked], allow_unused=True
        )
    )


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
