"""Gradients of plain NumPy functions, for NumPy users (``npgrad.grad`` and friends).

The conventions are JAX's and HIPS autograd's: ``grad(f)`` is a function that
returns the gradient of ``f`` at its arguments.  Underneath, ``f`` runs once on
:class:`~npgrad._trace.TracedArray` s (automatic mode), autograd records the torch
ops, and the results come back as NumPy.

A transform called on traced arrays (``grad(grad(f))``, ``hessian``, a transform
inside an automatic-mode op) stays in torch: it differentiates with
``create_graph=True`` and returns traced arrays, so the outer transform can
differentiate the result again.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from . import _mappings  # noqa: F401 - the registry's rows, for the engine
from ._backward_passes import backward as _backward
from ._backward_passes import jacobian_of as _jacobian_of
from ._dtypes import TORCH_TO_NP
from ._errors import TraceError
from ._numpy_leaves import (
    _FLOATS,
    _aligned,
    _array_leaf,
    _BadLeaf,
    _is_node,
    _leaf_tensor,
    _leaves,
    _path,
    _rebuild,
    _tree_copy,
    result_array,
    scalar_result,
)
from ._trace._array import TracedArray
from ._trace._engine import trace
from ._trace._state import STATE

__all__ = ["grad", "value_and_grad", "jacobian", "hessian", "vjp", "hvp"]


# -------------------------------------------------------------- arguments
def _callable(f: Any, transform: str) -> None:
    if not callable(f):
        raise TypeError(
            f"npgrad.{transform}: the first argument must be the function to "
            f"differentiate, got {type(f).__name__} {f!r:.60}"
        )


def _fname(f: Any) -> str:
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or type(f).__name__


def _argnums(argnums: Any, nargs: int, where: str) -> tuple[tuple[int, ...], bool]:
    """The argument positions, and whether the caller asked for a tuple of results."""
    as_tuple = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if as_tuple else (argnums,)
    if not nums or not all(isinstance(n, int) and not isinstance(n, bool) for n in nums):
        raise TypeError(f"{where}: argnums must be an int or a tuple of ints, got {argnums!r}")
    if len(set(n % nargs if nargs else n for n in nums)) != len(nums):
        raise ValueError(f"{where}: argnums={argnums!r} names an argument twice")
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(
                f"{where}: argnums={argnums!r} but the call passed {nargs} positional "
                f"argument{'s' * (nargs != 1)}"
            )
    return tuple(n % nargs for n in nums), as_tuple


def _argname(f: Callable, n: int) -> str:
    """``argument 1 (y)``: the position and, where the signature tells, the name."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    if n < len(params) and params[n].kind in (params[n].POSITIONAL_ONLY,
                                              params[n].POSITIONAL_OR_KEYWORD):  # fmt: skip
        return f"argument {n} ({params[n].name})"
    return f"argument {n}"


def _device(device: Any, where: str) -> torch.device:
    """``device=`` as a torch device that can hold the function's values, or an error
    naming the transform (torch's own names neither it nor the argument)."""
    if isinstance(device, torch.device):
        d = device
    else:
        try:
            d = torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(
                f"{where}: device= takes a torch device such as 'cpu', 'cuda' or 'cuda:1', "
                f"got {device!r}"
            ) from None
    if d.type == "meta":
        raise ValueError(f"{where}: device='meta' holds no values to compute with")
    if d.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{where}: device={device!r}, but torch sees no CUDA device here")
    return d


def _inside_trace() -> bool:
    """Whether an outer trace is running (a closure may then carry its graph)."""
    return bool(STATE.ops)


