"""The opaque compiled route: under ``torch.compile`` an op is two opaque custom ops.

NumPy and numeric modes always take it; automatic mode takes it where the
composite route (:mod:`.composite`) cannot follow the code.

Dynamo never traces the user's NumPy or SciPy code, so ``fullgraph=True`` holds.
Non-tensor arguments are encoded into a constant string key (str, bool, None) and
two scalar lists (int, float), which is what a custom op schema can carry; output
shapes are found once per input signature by running the op on stand-in inputs.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import pickle
import random
import threading
import types
import warnings
import weakref
from typing import Any

import numpy as np
import torch

from .. import _modes as modes
from .._call import Call
from .._dtypes import is_differentiable
from .._errors import NpgradError
from .._modes import auto

# key -> op, for the kernels; weak, so ops made on the fly can go
OPS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


def register(op: Any, key: str) -> None:
    OPS[key] = op


_SEP = "\x1f"  # between the arguments in a key
_NEST = "\x1e"  # between the tokens of one container argument


def _leaf_code(op: Any, a: Any, tensors: list, ints: list, floats: list, tokens: list) -> None:
    """Append ``a``'s tokens (a container: its tag and length, then its items, in
    order) to ``tokens``; its tensors, ints and floats go to their lists."""
    if isinstance(a, torch.Tensor):
        tensors.append(a)
        tokens.append("T")
    elif a is None:
        tokens.append("N")
    elif isinstance(a, bool):
        tokens.append("B1" if a else "B0")
    elif isinstance(a, int):
        ints.append(a)
        tokens.append("I")
    elif isinstance(a, float):
        floats.append(a)
        tokens.append("F")
    elif isinstance(a, str):
        tokens.append("S" + _plain(op, a, "string arguments"))
    elif type(a) is list or type(a) is tuple:
        # a parameter list or tuple (f(params, x) with params = [W, b]): its structure
        # goes into the key, so a new structure is a new graph, as a new shape is
        tokens.append(("L" if type(a) is list else "U") + str(len(a)))
        for v in a:
            _leaf_code(op, v, tensors, ints, floats, tokens)
    elif type(a) is dict:
        tokens.append("D" + str(len(a)))
        for k, v in a.items():
            if not isinstance(k, str):
                raise TypeError(
                    f"npgrad op '{op.name}': under torch.compile, a dict argument's keys "
                    f"must be strings; got a key of type {type(k).__name__}"
                )
            tokens.append("K" + _plain(op, k, "dict keys"))
            _leaf_code(op, v, tensors, ints, floats, tokens)
    else:
        raise TypeError(
            f"npgrad op '{op.name}': under torch.compile, arguments must be tensors, "
            "int, float, bool, str or None, or lists, tuples and dicts (string keys) "
            f"of those; got {type(a).__name__}"
        )


def _plain(op: Any, s: str, what: str) -> str:
    if _SEP in s or _NEST in s:
        raise ValueError(
            f"npgrad op '{op.name}': under torch.compile, {what} may not contain the "
            "characters \\x1e or \\x1f"
        )
    return s


def _encode(op: Any, args: tuple, kwargs: dict):
    """Split a call into tensors, ints, floats and a constant string key."""
    parts = [op.key]
    tensors: list[torch.Tensor] = []
    ints: list[int] = []
    floats: list[float] = []
    items = [(None, a) for a in args] + list(kwargs.items())
    for k, a in items:
        tokens: list[str] = []
        _leaf_code(op, a, tensors, ints, floats, tokens)
        parts.append(("" if k is None else k) + ":" + _NEST.join(tokens))
    return _SEP.join(parts), tensors, ints, floats


def _leaf_value(tokens: Any, ti: Any, ii: Any, fi: Any) -> Any:
    code = next(tokens)
    kind, rest = code[0], code[1:]
    if kind == "T":
        return next(ti)
    if kind == "I":
        return int(next(ii))
    if kind == "F":
        return float(next(fi))
    if kind == "B":
        return rest == "1"
    if kind == "S":
        return rest
    if kind in "LU":
        items = [_leaf_value(tokens, ti, ii, fi) for _ in range(int(rest))]
        return items if kind == "L" else tuple(items)
    if kind == "D":
        out = {}
        for _ in range(int(rest)):
            name = next(tokens)[1:]
            out[name] = _leaf_value(tokens, ti, ii, fi)
        return out
    return None


def _decode(key: str, tensors, ints, floats) -> tuple[Any, tuple, dict]:
    fid, *parts = key.split(_SEP)
    op = OPS[fid]
    ti, ii, fi = iter(tensors), iter(ints), iter(floats)
    args: list = []
    kwargs: dict = {}
    for p in parts:
        name, _, code = p.partition(":")
        value = _leaf_value(iter(code.split(_NEST)), ti, ii, fi)
        if name:
            kwargs[name] = value
        else:
            args.append(value)
    return op, tuple(args), kwargs


def _meta_key(key: str, tensors, ints, floats) -> tuple:
    # int() and float(): under dynamic shapes these may be symbolic, which cannot be
    # hashed; concrete values make Dynamo recompile for a new value instead
    shapes = tuple((tuple(int(s) for s in t.shape), t.dtype) for t in tensors)
    return (key, shapes, tuple(int(i) for i in ints), tuple(float(f) for f in floats))


def _probes(shapes: tuple) -> list[list[torch.Tensor]]:
    """Inputs to find output shapes with: zeros; random values in [0.5, 1.5); the same
    plus a large diagonal (an invertible, positive definite matrix for linear algebra).
    Integer and bool inputs (labels, masks) stay zero in every probe."""
    gen = torch.Generator().manual_seed(0)

    def filled(s, d, diagonal):
        if not (d.is_floating_point or d.is_complex):
            return torch.zeros(s, dtype=d)
        t = 0.5 + torch.rand(s, generator=gen, dtype=torch.float64)
        if diagonal and len(s) >= 2 and s[-1] == s[-2]:
            t = t + s[-1] * torch.eye(s[-1], dtype=torch.float64)
        return t.to(d)

    return [
        [torch.zeros(s, dtype=d) for s, d in shapes],
        [filled(s, d, False) for s, d in shapes],
        [filled(s, d, True) for s, d in shapes],
    ]


def _shapes_differ(op: Any, first: list, second: list) -> NpgradError:
    return NpgradError(
        f"npgrad op '{op.name}': under torch.compile an op's output shapes must follow "
        "from its input shapes alone, but inputs of the same shapes gave "
        f"{[tuple(sh) for sh, _ in first]} and {[tuple(sh) for sh, _ in second]}. Call "
        "it outside the compiled region, or return a fixed shape (a mask instead of a "
        "selection)"
    )


def _meta(op: Any, key: str, tensors, ints, floats) -> tuple[list, str]:
    """Output shapes, dtypes and structure, found by running the forward on probes."""
    cache_key = _meta_key(key, tensors, ints, floats)
    if cache_key not in op._fake_cache:
        from torch._subclasses.fake_tensor import unset_fake_temporarily

        _, shapes, ints, floats = cache_key
        failures, found = [], []
        # the probes must not consume the user's random numbers
        with unset_fake_temporarily(), _streams_kept(op.fn):
            for probe in _probes(shapes):
                _, args, kwargs = _decode(key, probe, list(ints), list(floats))
                call = Call.build(op, args, kwargs)
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        call.check_finite = False  # probes may well give inf: only shapes
                        modes.forward(call, call.tensors)
                except Exception as e:  # noqa: BLE001 - any failure: try the next probe
                    failures.append(f"{type(e).__name__}: {e}")
                    continue
                found.append((call.out_meta, call.structure))
                if len(found) == 2:  # two probes that ran: enough to compare
                    break
        if not found:
            raise NpgradError(
                f"npgrad op '{op.name}': under torch.compile npgrad finds the output shapes "
                "by running the op on stand-in inputs of the same shapes (zeros, random "
                "values, random values with a large diagonal), and all of them failed; "
                f"the first: {failures[0]}"
            )
        if any(f != found[0] for f in found):
            # a compiled graph is built for one set of output shapes
            raise _shapes_differ(op, found[0][0], found[1][0])
        if op.mode == "auto":
            _refuse_captured_grads(op, key, shapes, ints, floats)
        op._fake_cache[cache_key] = found[0]
    return op._fake_cache[cache_key]


def _refuse_captured_grads(op: Any, key: str, shapes: tuple, ints: tuple, floats: tuple) -> None:
    """A tensor the function captures (a closure, a global) that requires grad gets
    its gradient in eager automatic mode, but an opaque compiled op has no input for
    it: refused, instead of a silently missing gradient."""
    from torch._subclasses.fake_tensor import unset_fake_temporarily

    # a fake kernel runs below autograd: its keys are let back in for this probe
    with unset_fake_temporarily(), _streams_kept(op.fn), auto.autograd_inside_kernel():
        probe = _probes(shapes)[1]
        _, args, kwargs = _decode(key, probe, list(ints), list(floats))
        call = Call.build(op, args, kwargs)
        call.check_finite = False
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings(), torch.enable_grad():
                warnings.simplefilter("ignore")
                outs, _ = auto.evaluate(call, call.tensors)
        except Exception:  # noqa: BLE001 - the shapes were found: only the graph matters
            return
    if any(o.requires_grad for o in outs):
        raise NpgradError(
            f"npgrad op '{op.name}': under torch.compile it uses a tensor that requires "
            "grad without receiving it as an argument (a closure or a global, such as "
            "lambda x: np.sum(x * w)); that tensor would silently get no gradient. Pass "
            "it as an argument: f(x, w)"
        )


class _Saved:
    """NumPy's random state before a compiled automatic-mode forward that drew random
    numbers, until its backward re-runs it; bounded, for forwards never backed."""

    LIMIT = 256

    def __init__(self) -> None:
        self.states: dict[tuple, list] = {}
        self.lock = threading.Lock()

    def save(self, key: tuple, state: Any) -> None:
        with self.lock:
            self.states.setdefault(key, []).append(state)
            while len(self.states) > self.LIMIT:
                self.states.pop(next(iter(self.states)))

    def take(self, key: tuple) -> Any:
        with self.lock:
            stack = self.states.get(key)
            if not stack:
                return None
            state = stack.pop()  # backwards run in reverse order of their forwards
            if not stack:
                del self.states[key]
            return state


_RANDOM = _Saved()


def _random_key(key: str, tensors: list) -> tuple:
    # a backward kernel receives the very tensors its forward saw
    return (key, *((t.data_ptr(), tuple(t.shape)) for t in tensors))


def _generators(fn: Any) -> list:
    """NumPy random generators ``fn`` can reach by name: its closure cells and the
    globals its code (nested functions included) names, through functions it calls
    the same way, a few levels deep. A draw from one of them changes its state."""
    found: list = []
    seen: set[int] = set()

    def visit(f: Any, depth: int) -> None:
        while isinstance(f, functools.partial):
            f = f.func
        f = getattr(f, "__func__", f)  # a bound method's function
        code = getattr(f, "__code__", None)
        if code is None or id(f) in seen or depth > 3:
            return
        seen.add(id(f))
        names: set[str] = set()
        codes = [code]
        while codes:
            c = codes.pop()
            names.update(c.co_names)
            codes.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
        scope = getattr(f, "__globals__", {})
        values = [scope[n] for n in names if n in scope]
        for cell in getattr(f, "__closure__", None) or ():
            try:
                values.append(cell.cell_contents)
            except ValueError:  # an empty cell
                pass
        for v in values:
            if isinstance(v, (np.random.Generator, np.random.RandomState)):
                found.append(v)
            elif isinstance(v, (types.FunctionType, functools.partial, types.MethodType)):
                visit(v, depth + 1)

    visit(fn, 0)
    return found


_NUMBERS = (bool, int, float, complex)
_SKIPPED = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type, np.ufunc)


def _functions(fn: Any) -> tuple[list, list]:
    """The plain functions a callable runs (through partials, ``__wrapped__`` chains,
    bound methods, callable instances) and the places of the values it binds (a
    partial's arguments, a method's ``self``)."""
    funcs: list = []
    places: list[tuple] = []
    seen: set[int] = set()
    while fn is not None and id(fn) not in seen:
        seen.add(id(fn))
        if isinstance(fn, functools.partial):
            places.extend(("p", fn, i) for i in range(len(fn.args)))
            places.extend(("q", fn, k) for k in fn.keywords)
            fn = fn.func
        elif isinstance(fn, types.MethodType):
            places.append(("v", fn.__self__, None))
            fn = fn.__func__
        elif isinstance(fn, types.FunctionType):
            funcs.append(fn)
            fn = getattr(fn, "__wrapped__", None)  # functools.wraps: the wrapped one too
        elif not isinstance(fn, type) and isinstance(_call_of(fn), types.FunctionType):
            places.append(("v", fn, None))  # a callable instance: its self
            fn = _call_of(fn)
        else:
            fn = getattr(fn, "__wrapped__", None)
    return funcs, places


def _call_of(obj: Any) -> Any:
    """The ``__call__`` an instance's class defines or inherits."""
    return next((vars(k)["__call__"] for k in type(obj).__mro__ if "__call__" in vars(k)), None)


