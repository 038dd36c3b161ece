"""SciPy functions that are not ufuncs: a dispatch trampoline on SciPy's own objects.

SciPy's Python functions (``scipy.special.logsumexp``, ``scipy.stats.norm.logpdf``,
``scipy.linalg.cholesky``) call ``np.asarray`` inside, which a traced array refuses.
NumPy's protocols never see them, so npgrad gives each function object it has a row
for a new ``__code__``: a trampoline with the same parameters (so ``inspect`` and
SciPy's own introspection see the same signature) that calls a copy of the
original unless an argument is a :class:`TracedArray` (or a list or tuple, which
the dispatcher looks into).  The function object is the
one every import style holds (``from scipy.special import logsumexp`` done before
npgrad included), so all of them are followed.  Methods of ``scipy.stats``
distributions are shared by every distribution (``rv_continuous.logpdf``): their
rows are keyed by the distribution's class as well.

The trampolines are installed lazily, under a lock, when a trace starts and SciPy's
module of a row has been imported by the user's code; ``import npgrad`` never
imports SciPy.  Outside a trace the only cost is one ``isinstance`` per argument.
"""

from __future__ import annotations

import inspect
import sys
import threading
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .._errors import TraceError
from .._policy import all_finite
from . import _registry
from ._array import TracedArray, constant, wrap
from ._registry import SCIPY_FUNCTIONS, Row, scipy_row
from ._state import HINTS, here, numpy_error, values_hidden

_LOCK = threading.Lock()
_SENTINEL = "npgrad: the dispatcher of this SciPy function"
_NOT_PLAIN = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


class Target:
    """One SciPy function object with a trampoline: its rows and its original."""

    __slots__ = ("function", "code", "original", "rows", "method", "name", "wrapped")

    def __init__(self, function: types.FunctionType, name: str, method: bool) -> None:
        self.function, self.name, self.method = function, name, method
        self.code = function.__code__  # SciPy's own code, restored by uninstall()
        self.rows: dict[Any, Row] = {}  # the distribution's class (None: a function)
        self.wrapped = False
        copy = types.FunctionType(
            function.__code__,
            function.__globals__,
            function.__name__,
            function.__defaults__,
            function.__closure__,
        )
        copy.__kwdefaults__ = function.__kwdefaults__
        copy.__dict__.update(function.__dict__)
        copy.__qualname__ = function.__qualname__
        self.original = copy


TARGETS: dict[Any, Target] = {}  # SciPy function object -> its trampoline's target
_RESOLVED: set[str] = set()  # row names already attached to a target
_seen_modules = -1  # len(sys.modules) at the last resolution: nothing new, nothing to do


def _dispatcher(target: Target) -> Callable[[tuple, dict], Any]:
    original, traced, sequences = target.original, TracedArray, (list, tuple)

    def dispatch(args: tuple, kwargs: dict) -> Any:
        # the call outside a trace: SciPy's own code, after a scan of the arguments
        # (one level into lists and tuples: cho_solve((c, lower), b))
        for a in args:
            if isinstance(a, traced) or (
                type(a) in sequences and any(isinstance(v, traced) for v in a)
            ):
                return _follow(target, args, kwargs)
        if kwargs:
            for a in kwargs.values():
                if isinstance(a, traced) or (
                    type(a) in sequences and any(isinstance(v, traced) for v in a)
                ):
                    return _follow(target, args, kwargs)
        return original(*args, **kwargs)

    return dispatch


def _follow(target: Target, args: tuple, kwargs: dict) -> Any:
    if target.method:
        owner, args = args[0], args[1:]
        row = target.rows.get(type(owner))
        name = f"{_owner_name(owner)}.{target.function.__name__}"
    else:
        row = target.rows.get(None)
        name = target.name
    if row is None:
        raise TraceError(
            f"{here()}: {name} has no torch mapping in npgrad; register a rule with "
            f"@npgrad.implements({name}), or a backward with @op.backward, or use "
            "mode='numeric'. npgrad.supported() lists what is followed"
        )
    _check_finite(row, args, kwargs)
    try:
        return wrap(row.call(args, kwargs))
    except RuntimeError as e:  # torch's LinAlgError: NumPy's (SciPy's is the same class)
        raise numpy_error(e, name) from e


