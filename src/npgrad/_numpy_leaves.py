"""The NumPy-level API's inputs and results, leaf by leaf: the trees (nested lists,
tuples and dicts) the transforms take and give, an input leaf as a differentiable
tensor, and a result tensor as an array with memory of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ._dtypes import TORCH_TO_NP
from ._trace._array import TracedArray
from ._trace._engine import named_node
from ._trace._state import subclass_semantics

_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


# ------------------------------------------------------------------ trees
def _is_node(x: Any) -> bool:
    # the containers trace(named=True) walks; another tuple subclass is a leaf
    return type(x) in (list, tuple, dict) or _named(x)


_named = named_node  # a namedtuple with fields only: a node, as in JAX's pytrees


def _leaves(x: Any, out: list | None = None) -> list:
    """The leaves of ``x`` in order (a list: this runs on every call)."""
    out = [] if out is None else out
    kind = type(x)
    if kind is list or kind is tuple:
        for v in x:
            _leaves(v, out)
    elif kind is dict:
        for v in x.values():
            _leaves(v, out)
    elif _named(x):
        for v in x:
            _leaves(v, out)
    else:
        out.append(x)
    return out


def _rebuild(x: Any, new: Iterator[Any]) -> Any:
    """``x``'s structure with its leaves replaced, in order, by ``new``'s items."""
    if type(x) is dict:
        return {k: _rebuild(v, new) for k, v in x.items()}
    if type(x) in (list, tuple):
        return type(x)(_rebuild(v, new) for v in x)
    if _named(x):
        # tuple.__new__, as namedtuple's own _make: a class whose __new__ converts or
        # checks its fields (np.asarray) must not see tensors or traced arrays
        return tuple.__new__(type(x), [_rebuild(v, new) for v in x])
    return next(new)


def _tree_copy(x: Any) -> Any:
    """``x``'s containers copied, its leaves kept: the structure as it is now, which
    later edits of the caller's dicts and lists (``p["w"] = p.pop("w") - lr * g``)
    cannot change."""
    return _rebuild(x, iter(_leaves(x))) if _is_node(x) else x


def _aligned(v: Any, like: Any, what: str) -> list[tuple[Any, str]]:
    """The leaves of ``v`` (a tangent or cotangent) in the order of ``like``'s (the
    argument or result it stands for), with each one's place for messages: dicts
    matched by key and namedtuples by field name, whatever their order, lists and
    tuples by position; a structure that differs is refused, naming the place."""
    out: list[tuple[Any, str]] = []

    def refuse(path: str, want: str, got: Any) -> None:
        raise ValueError(f"{what}{path} should be {want}, like the value it stands for; "
                         f"got {_kind(got)}")  # fmt: skip

    def walk(v: Any, like: Any, path: str) -> None:
        if type(like) is dict:
            if not isinstance(v, dict) or set(v) != set(like):
                keys = ", ".join(map(repr, like))
                refuse(path, f"a dict with the keys {keys}", v)
            for k in like:
                walk(v[k], like[k], f"{path}[{k!r}]")
        elif _named(like):
            fields = type(like)._fields
            if _named(v) and set(type(v)._fields) == set(fields):
                for k in fields:
                    walk(getattr(v, k), getattr(like, k), f"{path}.{k}")
            elif type(v) in (list, tuple) and len(v) == len(like):
                for k, a, b in zip(fields, v, like):
                    walk(a, b, f"{path}.{k}")
            else:
                refuse(path, f"{_a(type(like).__name__)} with the fields {', '.join(fields)}", v)
        elif type(like) in (list, tuple):
            if not (type(v) in (list, tuple) or _named(v)) or len(v) != len(like):
                refuse(path, f"a list or tuple of {len(like)}", v)
            for i, (a, b) in enumerate(zip(v, like)):
                walk(a, b, f"{path}[{i}]")
        elif isinstance(v, dict) or _named(v):
            refuse(path, "an array", v)
        else:
            out.append((v, path))  # a list of numbers too: the caller reads it as an array

    walk(v, like, "")
    return out


def _kind(v: Any) -> str:
    if isinstance(v, dict):
        return f"a dict with the keys {', '.join(map(repr, v))}"
    if _named(v):
        return f"{_a(type(v).__name__)} with the fields {', '.join(type(v)._fields)}"
    if type(v) in (list, tuple):
        return f"a {type(v).__name__} of {len(v)}"
    return _a(type(v).__name__)


def _a(name: str) -> str:
    return f"{'an' if name[:1].lower() in tuple('aeiou') else 'a'} {name}"


def _path(x: Any) -> Iterator[str]:
    """Each leaf's place in ``x``, for error messages: ``['w']``, ``[1]``..."""
    if _named(x):
        for k, v in zip(type(x)._fields, x):
            for p in _path(v):
                yield f".{k}{p}"
    elif _is_node(x):
        items = x.items() if type(x) is dict else enumerate(x)
        for k, v in items:
            for p in _path(v):
                yield f"[{k!r}]{p}"
    else:
        yield ""


class _BadLeaf(TypeError):
    """A leaf that cannot be differentiated; the caller adds which argument it is."""