def captured_places(fn: Any) -> tuple:
    """Where ``fn`` reads values from outside its arguments: its closure cells, the
    globals its code (nested functions included) names, its default arguments, a
    partial's arguments, a bound method's or callable instance's ``self``, and the
    same for the functions a ``functools.wraps`` wrapper wraps.
    Found once, when the op is made; read with :func:`read_captured` at each compiled
    trace (by Dynamo, which then guards what it read) or jitted call. A global bound
    to a module, function or class when the op is made is skipped (it is code, not a
    value; a class's data attributes the code names are kept); one not yet bound is
    kept (it may hold a number by the first call)."""
    funcs, places = _functions(fn)
    names: list[str] = []
    owners: list[tuple] = list(places)  # places whose attributes the code may name
    for f in funcs:
        codes = [f.__code__]
        while codes:
            c = codes.pop()
            names.extend(n for n in c.co_names if n not in names)
            codes.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    for f in funcs:
        scope = getattr(f, "__globals__", None) or {}
        builtins = scope.get("__builtins__", {})
        builtins = getattr(builtins, "__dict__", builtins)
        code_names: set[str] = set()
        codes = [f.__code__]
        while codes:
            c = codes.pop()
            code_names.update(c.co_names)
            codes.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
        for n in sorted(code_names, key=names.index):
            if n in scope:
                if not isinstance(scope[n], _SKIPPED):
                    places.append(("g", scope, n))
                elif isinstance(scope[n], type):
                    owners.append(("g", scope, n))  # a class: its attributes only
            elif n not in builtins:
                places.append(("g", scope, n))
        for i, _ in enumerate(f.__closure__ or ()):
            places.append(("c", f.__closure__, i))
        for i, _ in enumerate(f.__defaults__ or ()):
            places.append(("d", f, i))
        for n in f.__kwdefaults__ or {}:
            places.append(("k", f, n))
    _add_method_names(names, [_value(p) for p in [*places, *owners]])
    # one level of attributes: an object captured when the op is made whose own
    # instance attributes the code names (cfg.scale, self.X), or a class's data
    # attributes (K.X), not properties, methods or slots
    found = []
    for p in [*places, *(o for o in owners if o not in places)]:
        v = _value(p)
        if isinstance(v, type):
            attrs = {n: a for n, a in vars(v).items() if not _is_code(a)}
        elif isinstance(v, (_SKIPPED, np.ndarray, np.generic)):
            continue
        else:
            attrs = getattr(v, "__dict__", None)
            if type(attrs) is not dict:
                continue
            # a class attribute read through the instance (self.lam): data only
            attrs = {**{n: a for n, a in vars(type(v)).items() if not _is_code(a)}, **attrs}
        found.extend(("a", p, n) for n in names if n in attrs)
    return tuple(places + found)


