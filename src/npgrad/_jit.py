"""``jit=True`` for the NumPy-level API: one compiled kernel per input signature.

The transform (value and gradient, Jacobian, Hessian) is written as a function of
tensors, traced once by ``make_fx`` under fake tensors (the user's NumPy code runs on
the engine, and autograd's backward is traced with it) and handed to inductor. The
signature is the arguments' structure, every array's shape and dtype, and the values
of the other arguments (ints, strings, ...), which the kernel holds as constants;
every array, differentiated or not, is an input of the kernel.

Code whose trace needs the values (a Python number read from an array, a shape that
depends on values, random numbers, which a kernel would replay) is not compiled: the
jitted function warns once and runs eagerly, or raises with ``jit="strict"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from . import _numpy_api as api
from ._bridge.compiled import RandomWatch, captured_places, live_places, read_captured
from ._errors import JitFallbackWarning, NpgradError, user_stacklevel
from ._numpy_leaves import owned
from ._trace._engine import named_node
from ._trace._state import lifting

_CONSTANTS = (int, float, bool, str, type(None), np.generic)
# kernels one function may gain from new values of the numbers it captures (as
# Dynamo's recompile limit): past that it runs eagerly
_NUMBER_RETRACES = 8
# kernels one function may gain in all (shapes, options, namedtuple classes made per
# call): past this, new signatures run eagerly, as torch.compile's cache limit does
_MAX_KERNELS = 64


class _NotCompilable(Exception):
    pass


def _skeleton(x: Any, diff: bool, leaves: list, kinds: list) -> Any:
    """A hashable picture of ``x``: containers kept, each array as its shape and
    dtype (and appended to ``leaves``), each other value as itself."""
    kind = type(x)
    if kind in (list, tuple):
        return (kind.__name__, *(_skeleton(v, diff, leaves, kinds) for v in x))
    if named_node(x):  # a namedtuple, by its class
        return ("named", kind, *(_skeleton(v, diff, leaves, kinds) for v in x))
    if kind is dict:
        return ("dict", *((k, _skeleton(v, diff, leaves, kinds)) for k, v in x.items()))
    if diff:
        t, k = api._leaf_tensor(x, torch.device("cpu"))  # words a bad leaf's error
        leaves.append(t.detach())
        kinds.append(k)
        return ("d", k, t.dtype, tuple(t.shape))
    if kind is np.ndarray and x.dtype.kind in "biuf":
        leaves.append(x)
        return ("a", x.dtype.str, x.shape)
    if isinstance(x, _CONSTANTS):
        # by bits: nan must find its kernel again, and -0.0 must not find 0.0's
        if kind is float:
            return ("c", kind, x.hex())
        if isinstance(x, np.generic):
            return ("c", kind, x.dtype.str, x.tobytes())
        return ("c", kind, x)
    raise _NotCompilable(f"an argument of type {kind.__name__} cannot be a compiled constant")


def _loose(sk: Any) -> Any:
    """A skeleton with its numbers' values left out: a signature up to those (a
    string, None or a bool is an option: a kernel each, with no bound of its own)."""
    tag = sk[0]
    if tag == "c":
        kind = sk[1]
        number = kind in (int, float) or issubclass(kind, (np.integer, np.floating))
        return ("c", kind) if number else sk
    if tag in ("list", "tuple"):
        return (tag, *map(_loose, sk[1:]))
    if tag == "named":
        return (tag, sk[1], *map(_loose, sk[2:]))
    if tag == "dict":
        return (tag, *((k, _loose(v)) for k, v in sk[1:]))
    return sk


def _rebuild(sk: Any, leaves: Any) -> Any:
    tag = sk[0]
    if tag in ("list", "tuple"):
        items = [_rebuild(v, leaves) for v in sk[1:]]
        return items if tag == "list" else tuple(items)
    if tag == "named":
        return tuple.__new__(sk[1], [_rebuild(v, leaves) for v in sk[2:]])  # as _make
    if tag == "dict":
        return {k: _rebuild(v, leaves) for k, v in sk[1:]}
    if tag == "c":
        if sk[1] is float:
            return float.fromhex(sk[2])
        if len(sk) == 4:
            return np.frombuffer(sk[3], dtype=np.dtype(sk[2]))[0]
        return sk[2]
    return next(leaves)


def _as_tensor(a: Any, device: torch.device) -> torch.Tensor:
    """C order always: inductor's kernel is built for the strides it was traced with."""
    if isinstance(a, torch.Tensor):
        return a.to(device).contiguous()
    if not a.dtype.isnative:  # big-endian data: torch holds native order only
        a = a.astype(a.dtype.newbyteorder("="))
    if not (a.flags.c_contiguous and a.flags.writeable and a.flags.aligned):
        a = np.array(a, order="C")  # read-only memory would warn in from_numpy
    return torch.from_numpy(a).to(device)