def _check_finite(row: Row, args: tuple, kwargs: dict) -> None:
    """SciPy's ``check_finite=True`` (scipy.linalg's default): its ValueError for an
    array argument holding inf or nan, where values can be read (not under
    torch.func or torch.compile, as the other value checks)."""
    where = _FINITE_AT.get(row, _UNSEEN)
    if where is _UNSEEN:
        params = list(inspect.signature(row.impl).parameters.values())
        names = [p.name for p in params]
        where = None
        if "check_finite" in names:
            i = names.index("check_finite")
            where = (i if params[i].kind is params[i].POSITIONAL_OR_KEYWORD else None,
                     params[i].default)  # fmt: skip
        _FINITE_AT[row] = where
    if where is None:
        return
    i, default = where
    wanted = kwargs["check_finite"] if "check_finite" in kwargs else (
        args[i] if i is not None and i < len(args) else default)  # fmt: skip
    if not wanted or values_hidden():
        return
    for a in (*args, *kwargs.values()):
        if isinstance(a, (TracedArray, np.ndarray)) and not all_finite(
            a.t if isinstance(a, TracedArray) else a
        ):
            raise ValueError("array must not contain infs or NaNs")


_FINITE_AT: dict = {}
_UNSEEN = object()


def _owner_name(owner: Any) -> str:
    """``scipy.stats.norm`` for the instance (or a frozen one's) of ``norm_gen``."""
    cls = type(owner).__name__
    return f"scipy.stats.{cls.removesuffix('_gen')}"


def _trampoline(function: types.FunctionType, dispatch: Callable, original: Callable):
    """A code object with ``function``'s parameters: SciPy's own code (``original``)
    unless an argument may hold a traced array, then ``dispatch``."""
    code = function.__code__
    if code.co_flags & _NOT_PLAIN:
        raise ValueError(f"npgrad: {function.__qualname__} is no plain function")
    n_pos, n_kw = code.co_argcount, code.co_kwonlyargcount
    names = list(code.co_varnames[: n_pos + n_kw])
    i = n_pos + n_kw
    star = code.co_varnames[i] if code.co_flags & inspect.CO_VARARGS else None
    i += star is not None
    starstar = code.co_varnames[i] if code.co_flags & inspect.CO_VARKEYWORDS else None
    params = names[:n_pos]
    if code.co_posonlyargcount:
        params.insert(code.co_posonlyargcount, "/")
    if star:
        params.append(f"*{star}")
    elif n_kw:
        params.append("*")
    params += names[n_pos:]
    if starstar:
        params.append(f"**{starstar}")
    positional = names[:n_pos] + ([f"*{star}"] if star else [])
    keywords = [f"{n!r}: {n}" for n in names[n_pos:]] + ([f"**{starstar}"] if starstar else [])
    forward = positional + [f"{n}={n}" for n in names[n_pos:]]
    forward += [f"**{starstar}"] if starstar else []
    # a traced array, or a list or tuple that may hold one: the dispatcher looks closer
    maybe = [f"_npgrad_i({n}, _npgrad_t)" for n in names]
    maybe += [f"_npgrad_any({star})"] if star else []
    maybe += [f"({starstar} and _npgrad_any({starstar}.values()))"] if starstar else []
    cells = [f"_npgrad_cell{k}" for k in range(len(function.__closure__ or ()))]
    # the closure's cells cannot change: the trampoline takes as many free variables,
    # named in a branch never taken, so that its code fits the function object
    source = (
        f"def _npgrad_factory({', '.join(cells)}):\n"
        f"    def _npgrad_trampoline({', '.join(params)}):\n"
        f"        _npgrad_t = {_SENTINEL + ' t'!r}\n"
        f"        _npgrad_any = {_SENTINEL + ' any'!r}\n"
        f"        _npgrad_i = {_SENTINEL + ' isinstance'!r}\n"
        f"        if _npgrad_t is None:\n"
        f"            return ({''.join(c + ', ' for c in cells)})\n"
        f"        if {' or '.join(maybe) or 'False'}:\n"
        f"            return {_SENTINEL + ' dispatch'!r}("
        f"({''.join(p + ', ' for p in positional)}), {{{', '.join(keywords)}}})\n"
        f"        return {_SENTINEL + ' original'!r}({', '.join(forward)})\n"
        f"    return _npgrad_trampoline\n"
    )
    scope: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "'str' object is not callable"
        exec(compile(source, f"<npgrad dispatch of {function.__qualname__}>", "exec"), scope)
    inner = scope["_npgrad_factory"](*cells).__code__
    # what the trampoline calls travels as constants of its code: SciPy's globals stay
    # untouched
    values = {
        _SENTINEL + " t": _MAYBE,
        _SENTINEL + " any": _any_maybe,
        _SENTINEL + " isinstance": isinstance,
        _SENTINEL + " dispatch": dispatch,
        _SENTINEL + " original": original,
    }
    consts = tuple(values.get(c, c) if isinstance(c, str) else c for c in inner.co_consts)
    return inner.replace(co_consts=consts, co_name=code.co_name, co_qualname=code.co_qualname)