def _add_method_names(names: list[str], objects: list) -> None:
    """Add to ``names`` what the methods the code names (``self.predict``) name in
    turn, transitively: an attribute a helper method reads (``self.Y``) is read by
    the function too."""
    seen: set = set()
    grew = True
    while grew:
        grew = False
        for v in objects:
            if v is None or isinstance(v, (np.ndarray, np.generic)):
                continue
            cls = v if isinstance(v, type) else type(v)
            for n in list(names):
                try:
                    a = inspect.getattr_static(cls, n)
                except AttributeError:
                    continue
                f = getattr(a, "__func__", a)  # staticmethod, classmethod
                code = getattr(f, "__code__", None)
                if not isinstance(f, types.FunctionType) or code in seen:
                    continue
                seen.add(code)
                codes = [code]
                while codes:
                    c = codes.pop()
                    new = [m for m in c.co_names if m not in names]
                    names.extend(new)
                    grew = grew or bool(new)
                    codes.extend(k for k in c.co_consts if isinstance(k, types.CodeType))


def _is_code(a: Any) -> bool:
    """A class attribute that is code or a descriptor, not a value."""
    return callable(a) or hasattr(a, "__get__") or isinstance(a, (staticmethod, classmethod))


def _value(place: tuple) -> Any:
    """What a place holds now (None where nothing: an unbound name, an empty cell)."""
    kind, where, name = place
    if kind == "g":
        return where[name] if name in where else None
    if kind == "c":
        try:
            return where[name].cell_contents
        except ValueError:  # an empty cell
            return None
    if kind == "d":
        return where.__defaults__[name]
    if kind == "k":
        return where.__kwdefaults__[name]
    if kind == "v":  # an object bound when the op is made (a method's self)
        return where
    if kind == "p":
        return where.args[name]
    if kind == "q":
        return where.keywords.get(name)
    # an attribute of a captured object (cfg.scale)
    return getattr(_value(where), name, None)