def _fast_key(args: tuple) -> tuple | None:
    """The common call's signature, cheaply: positional C-order arrays only."""
    key = []
    for a in args:
        if type(a) is not np.ndarray:
            return None
        f = a.flags
        if not (f.c_contiguous and f.writeable and f.aligned and a.dtype.isnative):
            return None
        key.append((a.shape, a.dtype))
    return tuple(key)


class Jitted:
    """A transform's kernels, one per input signature; eager where none compiles."""

    def __init__(self, kind: str, f: Callable, argnums: Any, has_aux: bool, device: Any,
                 where: str, strict: bool, eager: Callable) -> None:  # fmt: skip
        self.kind, self.f, self.argnums, self.has_aux = kind, f, argnums, has_aux
        self.device, self.where, self.strict, self.eager = (
            torch.device(device),
            where,
            strict,
            eager,
        )
        self.kernels: dict[tuple, Any] = {}
        # the common call (positional C-order arrays): a kernel and no tree walking
        self.fast: dict[tuple | None, Callable] = {}
        self.warned = False
        # where f reads values from outside its arguments (closure cells, globals,
        # defaults): read at every call, never frozen into a kernel
        self.places = captured_places(f)
        self.live = live_places(self.places)  # (refreshed by each general call)
        self.stamps: set = set()
        self.rebuilds = 0  # kernels rebuilt because the captured arrays changed
        # the kernels per signature without its numbers' values: a number argument
        # (a schedule's step size) compiles a kernel per value, so past a few it is
        # run eagerly, with a warning naming it
        self.by_numbers: dict[tuple, list[tuple]] = {}

    def _captured(self) -> tuple[tuple, list]:
        """What ``f`` captures now: the numbers (by value, bitwise) and the arrays'
        shapes and dtypes, for the kernel's key, and the arrays, for its inputs (a
        kernel reads them at run time: an array rebound or written in place is seen).
        """
        if not self.live:
            return (), []
        stamp, ints, floats, found = read_captured(self.live)
        arrays, scalars = [], []
        for a in found:
            if isinstance(a, np.generic):
                scalars.append((a.dtype.str, a.tobytes()))
            elif a.dtype.kind in "biufc":
                arrays.append(a)
            else:
                raise _NotCompilable(f"it captures an array of dtype {a.dtype}")
        numbers = (stamp, tuple(ints), tuple(v.hex() for v in floats), tuple(scalars))
        return (numbers, tuple((a.dtype.str, a.shape) for a in arrays)), arrays

    @api._outside_inference
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs and not api._inside_trace():
            if not self.live:
                fast = self.fast.get(_fast_key(args))
                if fast is not None:
                    return fast(args, [])
            else:
                try:
                    cap_key, caps = self._captured()
                except _NotCompilable as e:
                    return self._fallback(str(e), args, kwargs)
                fast = self.fast.get((_fast_key(args), cap_key))
                if fast is not None:
                    return fast(args, caps)
        return self._general(args, kwargs)

    def _general(self, args: tuple, kwargs: dict) -> Any:
        if api._inside_trace() or any(
            isinstance(v, api.TracedArray) for v in api._leaves(kwargs, api._leaves(args))
        ):
            return self.eager(*args, **kwargs)  # an outer trace records through it
        live = live_places(self.places)
        if live != self.live:  # a global bound since: the fast keys change shape
            self.live = live
            self.fast.clear()
        try:
            cap_key, caps = self._captured()
        except _NotCompilable as e:
            return self._fallback(str(e), args, kwargs)
        nums, as_tuple = api._argnums(self.argnums, len(args), self.where)
        leaves: list = []
        kinds: dict[int, list] = {n: [] for n in nums}
        try:
            key = (
                nums,
                tuple(
                    _skeleton(a, i in kinds, leaves, kinds.get(i, [])) for i, a in enumerate(args)
                ),
                _skeleton(kwargs, False, leaves, []),
            )
            hash(key)
            n_args = len(leaves)
            key = (*key, cap_key)
            leaves.extend(caps)
        except api._BadLeaf:
            return self.eager(*args, **kwargs)  # which words the error
        except (_NotCompilable, TypeError) as e:  # TypeError: an unhashable constant
            return self._fallback(str(e), args, kwargs)
        kernel = self.kernels.get(key)
        if type(kernel) is tuple and kernel[2] is not None and not _unchanged(caps, kernel[2]):
            # it froze values NumPy computed, perhaps from the captured arrays (X * 2),
            # and those changed since: a new kernel, or eager past the limit
            self.rebuilds += 1
            kernel = None
        if kernel is None:
            loose = (nums, tuple(map(_loose, key[1])), _loose(key[2]), cap_key)
            seen = self.by_numbers.setdefault(loose, [])
            if key not in seen:  # (not a rebuild, which the captured arrays count)
                if len(seen) >= _NUMBER_RETRACES:
                    return self._fallback(self._changing_number(seen[-1], key), args, kwargs)
                if len(self.kernels) >= _MAX_KERNELS:
                    why = f"more than {_MAX_KERNELS} input signatures, a kernel each"
                    return self._fallback(why, args, kwargs)
                seen.append(key)
            if cap_key:
                self.stamps.add(cap_key[0])
                if len(self.stamps) + self.rebuilds > _NUMBER_RETRACES:
                    why = (
                        f"the numbers it captures took more than {_NUMBER_RETRACES} values, "
                        "a kernel each"
                        if not self.rebuilds
                        else "the arrays it captures changed, and its kernel holds values "
                        "NumPy computed, perhaps from them (X * 2): a kernel each time, "
                        f"past {_NUMBER_RETRACES}"
                    )
                    return self._fallback(why, args, kwargs)
            try:
                kernel = self._compile(key, leaves, n_args)
            except _NotCompilable as e:
                kernel = str(e)
            self.kernels[key] = kernel
        if isinstance(kernel, str):
            return self._fallback(kernel, args, kwargs)
        compiled, pack, snaps = kernel
        if not kwargs and self.kind == "value_and_grad" and not self.has_aux:
            fast_key = _fast_key(args)
            if fast_key is not None:
                self.fast[(fast_key, cap_key) if self.live else fast_key] = self._fast_call(
                    compiled, nums, as_tuple, snaps
                )
        outs = compiled(*[_as_tensor(a, self.device) for a in leaves])
        return pack(outs, _results(args, kwargs, nums, kinds, caps), as_tuple)

    def _changing_number(self, last: tuple, key: tuple) -> str:
        """Why a signature seen with other numbers is not compiled again, naming the
        arguments whose numbers differ from the last kernel's."""
        where = [api._argname(self.f, i) for i, (a, b) in enumerate(zip(last[1], key[1]))
                 if a != b]  # fmt: skip
        if last[2] != key[2]:
            where.append("a keyword argument")
        return (
            f"{' and '.join(where) or 'an argument'} took more than {_NUMBER_RETRACES} "
            "values, a kernel each (a number is compiled in as a constant); a float "
            "that changes every call is best passed as a 0-d array of your data's "
            "dtype, np.asarray(value, x.dtype), which the kernel reads at run time"
        )

    def _fast_call(
        self, compiled: Callable, nums: tuple, as_tuple: bool, snaps: list | None
    ) -> Callable:
        """Value and gradient for positional C-order arrays: the kernel and NumPy views
        of its results, a copy only where a result is an input's memory (and, for a
        kernel holding snapshots, the general call once the captured arrays differ)."""
        device = self.device
        on_cpu = device.type == "cpu"

        def numpy(t: torch.Tensor, inputs: set) -> np.ndarray:
            if not on_cpu:
                return t.detach().cpu().numpy()
            t = owned(t)
            a = t.numpy()
            ptr = t.untyped_storage().data_ptr()
            if ptr in inputs:
                return a.copy()
            inputs.add(ptr)  # two results in one buffer: the second is copied
            return a

        def run(args: tuple, caps: list) -> Any:
            if snaps is not None and not _unchanged(caps, snaps):
                return self._general(args, {})
            ts = [torch.from_numpy(a) for a in args] + [_as_tensor(a, device) for a in caps]
            outs = compiled(*ts) if on_cpu else compiled(*[t.to(device) for t in ts])
            inputs = {t.untyped_storage().data_ptr() for t in ts} if on_cpu else set()
            value = outs[0].cpu().numpy()[()]
            grads = [numpy(g, inputs) for g in outs[1:]]
            return value, (tuple(grads) if as_tuple else grads[0])

        return run

    def _fallback(self, why: str, args: tuple, kwargs: dict) -> Any:
        msg = f"{self.where}: jit could not compile the function ({api.in_api_words(why)})"
        # a function that fails eagerly too (a result that is no scalar) gets that
        # error, not a compiler's: the compile failed for the user's reason
        out = self.eager(*args, **kwargs)
        if self.strict:
            raise NpgradError(msg + "; pass jit=True to run it eagerly instead")
        if not self.warned:
            self.warned = True
            warnings.warn(
                msg + "; it runs eagerly (this warning is shown once)",
                JitFallbackWarning,
                stacklevel=user_stacklevel(),
            )
        return out

    # ------------------------------------------------------------- tracing
    def _compile(self, key: tuple, leaves: list, n_args: int) -> tuple[Callable, Callable]:
        from torch._inductor import compile as inductor_compile
        from torch.fx.experimental.proxy_tensor import make_fx

        nums, arg_sk, kw_sk, _ = key
        caps = leaves[n_args:]  # the captured arrays: inputs after the arguments'
        marks = _leaf_owners(arg_sk, kw_sk) + [None] * len(caps)
        order = [i for n in nums for i, m in enumerate(marks) if m == n]
        found: dict[str, Any] = {}

        def body(*flat: torch.Tensor) -> tuple:
            it = iter(flat)
            call = [_rebuild(sk, it) for sk in arg_sk]
            call_kwargs = _rebuild(kw_sk, it)
            diff = [flat[i] for i in order]  # in argnums' order, as the results are
            lift = found["lift"] = lifting(zip(caps, flat[n_args:]))
            with torch.enable_grad(), lift:
                # aux's Python numbers stay numbers, as in the eager route
                f = api._keeping_aux(self.f, self.where) if self.has_aux else self.f
                out = api.trace(
                    f, call, call_kwargs, name=self.where, device=self.device, named=True
                )
                return self._transform(out, diff, found)

        examples = [
            _as_tensor(a, self.device).detach().requires_grad_(m is not None)
            for a, m in zip(leaves, marks)
        ]
        watch = RandomWatch(self.f)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gm = make_fx(body, tracing_mode="fake")(*examples)
        except _NotCompilable:
            raise
        except Exception as e:  # noqa: BLE001 - any failure: not compilable
            raise _NotCompilable(_why(e)) from None
        finally:
            drew = watch.drew()
            # the trace's draws are not the user's: the eager run draws them afresh
            watch.restore()
        if drew:
            raise _NotCompilable("it draws random numbers, which a kernel would replay")
        try:
            with warnings.catch_warnings():  # inductor's own deprecations, not the user's
                warnings.simplefilter("ignore")
                compiled = inductor_compile(gm, [t.detach() for t in examples])
        except Exception as e:  # noqa: BLE001 - a value-dependent shape (x[x > 0]) fails here
            raise _NotCompilable(_why(e)) from None
        # a NumPy value frozen into the kernel may be computed from a captured array:
        # the kernel keeps copies of those arrays, compared at each call
        snaps = _snapshot(caps) if found["lift"].baked else None
        return compiled, self._packer(found), snaps

    def _transform(self, out: Any, diff: list, found: dict) -> tuple:
        where = self.where
        if self.kind == "value_and_grad":
            aux = None
            if self.has_aux:
                if type(out) not in (tuple, list) or len(out) != 2:
                    raise _NotCompilable("has_aux=True needs a (value, aux) pair")
                out, aux = out
            value = api._scalar(out, where)
            grads = api._backward([value], diff, None, create_graph=False)
            aux_arrays = []
            for a in api._leaves(aux) if self.has_aux else ():
                if isinstance(a, torch.Tensor):
                    aux_arrays.append(a.detach())
                elif type(a) is not api._Kept:  # a number is kept, as it came
                    raise _NotCompilable("aux holds values that are not arrays or numbers")
            found["aux"] = aux
            return (value.detach(), *grads, *aux_arrays)
        if self.kind == "jacobian":
            ys = [api._differentiable(y, where, "the function's result") for y in api._leaves(out)]
            found["out"] = out
            return tuple(
                b for y in ys for b in api._jacobian_of(y, diff, create_graph=False, batched=False)
            )
        # the Hessian: the Jacobian of the gradient
        value = api._scalar(out, where)
        grads = api._backward([value], diff, None, create_graph=True)
        return tuple(
            b for g in grads for b in api._jacobian_of(g, diff, create_graph=False, batched=False)
        )

    def _packer(self, found: dict) -> Callable:
        kind, has_aux = self.kind, self.has_aux

        def pack(outs: list, inputs: Any, as_tuple: bool) -> Any:
            n = sum(len(k) for k in inputs.kinds)
            if kind == "value_and_grad":
                value = inputs.value(outs[0])
                g = api._split(inputs.gradients(list(outs[1 : 1 + n])), as_tuple)
                if not has_aux:
                    return value, g
                arrays = iter(outs[1 + n :])
                leaves = [v if type(v) is api._Kept else next(arrays) for v in
                          api._leaves(found["aux"])]  # fmt: skip
                return (value, inputs.value(api._rebuild(found["aux"], iter(leaves)))), g
            blocks = [list(outs[i : i + n]) for i in range(0, len(outs), n)]
            arranged = iter([api._split(inputs.gradients(b), as_tuple) for b in blocks])
            if kind == "jacobian":
                return api._rebuild(found["out"], arranged)
            # the gradient's structure: the differentiated arguments' own
            return api._rebuild(api._split(list(inputs.trees), as_tuple), arranged)

        return pack