def _leaf_tensor(x: Any, device: torch.device) -> tuple[torch.Tensor, str]:
    """A differentiable tensor for one input leaf, and how to give its gradient back:
    ``"traced"`` (a TracedArray), ``"array"`` (an ndarray) or ``"scalar"``."""
    if type(x) is np.ndarray and x.dtype in _FLOATS:
        return _array_leaf(x, device), "array"  # the common leaf first
    if isinstance(x, TracedArray):
        t = x.t
        if not t.is_floating_point():
            raise _BadLeaf(f"is a traced {x.dtype} array; only floats have a gradient")
        # a fresh node on the outer graph: the gradient counts only the paths through
        # this argument (a closure over the same value is a constant here, as in JAX)
        return (t.view_as(t) if t.requires_grad else t.detach().requires_grad_()), "traced"
    if isinstance(x, torch.Tensor):
        raise _BadLeaf(
            "is a torch.Tensor; npgrad.grad and friends take NumPy arrays and "
            "return NumPy arrays (for tensors use torch.func, or npgrad.function)"
        )
    if isinstance(x, (bool, np.bool_, int, np.integer)):
        raise _BadLeaf(
            f"is the integer {x!r}: an integer has no gradient; pass a float "
            f"(e.g. {float(x)!r}) to differentiate with respect to it"
        )
    if isinstance(x, float):
        return torch.tensor(x, dtype=torch.float64, device=device).requires_grad_(), "scalar"
    if isinstance(x, np.generic) and x.dtype in _FLOATS:
        return torch.tensor(np.asarray(x), device=device).requires_grad_(), "scalar"
    if isinstance(x, np.ndarray):
        refused = subclass_semantics(x)
        if refused is not None:
            raise _BadLeaf(f"is {refused}")
        if x.dtype in _FLOATS:
            return _array_leaf(x, device), "array"
        native = x.dtype.newbyteorder("=")
        if native in _FLOATS:  # big-endian data (a file's): torch holds native order only
            return _array_leaf(x.astype(native), device), "array"
        if x.dtype.kind in "biu":
            raise _BadLeaf(
                f"is an array of dtype {x.dtype}: an integer or bool array has no "
                "gradient; pass it as floats (its .astype(float)) to differentiate with "
                "respect to it"
            )
        raise _BadLeaf(
            f"is an array of dtype {x.dtype}; only float16, float32 and float64 "
            "arrays can be differentiated"
        )
    if isinstance(x, tuple):  # a tuple subclass without fields, or with attributes
        has = "instance attributes, which its gradient could not keep" if getattr(
            x, "__dict__", None) else "no fields to rebuild it by"  # fmt: skip
        raise _BadLeaf(
            f"is a {type(x).__name__} (a tuple subclass with {has}); pass a plain "
            "tuple, list, dict or namedtuple of arrays"
        )
    raise _BadLeaf(
        f"is {type(x).__name__} {x!r:.60}; expected a float ndarray, a float, "
        "or a list, tuple or dict of them"
    )


def _array_leaf(x: np.ndarray, device: torch.device) -> torch.Tensor:
    t = None
    flags = x.flags
    if flags.writeable and flags.aligned:  # read-only memory would warn
        try:
            t = torch.from_numpy(x)  # no copy: the trace never writes into it
        except ValueError:  # negative strides
            pass
    if t is None:
        t = torch.from_numpy(np.array(x))
    if device != _CPU:
        t = t.to(device)
    return t.requires_grad_()


_CPU = torch.device("cpu")


def owned(t: torch.Tensor) -> torch.Tensor:
    """A CPU tensor whose elements each have memory of their own.  Torch gives some
    results as broadcast views (``np.sum``'s gradient: one 1.0 with stride 0), whose
    NumPy array would change every element when one is written."""
    if 0 in t.stride() and t.numel() > 1:
        return t.contiguous()
    return t


# np.may_share_memory without its __array_function__ dispatch (both are ndarrays)
_may_share_memory = getattr(np.may_share_memory, "_implementation", np.may_share_memory)


def result_array(t: torch.Tensor, arrays: tuple | list, handed: set[int] | None) -> np.ndarray:
    """A result tensor as an ndarray with memory of its own: never a view of the
    caller's ``arrays``, nor a broadcast view (:func:`owned`), nor a view of another
    result of the call (``handed``: the buffers given so far, this one added; ``None``
    for a call's only result).  bfloat16, which has no NumPy twin, comes as float32."""
    if t.requires_grad:
        t = t.detach()
    if t.dtype is torch.bfloat16:
        t = t.float()
    if not t.is_cpu:
        return t.cpu().numpy()  # a copy already
    t = owned(t)
    a = t.numpy()
    if handed is not None:
        ptr = t.untyped_storage().data_ptr()
        if ptr in handed:
            return a.copy()  # two results in one buffer (x + y sends one gradient to both)
        handed.add(ptr)
    for b in arrays:
        if _may_share_memory(a, b):
            return a.copy()  # never a view of the caller's data
    return a


def scalar_result(t: torch.Tensor) -> np.generic:
    """A 0-d float tensor as a NumPy scalar of its dtype, as NumPy's reductions give
    (float32 for bfloat16); ``.item()``'s Python float holds the value exactly."""
    if t.dtype is torch.bfloat16:
        return np.float32(t.float().item())
    return TORCH_TO_NP[t.dtype].type(t.item())