def live_places(places: tuple) -> tuple:
    """The places that may hold a value now: a global not bound (an attribute's name
    in the code, or a name the code never reaches: its trace would have raised
    NameError) and a place holding code (a module, a function) are left out."""
    live = []
    for p in places:
        kind, where, name = p
        if kind == "g" and name not in where:
            continue
        if not isinstance(_value(p), _SKIPPED):
            live.append(p)
    return tuple(live)


def _option(v: Any) -> bool:
    """A value a function may branch on, read as its repr: a string, bytes, None, or a
    tuple of those and of Python numbers (MODE = "l1", TUP = (5.0, 6.0))."""
    if v is None or type(v) in (str, bytes):
        return True
    return type(v) is tuple and all(type(i) in _NUMBERS or _option(i) for i in v)


def _readable(v: Any) -> bool:
    if isinstance(v, np.ndarray):
        return v.dtype.kind in "biufc"
    return isinstance(v, (*_NUMBERS, np.generic)) or _option(v)


def holding_values(key: str) -> tuple:
    """Which of op ``key``'s captured places hold a number or an array of numbers
    now: Dynamo runs this in Python and takes its answer as a constant, so it reads
    (and guards) only those, never a string array it could not convert, nor a module.
    """
    # (an unbound global is no value: most are attribute names in the code, np.mean's
    # "mean", and one the code reads would raise NameError in the trace)
    return tuple(
        i
        for i, p in enumerate(OPS[key]._captures)
        if not (p[0] == "g" and p[2] not in p[1]) and _readable(_value(p))
    )