class _Inputs:
    """The arguments of one call, the differentiated leaves as tensors."""

    def __init__(
        self, f: Callable, where: str, args: tuple, kwargs: dict, nums: tuple, device: Any,
        own: bool = False,
    ) -> None:  # fmt: skip
        every = _leaves(kwargs, _leaves(args)) if kwargs else _leaves(args)
        traced = None
        arrays = []
        for v in every:
            if type(v) is np.ndarray:
                arrays.append(v)
            elif traced is None and isinstance(v, TracedArray):
                traced = v
        # results that share memory with any input array are copied before returning
        self.arrays = arrays
        self.handed: set[int] = set()  # the buffers of the results given so far
        self.traced = traced is not None or _inside_trace()
        if traced is not None:
            self.device = traced.t.device
        elif self.traced:
            self.device = STATE.device
        else:
            self.device = device if isinstance(device, torch.device) else _device(device, where)
        self.trees: list[Any] = []  # per argnum: the argument as given
        self.tensors: list[list[torch.Tensor]] = []
        self.kinds: list[list[str]] = []
        call = list(args)
        for n in nums:
            tree = args[n]
            ts, ks = [], []
            for i, leaf in enumerate(_leaves(tree)):
                try:
                    t, k = _leaf_tensor(leaf, self.device)
                except _BadLeaf as e:
                    p = list(_path(tree))[i]
                    raise TypeError(f"{where}: {_argname(f, n)}{p} {e}") from None
                if own and k == "array" and t.is_cpu:
                    # vjp's graph outlives the call: its saved inputs must not be the
                    # caller's memory, which a later x += step would change under it;
                    # nor may a result be this copy's (f = lambda x: x hands it back)
                    t = t.detach().clone()
                    self.arrays.append(t.numpy())
                    t.requires_grad_()
                ts.append(t)
                ks.append(k)
            # the structure as it is now: the function, or the caller before vjp_fn,
            # may edit the dicts and lists given (pop a key, append), not the results
            self.trees.append(_tree_copy(tree))
            self.tensors.append(ts)
            self.kinds.append(ks)
            call[n] = _rebuild(tree, iter(ts)) if _is_node(tree) else ts[0]
        self.call = call

    def flat(self) -> list[torch.Tensor]:
        return [t for ts in self.tensors for t in ts]

    def numpy(self, t: torch.Tensor, extra: tuple = ()) -> np.ndarray:
        return result_array(t, (*self.arrays, *extra), self.handed)

    def gradients(self, flat: list[torch.Tensor], extra: tuple = ()) -> list[Any]:
        """``flat`` (one tensor per leaf) arranged as the arguments, per argnum."""
        it = iter(flat)
        out = []
        for tree, kinds in zip(self.trees, self.kinds):
            leaves = []
            for kind in kinds:
                g = next(it)
                if self.traced:
                    leaves.append(TracedArray(g))
                elif kind == "scalar":
                    leaves.append(g.detach().cpu().numpy()[()])  # a NumPy scalar: a copy
                else:
                    leaves.append(self.numpy(g, extra))
            out.append(_rebuild(tree, iter(leaves)))
        return out

    def value(self, out: Any) -> Any:
        """The function's result as NumPy (0-d arrays as NumPy scalars, as NumPy's own
        reductions give), or as traced arrays inside a trace."""
        if _is_node(out):
            return _rebuild(out, iter([self.value(v) for v in _leaves(out)]))
        if isinstance(out, torch.Tensor):
            if self.traced:
                return TracedArray(out)
            if out.ndim == 0:
                if out.is_floating_point():
                    return scalar_result(out)
                return out.detach().cpu().numpy()[()]  # a NumPy scalar: a copy
            return self.numpy(out)[()]
        return out.value if type(out) is _Kept else out  # aux's Python numbers


# the engine's remedies name npgrad.function's options (mode='numeric', a backward);
# the transforms take neither, so their errors name what they do take
_RULE = "register a rule for it with @npgrad.implements"
_REMEDIES = tuple((re.compile(a), b) for a, b in (
    (r"register a backward with @op\.backward, or a rule with @npgrad\.implements, or use "
     r"mode='numeric'", "register a rule with @npgrad.implements"),
    (r", or a backward with @op\.backward, or use mode='numeric'", ""),
    (r"register a backward with @op\.backward, or use mode='numeric'", _RULE),
    (r"register a backward,? or use mode='numeric'",
     f"{_RULE}, or compute it outside the differentiated function"),
    (r"(?:,? or)? use mode='numeric'", f"; {_RULE}"),
))  # fmt: skip