_MAYBE = (TracedArray, list, tuple)


def _any_maybe(values: Any) -> bool:
    for v in values:
        if isinstance(v, _MAYBE):
            return True
    return False


def _find(qualname: str) -> Any:
    """SciPy's object for ``scipy.stats.norm.logpdf``, without importing anything."""
    parts = qualname.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        obj = module.__dict__.get(parts[cut])  # never a lazy submodule import
        for attr in parts[cut + 1 :]:
            obj = getattr(obj, attr, None) if obj is not None else None
        return obj
    return None


def _attach(row: Row, obj: Any) -> None:
    if inspect.ismethod(obj):
        function, key, method = obj.__func__, type(obj.__self__), True
    elif isinstance(obj, types.FunctionType):
        function, key, method = obj, None, False
    else:
        raise TypeError(f"npgrad: {row.name} is neither a Python function nor a method")
    target = TARGETS.get(function)
    if target is None:
        target = TARGETS[function] = Target(function, row.name, method)
        _put(target)
    target.rows[key] = row
    row.target = obj


def _put(target: Target) -> None:
    function = target.function
    function.__code__ = _trampoline(function, _dispatcher(target), target.original)
    if "__wrapped__" not in function.__dict__:
        function.__wrapped__ = target.original  # inspect.getsource reads SciPy's source
        target.wrapped = True


def install() -> None:
    """Attach the rows whose SciPy module the user's code has imported (at a trace's
    start; cheap when no module was imported since the last time)."""
    global _seen_modules
    if len(sys.modules) == _seen_modules or "scipy" not in sys.modules:
        return
    with _LOCK:
        scipy_row(None)  # resolves rows registered by name: ufuncs, and the others
        for name, row in list(SCIPY_FUNCTIONS.items()):
            if name in _RESOLVED:
                continue
            obj = _find(name)
            if obj is not None:
                _attach(row, obj)
                _RESOLVED.add(name)
        _seen_modules = len(sys.modules)


def uninstall() -> None:
    """SciPy's own code back on every function (for the paired benchmark)."""
    global _seen_modules
    with _LOCK:
        for target in TARGETS.values():
            target.function.__code__ = target.code
            if target.wrapped:
                del target.function.__wrapped__
        TARGETS.clear()
        _RESOLVED.clear()
        _seen_modules = -1


def _scipy_advice(what: str) -> str:
    """The advice for a traced array that reached ``np.asarray`` inside SciPy: a rule
    for that function, unless the user's code imported SciPy's module after the
    trace began (then it is followed from the next call)."""
    if "(in scipy." not in what:
        return ""
    late = _late_import()
    return late or (
        " Or register a rule for that SciPy function with @npgrad.implements (docs/registering.md)."
    )


def _late_import() -> str:
    if len(sys.modules) == _seen_modules:
        return ""
    before = set(TARGETS)
    install()
    new = sorted({t.name for f, t in TARGETS.items() if f not in before})
    if not new:
        return ""
    return (
        f" ({', '.join(new)} was imported while this trace ran: npgrad follows it from "
        "the next call on; import SciPy before the first call)"
    )


HINTS.append(_scipy_advice)