# what torch.compiler.assume_constant_result(holding_values) does, without importing
# torch._dynamo (about a second) in every process that imports npgrad;
# tests/internal/test_captured.py checks that it still is
holding_values._dynamo_marked_constant = True  # type: ignore[attr-defined]


def read_captured(places: tuple) -> tuple[str, list, list, list[np.ndarray]]:
    """The captured values now: Python ints and floats in two lists, bools, complex
    numbers and options (strings, None, tuples of numbers: :func:`_option`) as a
    constant string, NumPy arrays and scalars in a list.
    A compiled trace must not freeze any of them: see ``composite.call_compiled``."""
    stamp: list[str] = []
    ints: list = []
    floats: list = []
    arrays: list[np.ndarray] = []
    for place in places:
        v = _value(place)
        if isinstance(v, (np.ndarray, np.generic)):
            # (Dynamo takes a NumPy scalar for an array, and reads no dtype.kind:
            # the callers filter)
            arrays.append(v)
        elif isinstance(v, bool):
            stamp.append("T" if v else "F")
        elif isinstance(v, int):
            ints.append(v)
        elif isinstance(v, float):
            floats.append(v)
        elif isinstance(v, complex):
            stamp.append(repr(v))
        elif _option(v):
            # a string, None, a tuple: a new value, a new kernel or graph
            _read_option(v, stamp, ints, floats)
    return ",".join(stamp), ints, floats, arrays