def _outside_inference(run: Callable) -> Callable:
    """``run`` with autograd able to record: under ``torch.inference_mode`` (which
    ``enable_grad`` does not lift) the leaves made from the arguments would be
    inference tensors, recorded by nothing, and every gradient a silent zero."""

    @functools.wraps(run)
    def call(*args: Any, **kwargs: Any) -> Any:
        if torch.is_inference_mode_enabled():
            with torch.inference_mode(False):
                return run(*args, **kwargs)
        return run(*args, **kwargs)

    return call


def _run(f: Callable, where: str, inputs: _Inputs, kwargs: dict) -> Any:
    # callers hold torch.enable_grad(): a caller's no_grad must not stop the recording
    return trace(f, inputs.call, kwargs, name=where, device=inputs.device, named=True)


def in_api_words(text: str) -> str:
    """A message advising npgrad.function's options, in the transforms' words."""
    for pattern, words in _REMEDIES:
        text = pattern.sub(words, text)
    return text.replace("; ; ", "; ").replace(";; ", "; ")


class _in_api_words:
    """Around a transform's call: a TraceError (from the trace, or from a refusing
    row's backward) that advises npgrad.function's options gets this level's."""

    __slots__ = ()

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: Any, e: Any, tb: Any) -> None:
        if kind is None or not issubclass(kind, TraceError) or "mode='numeric'" not in str(e):
            return
        err = kind(in_api_words(str(e)))
        err.__notes__ = list(getattr(e, "__notes__", ()))
        raise err.with_traceback(tb) from None


_API_WORDS = _in_api_words()


def _shown(out: Any) -> str:
    """A function's result as the NumPy code that made it would see it."""
    if isinstance(out, torch.Tensor):
        return "a scalar" if out.ndim == 0 else f"an array of shape {tuple(out.shape)}"
    if type(out) in (tuple, list):
        items = ", ".join(_shown(v) for v in out[:4]) + (", ..." if len(out) > 4 else "")
        return f"a {type(out).__name__} of {len(out)} ({items})"
    if out is None or isinstance(out, (bool, int, float, complex, str)):
        return f"{type(out).__name__} {out!r:.60}"
    return f"a {type(out).__name__}"  # its repr may hold traced values as tensors


def _differentiable(out: Any, where: str, what: str) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        hint = (
            "; if its second item is auxiliary data, pass has_aux=True"
            if type(out) in (tuple, list) and len(out) == 2
            else ""
        )
        raise TypeError(f"{where}: {what} must be a float array or number, got {_shown(out)}{hint}")
    if out.is_complex():
        raise TypeError(
            f"{where}: {what} is complex ({TORCH_TO_NP[out.dtype]}); return a real value "
            "(for example np.abs or .real of it)"
        )
    if not out.is_floating_point():
        raise TypeError(
            f"{where}: {what} has the {'boolean' if out.dtype is torch.bool else 'integer'} "
            f"dtype {TORCH_TO_NP[out.dtype]}; "
            "only a float result has a gradient"
        )
    return out


def _scalar(out: Any, where: str, what: str = "the function's result") -> torch.Tensor:
    out = _differentiable(out, where, what)
    if out.ndim != 0:
        raise TypeError(
            f"{where}: {what} must be a scalar, got an array of shape {tuple(out.shape)}; "
            "reduce it (np.sum, np.mean), or use npgrad.jacobian"
        )
    return out


def _split(ys: list[Any], as_tuple: bool) -> Any:
    return tuple(ys) if as_tuple else ys[0]