# ------------------------------------------------------------------ the public API
def implements(target: Any, *, rule: str = "torch", **flags: Any) -> Callable[[Callable], Any]:
    """Register a rule that automatic mode follows for ``target``.

    ``target`` is a SciPy function or method (``scipy.special.spence``,
    ``scipy.stats.norm.entropy``), its dotted name as a string, or a NumPy
    function or ufunc.  Every import style of it is then followed (npgrad puts a
    dispatch on SciPy's function object itself, once a trace runs), and
    ``npgrad.supported()`` lists it.  The third way out, beside a registered
    backward (``@op.backward``) and ``mode="numeric"``.

    ``rule="torch"``: the rule receives tensors (traced arrays unwrapped, NumPy
    constants as tensors on the traced device, numbers as they are) and returns
    tensors; autograd differentiates it.

    >>> import numpy as np, scipy.special, torch, npgrad
    >>> @npgrad.implements(scipy.special.cosm1, rule="torch")
    ... def cosm1(x):
    ...     return -2 * torch.sin(x / 2) ** 2  # cos(x) - 1 without cancellation
    >>> f = npgrad.function(lambda x: np.sum(scipy.special.cosm1(x)), name="f")
    >>> x = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)
    >>> bool(torch.isclose(f(x), torch.tensor(scipy.special.cosm1([0.5, 1.0]).sum())))
    True

    ``rule="numpy"``: the rule is NumPy code that runs in automatic mode itself
    (it receives traced arrays and may call any function npgrad follows).

    >>> @npgrad.implements("scipy.special.powm1", rule="numpy")
    ... def powm1(x, y):
    ...     return np.expm1(y * np.log(x))
    >>> g = npgrad.function(lambda x: np.sum(scipy.special.powm1(x, 0.5)), name="g")
    >>> bool(torch.isclose(g(x), torch.tensor(scipy.special.powm1([0.5, 1.0], 0.5).sum())))
    True

    ``flags`` are the registry's row flags (``axis=``, ``dtype=``, ...) for NumPy
    targets; a rule's ``axis``/``dtype`` parameters it handles itself.
    """
    if rule not in ("torch", "numpy"):
        raise ValueError(f"npgrad.implements: rule must be 'torch' or 'numpy', not {rule!r}")
    obj = _resolve(target) if isinstance(target, str) else target
    if not _followable(obj):
        raise TypeError(
            "npgrad.implements: the target must be a NumPy or SciPy function, ufunc or "
            f"distribution method (or its dotted name), got {obj!r}"
            + (
                "; written @npgrad.implements without its target? "
                "Use @npgrad.implements(scipy.special.name)"
                if inspect.isfunction(obj) and not _is_scipy(obj)
                else ""
            )
        )

    if _undispatched(obj):
        raise TypeError(
            f"npgrad.implements: {getattr(obj, '__name__', obj)!r} is not dispatched to "
            "array types (NumPy calls no __array_function__ for it), so a trace never "
            "reaches a rule for it; register the functions it calls, or give the "
            "function a backward (@op.backward)"
        )

    def register(fn: Callable) -> Callable:
        impl = _adapt(fn, rule)
        params = inspect.signature(fn).parameters
        for flag in ("axis", "dtype"):
            if flag in params and params[flag].default is not inspect.Parameter.empty:
                flags.setdefault(flag, "row")
        if isinstance(obj, np.ufunc) and obj is not getattr(np, obj.__name__, None):
            name, key, kind = scipy_name(obj), scipy_name(obj), None  # SciPy's, by name
        elif isinstance(obj, np.ufunc) or not _is_scipy(obj):
            name, key, kind = None, obj, None
        else:
            name = target if isinstance(target, str) else scipy_name(obj)
            key, kind = name, "scipy"
        name = name or _registry._public_name(obj)
        with _LOCK:
            _replace(name)
            _registry.implements(key, kind=kind, **flags)(impl)
            _USERS.add(name)
        global _seen_modules
        _seen_modules = -1  # attach the new row at the next trace
        return fn

    return register


_USERS: set[str] = set()  # the names users registered rules for


def _replace(name: str) -> None:
    """Make room for a user's rule: an earlier rule of the user's goes (a re-run
    notebook cell); npgrad's own rules stay, refused by name."""
    if not any(r.name == name for r in _registry.ROWS):
        return
    if name not in _USERS:
        raise ValueError(
            f"npgrad.implements: npgrad already follows {name} with its own rule, "
            "which a user's rule does not replace (npgrad.supported() lists them)"
        )
    _registry.unregister(name)
    _RESOLVED.discard(name)