def _read_option(v: Any, stamp: list, ints: list, floats: list) -> None:
    """An option into the stamp (its numbers into ``ints`` and ``floats``), in what
    Dynamo can trace (no repr); strings by length, so two never read as one."""
    if v is None:
        stamp.append("N")
    elif type(v) is str:
        stamp.append("S" + str(len(v)) + ":" + v)
    elif type(v) is bytes:
        stamp.append("Y" + v.hex())
    elif type(v) is bool:
        stamp.append("T" if v else "F")
    elif type(v) is int:
        ints.append(v)
    elif type(v) is float:
        floats.append(v)
    elif type(v) is complex:
        stamp.append(repr(v))
    else:  # a tuple
        stamp.append("(" + str(len(v)))
        for item in v:
            _read_option(item, stamp, ints, floats)


def _stream_state(g: Any) -> bytes:
    state = g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state()
    return pickle.dumps(state)


class RandomWatch:
    """Whether code drew random numbers: from NumPy's or Python's global streams, or
    from a generator the function reaches by name. (One made inside the function
    without a seed is not seen: a compiled graph would replay its first draw.)"""

    def __init__(self, fn: Any) -> None:
        self.np_state, self.py_state = np.random.get_state(), random.getstate()
        self.streams = [(g, _stream_state(g)) for g in _generators(fn)]

    def drew(self) -> bool:
        after = np.random.get_state()
        moved = after[2] != self.np_state[2] or not np.array_equal(after[1], self.np_state[1])
        moved = moved or random.getstate() != self.py_state
        return moved or any(_stream_state(g) != s for g, s in self.streams)

    def restore(self) -> None:
        """Put every stream back: the probe's draws are not the user's."""
        np.random.set_state(self.np_state)
        random.setstate(self.py_state)
        for g, s in self.streams:
            state = pickle.loads(s)
            if isinstance(g, np.random.Generator):
                g.bit_generator.state = state
            else:
                g.set_state(state)


@contextlib.contextmanager
def _streams_kept(fn: Any):
    """Leave the user's random streams as they were (NumPy's and Python's global ones,
    and the generators ``fn`` reaches): a probe's draws are not the user's."""
    watch = RandomWatch(fn)
    try:
        yield watch
    finally:
        watch.restore()


# A tuple result is returned as [*outputs, marker], a single one as [output], so the
# structure is visible to Dynamo as the list's length (no side channel needed).
def _marker(device: torch.device) -> torch.Tensor:
    return torch.empty(0, dtype=torch.uint8, device=device)


# The ops run NumPy on the host and synchronise with the device, which a CUDA graph
# can neither capture nor replay: the tag keeps torch.compile(mode="reduce-overhead")
# from recording them (older torch has neither the tag nor the keyword).
_CUSTOM_OP_OPTIONS: dict[str, Any] = (
    {"tags": (torch.Tag.cudagraph_unsafe,)}
    if hasattr(torch.Tag, "cudagraph_unsafe")
    and "tags" in inspect.signature(torch.library.custom_op).parameters
    else {}
)


@torch.library.custom_op("npgrad::forward", mutates_args=(), **_CUSTOM_OP_OPTIONS)
def _forward_op(
    tensors: list[torch.Tensor], key: str, ints: list[int], floats: list[float]
) -> list[torch.Tensor]:
    op, args, kwargs = _decode(key, tensors, ints, floats)
    call = Call.build(op, args, kwargs)
    before = RandomWatch(op.fn) if call.mode == "auto" else None
    # C order, as the fake kernel promised (NumPy keeps a transposed input's layout)
    outs = [o.contiguous() for o in modes.forward(call, call.tensors)]
    if before is not None and before.drew():
        # the backward re-runs this forward: it must see the same random numbers
        _RANDOM.save(_random_key(key, tensors), before)
    meta = op._fake_cache.get(_meta_key(key, tensors, ints, floats))
    if meta is not None:
        got = [(tuple(o.shape), o.dtype) for o in outs]
        if got != [(tuple(sh), dt) for sh, dt in meta[0]]:
            # the graph was built for the probe's shapes: going on would be silently wrong
            raise _shapes_differ(op, meta[0], got)
    return outs + [_marker(call.device)] if call.structure == "tuple" else outs