def _why(e: Exception) -> str:
    """Why a compile failed, in the user's terms where torch's are its internals."""
    name = type(e).__name__  # GuardOnDataDependentSymNode, DynamicOutputShapeException
    if "DataDependent" in name or "DynamicOutputShape" in name:
        return (
            "a shape or a branch depends on the values (x[x > 0], np.nonzero, if x.sum() "
            "> 0:), which a kernel compiled once cannot follow"
        )
    text = str(e)
    if len(text) > 300:  # torch's may run on for pages: cut at a word, and say so
        text = text[:300].rsplit(" ", 1)[0] + " ..."
    return f"{type(e).__name__}: {text}"


def _bytes(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _snapshot(arrays: list) -> list:
    """Copies of ``arrays``' bytes (by bytes: nan equals itself, -0.0 is not 0.0)."""
    return [_bytes(a).copy() for a in arrays]


def _unchanged(arrays: list, snaps: list) -> bool:
    return all(np.array_equal(_bytes(a), s) for a, s in zip(arrays, snaps))


def _leaf_owners(arg_sk: tuple, kw_sk: Any) -> list[int | None]:
    """Per array leaf, in order: the argument it belongs to if differentiated."""
    owners: list[int | None] = []

    def walk(sk: Any, n: int | None) -> None:
        tag = sk[0]
        if tag in ("list", "tuple"):
            for v in sk[1:]:
                walk(v, n)
        elif tag == "dict":
            for _, v in sk[1:]:
                walk(v, n)
        elif tag == "named":
            for v in sk[2:]:
                walk(v, n)
        elif tag in ("d", "a"):
            owners.append(n if tag == "d" else None)

    for i, sk in enumerate(arg_sk):
        walk(sk, i)
    walk(kw_sk, None)
    return owners


def _results(args: tuple, kwargs: dict, nums: tuple, kinds: dict, caps: list) -> Any:
    """An ``_Inputs`` holding only what turns results back into NumPy; keyword and
    captured arrays (``caps``) are the kernel's inputs too, and a result that is one
    of its inputs (``np.dot(x, W)``'s gradient) is that array's memory."""
    inputs = object.__new__(api._Inputs)
    every = api._leaves(kwargs, api._leaves(args)) + list(caps)
    inputs.arrays = [v for v in every if type(v) is np.ndarray]
    inputs.traced = False
    inputs.handed = set()
    inputs.trees = [api._tree_copy(args[n]) for n in nums]
    inputs.kinds = [kinds[n] for n in nums]
    return inputs


def wrap(kind: str, f: Callable, argnums: Any, has_aux: bool, device: Any, where: str,
         jit: Any, eager: Callable) -> Callable:  # fmt: skip
    """``eager`` itself, or its jitted twin for ``jit=True`` / ``jit="strict"``."""
    if jit is False or jit is None:
        return eager
    if jit is not True and jit != "strict":
        raise ValueError(f"{where}: jit must be False, True or 'strict', got {jit!r}")
    return Jitted(kind, f, argnums, has_aux, device, where, jit == "strict", eager)