# --------------------------------------------------------------- transforms
def _value_and_grad(f: Callable, argnums: Any, has_aux: bool, device: Any, where_f: str):
    seen: dict[int, tuple] = {}  # argnums checked once per argument count
    dev = _device(device, where_f)

    @_outside_inference
    def run(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        nums, as_tuple = seen.get(len(args)) or seen.setdefault(
            len(args), _argnums(argnums, len(args), where_f)
        )
        if not kwargs and not has_aux and not STATE.ops and torch.is_grad_enabled():
            with _API_WORDS:
                done = _quick_value_and_grad(f, where_f, args, nums, as_tuple, dev)
            if done is not None:
                return done
        with torch.enable_grad(), _API_WORDS:
            return _value_and_grad_call(f, where_f, args, kwargs, nums, as_tuple, has_aux, dev)

    return run


def _value_and_grad_call(
    f: Callable, where_f: str, args: tuple, kwargs: dict, nums: tuple, as_tuple: bool,
    has_aux: bool, device: torch.device,
) -> tuple[Any, Any]:  # fmt: skip
    inputs = _Inputs(f, where_f, args, kwargs, nums, device)
    out = _run(_keeping_aux(f, where_f) if has_aux else f, where_f, inputs, kwargs)
    aux = None
    if has_aux:
        if type(out) not in (tuple, list) or len(out) != 2:
            raise TypeError(
                f"{where_f}: has_aux=True needs the function to return a pair "
                f"(value, aux), got {_shown(out)}"
            )
        out, aux = out
    value = _scalar(out, where_f)
    xs = inputs.flat()
    flat = _backward([value], xs, None, create_graph=inputs.traced)
    g = _split(inputs.gradients(flat), as_tuple)
    v = inputs.value(value)
    return ((v, inputs.value(aux)) if has_aux else v), g


def _quick_value_and_grad(
    f: Callable, where_f: str, args: tuple, nums: tuple, as_tuple: bool, device: torch.device
) -> tuple[Any, Any] | None:
    """:func:`_value_and_grad_call` for the common call, in fewer steps (a small
    objective's whole gradient costs about as much as the general route's Python):
    positional arguments, none a container or a traced array, float ndarrays
    differentiated, grad mode on, no outer trace, no aux.  ``None`` (before running
    anything) for any other call; results, checks and errors are the general route's."""
    arrays = []
    for v in args:
        kind = type(v)
        if kind is np.ndarray:
            arrays.append(v)
        elif kind is list or kind is dict or isinstance(v, (tuple, TracedArray)):
            return None  # (a tuple subclass too: a namedtuple is a container)
    call = list(args)
    xs = []
    for n in nums:
        x = args[n]
        if type(x) is not np.ndarray or x.dtype not in _FLOATS:
            return None
        t = call[n] = _array_leaf(x, device)
        xs.append(t)
    out = trace(f, call, None, name=where_f, device=device)  # (no tuple argument here)
    if type(out) is not torch.Tensor or out.ndim or not out.is_floating_point():
        out = _scalar(out, where_f)  # raises the general route's error (or passes a subclass)
    flat = _backward([out], xs, None, create_graph=False)
    handed = set() if len(flat) > 1 else None  # one gradient sent to two arguments (x + y)
    grads = [result_array(g, arrays, handed) for g in flat]
    return scalar_result(out), (tuple(grads) if as_tuple else grads[0])


class _Kept:
    """A Python value in ``aux``, out of the engine's reach (which makes numbers
    tensors): ``aux`` comes back with its numbers as they were."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _keep(x: Any, where: str) -> Any:
    kept = []
    for v in _leaves(x):
        if type(v) in (bool, int, float, complex):
            v = _Kept(v)
        elif hasattr(v, "__dict__") and not isinstance(v, (TracedArray, np.ndarray)):
            for k, a in vars(v).items():
                if isinstance(a, TracedArray):  # it would come back traced, not NumPy
                    raise TypeError(
                        f"{where}: has_aux=True: the aux value holds a traced array in "
                        f"attribute {k!r} of a {type(v).__name__} object; return arrays in "
                        "tuples, lists, dicts or namedtuples, which come back as NumPy arrays"
                    )
        kept.append(v)
    return _rebuild(x, iter(kept))


def _keeping_aux(f: Callable, where: str) -> Callable:
    @functools.wraps(f)  # f's signature: errors name its arguments, not *args
    def run(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        if type(out) in (tuple, list) and len(out) == 2:
            return type(out)((out[0], _keep(out[1], where)))
        return out  # refused by the caller, with the message

    return run


def value_and_grad(
    f: Callable,
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    *,
    device: Any = "cpu",
    jit: bool | str = False,
) -> Callable:
    """A function returning ``(f(*args), gradient)``; ``((value, aux), gradient)``
    with ``has_aux=True`` (as in JAX).  Suits ``scipy.optimize.minimize(..., jac=True)``.

    >>> import numpy as np, npgrad
    >>> value, g = npgrad.value_and_grad(lambda x: np.sum(x**2))(np.array([1.0, 2.0]))
    >>> float(value), g
    (5.0, array([2., 4.]))

    ``jit=True`` compiles the value and gradient once per input signature (the
    arguments' structure, shapes and dtypes, and the values of the non-array
    arguments) with inductor; code that cannot be compiled (it reads values, or
    draws random numbers) warns once and runs eagerly, or raises with
    ``jit="strict"``.  So do ``grad``, ``jacobian`` and ``hessian``.
    """
    _callable(f, "value_and_grad")
    where = f"npgrad.value_and_grad({_fname(f)})"
    run = _value_and_grad(f, argnums, has_aux, device, where)
    return functools.wraps(f)(
        _jitted("value_and_grad", f, argnums, has_aux, device, where, jit, run)
    )


def _jitted(kind: str, f: Callable, argnums: Any, has_aux: bool, device: Any, where: str,
            jit: Any, eager: Callable) -> Callable:  # fmt: skip
    if jit is False:
        return eager
    from ._jit import wrap

    return wrap(kind, f, argnums, has_aux, device, where, jit, eager)


def grad(
    f: Callable,
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    *,
    device: Any = "cpu",
    jit: bool | str = False,
) -> Callable:
    """The gradient of a scalar-valued NumPy function, as a NumPy function.

    Each differentiated argument's gradient has its structure and dtype: an ndarray
    for an ndarray, a NumPy scalar (``np.float64``) for a Python or NumPy float; a
    tuple of them when ``argnums`` is a tuple; ``(gradient, aux)`` with ``has_aux``.

    >>> import numpy as np, npgrad
    >>> npgrad.grad(lambda x: np.sum(np.sin(x)))(np.zeros(3))
    array([1., 1., 1.])
    >>> npgrad.grad(npgrad.grad(lambda x: x**3))(2.0)  # second derivative, 6 x
    np.float64(12.0)
    """
    _callable(f, "grad")
    where = f"npgrad.grad({_fname(f)})"
    vg = _value_and_grad(f, argnums, has_aux, device, where)
    vg = _jitted("value_and_grad", f, argnums, has_aux, device, where, jit, vg)

    @functools.wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return run


def jacobian(
    f: Callable, argnums: int | tuple[int, ...] = 0, *, device: Any = "cpu", jit: bool | str = False
) -> Callable:
    """The Jacobian of a NumPy function: ``out.shape + x.shape`` for each output and
    differentiated argument (reverse mode, one backward pass per output element).
    Suits ``scipy.optimize.least_squares(..., jac=npgrad.jacobian(residuals))``.

    >>> import numpy as np, npgrad
    >>> npgrad.jacobian(lambda x: x**2)(np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
    """
    _callable(f, "jacobian")
    where = f"npgrad.jacobian({_fname(f)})"
    run = _jacobian(f, argnums, device, where)
    return functools.wraps(f)(_jitted("jacobian", f, argnums, False, device, where, jit, run))


def _jacobian(f: Callable, argnums: Any, device: Any, where_f: str) -> Callable:
    dev = _device(device, where_f)

    @_outside_inference
    def run(*args: Any, **kwargs: Any) -> Any:
        nums, as_tuple = _argnums(argnums, len(args), where_f)
        with torch.enable_grad(), _API_WORDS:
            return _jacobian_call(f, where_f, args, kwargs, nums, as_tuple, dev)

    return run


def _jacobian_call(
    f: Callable, where_f: str, args: tuple, kwargs: dict, nums: tuple, as_tuple: bool,
    device: torch.device,
) -> Any:  # fmt: skip
    inputs = _Inputs(f, where_f, args, kwargs, nums, device)
    out = _run(f, where_f, inputs, kwargs)
    ys = [
        _differentiable(y, where_f, f"the function's result{p}")
        for y, p in zip(_leaves(out), _path(out))
    ]
    xs = inputs.flat()
    blocks = []  # per output leaf: its Jacobian per argnum, arranged as the arguments
    for y in ys:
        flat = _jacobian_of(y, xs, create_graph=inputs.traced)
        blocks.append(_split(inputs.gradients(flat), as_tuple))
    return _rebuild(out, iter(blocks))


def hessian(
    f: Callable, argnums: int | tuple[int, ...] = 0, *, device: Any = "cpu", jit: bool | str = False
) -> Callable:
    """The Hessian of a scalar-valued NumPy function: the Jacobian of its gradient,
    shaped ``x.shape + x.shape`` (a tuple of tuples for a tuple of ``argnums``, as
    in JAX).  Suits ``scipy.optimize.minimize(..., hess=npgrad.hessian(f))``.

    >>> import numpy as np, npgrad
    >>> npgrad.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    _callable(f, "hessian")
    name = f"npgrad.hessian({_fname(f)})"
    inner = _value_and_grad(f, argnums, False, device, name)

    @functools.wraps(f)  # f's signature: errors name its arguments
    def gradient(*args: Any, **kwargs: Any) -> Any:
        return inner(*args, **kwargs)[1]

    run = _jacobian(gradient, argnums, device, name)
    return functools.wraps(f)(_jitted("hessian", f, argnums, False, device, name, jit, run))


def hvp(f: Callable, argnums: int | tuple[int, ...] = 0, *, device: Any = "cpu") -> Callable:
    """A Hessian-vector product ``h(x, v, *rest) = hessian(f)(x, *rest) @ v``, without
    forming the Hessian (two backward passes); the signature of scipy.optimize's
    ``hessp(x, p, *args)``.  ``v`` comes right after the differentiated argument (after
    the last one, as a tuple of tangents, for a tuple of ``argnums``).

    >>> import numpy as np, npgrad
    >>> h = npgrad.hvp(lambda x: np.sum(x**3))
    >>> h(np.array([1.0, 2.0]), np.array([1.0, 1.0]))  # 6 x * v
    array([ 6., 12.])
    """
    _callable(f, "hvp")
    where_f = f"npgrad.hvp({_fname(f)})"
    device = _device(device, where_f)

    @functools.wraps(f)
    @_outside_inference
    def run(*args: Any, **kwargs: Any) -> Any:
        after = max(argnums) if isinstance(argnums, (tuple, list)) and argnums else argnums
        if len(args) < 2:
            raise TypeError(f"{where_f}: expected the arguments and a vector v, got {args!r:.80}")
        if not isinstance(after, int) or isinstance(after, bool):
            _argnums(argnums, len(args) - 1, where_f)  # words the error
        pos = after % (len(args) - 1) + 1
        v, fargs = args[pos], args[:pos] + args[pos + 1 :]
        nums, as_tuple = _argnums(argnums, len(fargs), where_f)
        inputs = _Inputs(f, where_f, fargs, kwargs, nums, device)
        vs = v if as_tuple else (v,)
        if type(vs) not in (tuple, list) or len(vs) != len(nums):
            raise TypeError(f"{where_f}: v must be a tuple of {len(nums)} tangents, one per argnum")
        xs = inputs.flat()
        tangents, cts = [], []
        it = iter(xs)
        for i, (x_tree, vt) in enumerate(zip(inputs.trees, vs)):
            what = f"{where_f}: v" + (f"[{i}]" if as_tuple else "")
            for t, p in _aligned(vt, x_tree, what):  # by key and field, not by position
                tangents.append(t)
                cts.append(_cotangent(t, next(it), f"{what}{p}"))
        with torch.enable_grad(), _API_WORDS:
            value = _scalar(_run(f, where_f, inputs, kwargs), where_f)
            g = _backward([value], xs, None, create_graph=True)
            flat = _backward(g, xs, cts, create_graph=inputs.traced)
        return _split(inputs.gradients(flat, extra=tuple(tangents)), as_tuple)

    return run


def _cotangent(v: Any, like: torch.Tensor, where: str) -> torch.Tensor:
    """A tangent or cotangent as a tensor of ``like``'s shape, dtype and device."""
    if isinstance(v, TracedArray):
        t = v.t
    elif isinstance(v, (np.ndarray, np.generic, float, int, list, tuple)) and not isinstance(
        v, bool
    ):  # (a list of numbers too, as NumPy reads it)
        a = np.asarray(v)
        if a.dtype.kind not in "fiu":
            raise TypeError(f"{where} has dtype {a.dtype}; expected a real array")
        # a copy in native byte order: torch takes neither read-only memory (it warns)
        # nor big-endian data, and the backward must not hold the caller's array
        t = torch.from_numpy(np.array(a, dtype=a.dtype.newbyteorder("=")))
    else:
        raise TypeError(f"{where} is {type(v).__name__} {v!r:.60}; expected a NumPy array")
    if tuple(t.shape) != tuple(like.shape):
        raise ValueError(f"{where} has shape {tuple(t.shape)}, expected {tuple(like.shape)}")
    return t.to(dtype=like.dtype, device=like.device)


@_outside_inference
def vjp(f: Callable, *primals: Any, device: Any = "cpu") -> tuple[Any, Callable]:
    """``f(*primals)`` and a function mapping a cotangent (the output's structure)
    to the tuple of gradients, one per primal, as ``jax.vjp``.  The recorded graph
    is kept, so ``vjp_fn`` may be called many times.

    >>> import numpy as np, npgrad
    >>> out, vjp_fn = npgrad.vjp(lambda x: 2 * x, np.array([1.0, 2.0]))
    >>> out, vjp_fn(np.array([1.0, 10.0]))
    (array([2., 4.]), (array([ 2., 20.]),))
    """
    _callable(f, "vjp")
    where_f = f"npgrad.vjp({_fname(f)})"
    if not primals:
        raise TypeError(f"{where_f}: no primals given; call vjp(f, x, ...)")
    nums = tuple(range(len(primals)))
    inputs = _Inputs(f, where_f, primals, {}, nums, device, own=True)
    with torch.enable_grad(), _API_WORDS:
        out = _run(f, where_f, inputs, {})
    ys = [
        _differentiable(y, where_f, f"the function's result{p}")
        for y, p in zip(_leaves(out), _path(out))
    ]
    xs = inputs.flat()

    @_outside_inference
    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        pairs = _aligned(cotangent, out, f"{where_f}: the cotangent")
        cl = [c for c, _ in pairs]
        cts = [_cotangent(c, y, f"{where_f}: cotangent{p}") for (c, p), y in zip(pairs, ys)]
        # each call's results are checked against the value's and each other's buffers
        # only (an earlier call's results, freed, have buffers the allocator reuses)
        inputs.handed = set(given)
        with torch.enable_grad(), _API_WORDS:
            flat = _backward(ys, xs, cts, create_graph=inputs.traced, retain_graph=True)
        return tuple(inputs.gradients(flat, extra=tuple(cl)))

    value = inputs.value(out)
    given = set(inputs.handed)  # the value's buffers
    return value, vjp_fn