@_forward_op.register_fake
def _(tensors, key, ints, floats):
    op = OPS[key.split(_SEP, 1)[0]]
    op._last_route = "opaque"  # for op.compiled_route
    device = tensors[0].device
    meta, structure = _meta(op, key, tensors, ints, floats)
    outs = [torch.empty(s, dtype=d, device=device) for s, d in meta]
    return outs + [_marker(device)] if structure == "tuple" else outs


@torch.library.custom_op("npgrad::backward", mutates_args=(), **_CUSTOM_OP_OPTIONS)
def _backward_op(
    grads: list[torch.Tensor],
    tensors: list[torch.Tensor],
    outputs: list[torch.Tensor],
    key: str,
    ints: list[int],
    floats: list[float],
    wanted: list[bool],
) -> list[torch.Tensor]:
    op, args, kwargs = _decode(key, tensors, ints, floats)
    call = Call.build(op, args, kwargs)
    call.structure = "tuple" if len(outputs) > 1 else "single"
    if call.structure == "tuple":
        grads, outputs = grads[:-1], outputs[:-1]
    # one gradient per differentiable input comes back; only the wanted ones are
    # computed (a backward may skip the rest, and numeric mode does), zeros elsewhere
    needs = tuple(is_differentiable(t) and w for t, w in zip(tensors, wanted))
    drawn = _RANDOM.take(_random_key(key, tensors)) if call.mode == "auto" else None
    if drawn is None:
        result = modes.backward(call, tuple(grads), tuple(tensors), tuple(outputs), needs)
    else:
        now = RandomWatch(op.fn)
        drawn.restore()  # the streams as the forward found them
        try:
            result = modes.backward(call, tuple(grads), tuple(tensors), tuple(outputs), needs)
        finally:
            now.restore()  # and as the user's code left them
    return [
        g.contiguous() if g is not None else torch.zeros(t.shape, dtype=t.dtype, device=t.device)
        for g, t in zip(result, tensors)
        if is_differentiable(t)
    ]


@_backward_op.register_fake
def _(grads, tensors, outputs, key, ints, floats, wanted):
    return [
        torch.empty(t.shape, dtype=t.dtype, device=t.device)  # C order, as returned
        for t in tensors
        if is_differentiable(t)
    ]


class _CompiledBridge(torch.autograd.Function):
    @staticmethod
    def forward(key: str, ints: list, floats: list, *tensors: torch.Tensor):  # type: ignore[override]
        return tuple(_forward_op(list(tensors), key, ints, floats))

    @staticmethod
    def setup_context(ctx, inputs, output):
        key, ints, floats, *tensors = inputs
        ctx.key, ctx.ints, ctx.floats = key, ints, floats
        ctx.n_in = len(tensors)
        ctx.diff = [is_differentiable(t) for t in tensors]
        ctx.save_for_backward(*tensors, *output)
        nondiff = [o for o in output if not o.is_floating_point()]
        if nondiff:
            ctx.mark_non_differentiable(*nondiff)

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors
        tensors, outputs = list(saved[: ctx.n_in]), list(saved[ctx.n_in :])
        grads = [torch.zeros_like(o) if g is None else g for g, o in zip(grads, outputs)]
        wanted = list(ctx.needs_input_grad[3:])
        got = iter(_backward_op(grads, tensors, outputs, ctx.key, ctx.ints, ctx.floats, wanted))
        result = [next(got) if d else None for d in ctx.diff]
        return (None, None, None, *result)


def call_compiled(op: Any, args: tuple, kwargs: dict) -> Any:
    key, tensors, ints, floats = _encode(op, args, kwargs)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        outs = _CompiledBridge.apply(key, ints, floats, *tensors)
    else:
        # no gradient can follow: the forward op alone (Dynamo cannot trace the
        # autograd.Function here, with its string and list inputs and no grad)
        outs = tuple(_forward_op(list(tensors), key, ints, floats))
    return outs[0] if len(outs) == 1 else outs[:-1]