def _followable(obj: Any) -> bool:
    """What a traced call can reach: a ufunc, a NumPy function (its protocols), or a
    SciPy Python function or distribution method (the trampolines)."""
    if isinstance(obj, np.ufunc):
        return True
    if _is_scipy(obj):
        return inspect.isfunction(obj) or inspect.ismethod(obj)
    module = getattr(obj, "__module__", None) or ""
    return callable(obj) and module.startswith("numpy") and not inspect.isclass(obj)


def _undispatched(obj: Any) -> bool:
    """A NumPy function that never hands a traced array to ``__array_function__``
    (``np.asarray_chkfinite``, ``np.zeros``): a rule for it would be listed and never
    run.  Dispatched ones carry ``_implementation``; ufunc methods go through
    ``__array_ufunc__``."""
    if isinstance(obj, np.ufunc) or _is_scipy(obj):
        return False
    if hasattr(obj, "_implementation"):
        return False
    return not isinstance(getattr(obj, "__self__", None), np.ufunc)


def _resolve(qualname: str) -> Any:
    """SciPy's object for a dotted name, importing its module (the user names SciPy,
    so it may load); a name that finds nothing is refused at registration."""
    import importlib

    if not qualname.startswith(("scipy.", "numpy.")):
        raise ValueError(f"npgrad.implements: {qualname!r} names no NumPy or SciPy function")
    parts = qualname.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for k, attr in enumerate(parts[cut:], cut):
            if not hasattr(obj, attr):
                raise ValueError(
                    f"npgrad.implements: {qualname!r} names nothing in "
                    f"{'SciPy' if parts[0] == 'scipy' else 'NumPy'} "
                    f"({'.'.join(parts[:k])} has no {attr!r})"
                )
            obj = getattr(obj, attr)
        return obj
    raise ValueError(f"npgrad.implements: {qualname!r} names nothing in SciPy")


def _is_scipy(obj: Any) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("scipy")


def scipy_name(obj: Any) -> str:
    """The public dotted name of a SciPy function or distribution method."""
    if isinstance(obj, np.ufunc):
        name = obj.__name__
        mod = sys.modules.get("scipy.special")
        if mod is not None and mod.__dict__.get(name) is obj:
            return f"scipy.special.{name}"
    elif inspect.ismethod(obj):
        owner = obj.__self__
        for modname in ("scipy.stats",):
            mod = sys.modules.get(modname)
            for k, v in mod.__dict__.items() if mod else ():
                if v is owner:
                    return f"{modname}.{k}.{obj.__name__}"
    else:
        mod = obj.__module__
        for candidate in (mod.rsplit("._", 1)[0], mod.split(".")[0] + "." + mod.split(".")[1]):
            m = sys.modules.get(candidate)
            if m is not None and m.__dict__.get(obj.__name__) is obj:
                return f"{candidate}.{obj.__name__}"
    raise ValueError(f"npgrad.implements: cannot find where SciPy exports {obj!r}")


def _tensors(x: Any) -> Any:
    if isinstance(x, TracedArray):
        return x.t
    if isinstance(x, np.ndarray) and x.dtype.kind in "biufc":
        return constant(x)
    if type(x) in (list, tuple):
        return type(x)(_tensors(v) for v in x)
    return x


def _arrays(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return TracedArray(x)
    if type(x) in (list, tuple):
        return type(x)(_arrays(v) for v in x)
    return x


def _adapt(fn: Callable, rule: str) -> Callable:
    """The rule as a row's implementation (which receives what NumPy's call gives:
    traced arrays for functions, tensors for ufuncs)."""
    convert = _tensors if rule == "torch" else _arrays

    def impl(*args: Any, **kwargs: Any) -> Any:
        out = fn(*convert(args), **{k: convert(v) for k, v in kwargs.items()})
        return _tensors(out)  # a row returns tensors

    impl.__signature__ = inspect.signature(fn)  # the normaliser reads the rule's
    impl.__name__ = getattr(fn, "__name__", "rule")
    return impl
