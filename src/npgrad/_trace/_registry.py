"""The registry: one row per NumPy (or SciPy) callable, and the one normaliser.

A row is written where its family lives (``npgrad/_mappings/``)::

    @implements(np.cumsum, axis="one", dtype="input", methods=("cumsum",))
    def _cumsum(a, axis=None, dtype=None, out=None): ...

and its semantics are flags on the row, read by everything else: the normaliser
(run before the row), the ndarray methods and operators of ``TracedArray``, the
supported list and the coverage test.  Nothing is patched after registration.

The normaliser, built once per row from the row's signature (which spells NumPy's,
defaults included):

* ``out=`` is refused with a TraceError naming the function (never ignored);
* ``dtype=`` becomes a torch dtype; ``dtype="input"`` rows compute in it (the
  input is cast first), ``dtype="result"`` rows cast what they return, ``"row"``
  rows handle it themselves;
* ``axis`` is checked against the first argument's rank and made non-negative
  (``axis="one"``: an int or None; ``"many"``: a tuple too, ``()`` kept);
* ``keepdims`` becomes a bool;
* ``where=``, ``initial=``, ``casting=``, ``order=``, ``subok=`` and the like are
  refused unless they hold the default or the row lists them in ``handles``;
* unknown keywords and too many positional arguments raise NumPy's TypeError;
* ``matrix=`` rows check their first argument's shape as NumPy's linalg does, with
  NumPy's exception and words (``"stacked"``: at least two dimensions; ``"square"``:
  and square in the last two; ``"diag"``: two dimensions for a diagonal, as
  ``np.trace``), before torch's own, differently worded, error could come.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._dtypes import torch_dtype
from .._errors import TraceError
from ._state import here

# torch's words for an axis out of range, with the rank it saw and the axis
_DIMENSION = re.compile(
    r"Dimension out of range \(expected to be in range of \[-(\d+), -?\d+\], but got (-?\d+)\)"
)
_OPTIONS = ("where", "initial", "casting", "order", "subok", "signature", "kind", "mode")


@dataclass(eq=False)
class Row:
    """One mapping: a NumPy or SciPy callable and the torch implementation."""

    name: str  # the public name, "numpy.linalg.norm", "scipy.special.xlogy"
    impl: Callable[..., Any]
    kind: str  # "function", "ufunc"
    target: Any = None  # the NumPy callable (None for a SciPy row not resolved yet)
    axis: str | None = None  # None, "one", "many", or "row" (the row checks it)
    dtype: str | None = None  # None, "input", "result" or "row"
    handles: frozenset = frozenset()
    methods: tuple = ()  # ndarray method names that forward to this row
    operators: tuple = ()  # dunder operators (ufunc rows)
    reflected: tuple = ()  # reflected dunder operators (ufunc rows)
    # ufunc semantics
    float_result: bool = False  # integer and bool inputs compute in a float
    true_division: bool = False  # ... in float64 (NumPy's true_divide)
    tensor_only: bool = False  # torch's function takes no Python scalars
    arithmetic: bool = False  # bool arrays count as integers among numbers
    # torch's function takes an integer tensor beside a float one and computes in the
    # float, as NumPy does where their result dtypes agree (no cast op needed)
    mixed: bool = False
    scalar_first: bool = False  # a number on the left becomes a 0-d tensor
    reduce: Any = None  # ufunc.reduce -> this NumPy function's row
    differentiable: bool = True  # False: the row's value carries no gradient
    view: bool = False  # NumPy returns a view (torch a copy): writes through it refused
    matrix: str | None = None  # None, "stacked", "square" or "diag" (see the module's doc)
    call: Callable[..., Any] = field(default=None, repr=False)  # normaliser + impl

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]


FUNCTIONS: dict[Any, Row] = {}  # NumPy function -> row
UFUNCS: dict[Any, Row] = {}  # NumPy (or resolved SciPy) ufunc -> row
ROWS: list[Row] = []  # every row, in registration order
_SCIPY_PENDING: dict[str, Row] = {}  # "scipy.special.xlogy" -> row, until SciPy loads
# SciPy functions and methods that are not ufuncs ("scipy.stats.norm.logpdf" -> row),
# followed by the trampolines of _trace._scipy
SCIPY_FUNCTIONS: dict[str, Row] = {}


def _public_name(f: Any) -> str:
    """``module.name`` where the module really exports ``f`` (checked, not guessed)."""
    name = getattr(f, "__name__", None)
    mod = getattr(f, "__module__", None) or "numpy"
    if isinstance(f, np.ufunc):
        mod = "numpy"
    for candidate in (mod, mod.rsplit("._", 1)[0], "numpy"):
        m = sys.modules.get(candidate)
        if m is not None and getattr(m, name, None) is f:
            return f"{candidate}.{name}"
    raise ValueError(f"npgrad registry: cannot find where {f!r} is exported")


def implements(
    target: Any,
    *,
    name: str | None = None,
    axis: str | None = None,
    dtype: str | None = None,
    handles: tuple = (),
    methods: tuple = (),
    operators: tuple = (),
    reflected: tuple = (),
    float_result: bool = False,
    true_division: bool = False,
    tensor_only: bool = False,
    arithmetic: bool = False,
    mixed: bool = False,
    scalar_first: bool = False,
    reduce: Any = None,
    differentiable: bool = True,
    kind: str | None = None,
    view: bool = False,
    matrix: str | None = None,
) -> Callable[[Callable], Callable]:
    """Register the decorated torch implementation as the row for ``target``.

    ``target`` is a NumPy function or ufunc, or a string naming a SciPy ufunc
    (``"scipy.special.xlogy"``), resolved once the user's code imports SciPy.
    ``kind="scipy"``: the string names a SciPy function or distribution method
    that is not a ufunc (``"scipy.stats.norm.logpdf"``); the row takes SciPy's
    arguments as a NumPy function row does (``_trace._scipy`` dispatches it).
    The public ``npgrad.implements`` (users' rules) is ``_trace._scipy.implements``.
    """

    def register(impl: Callable) -> Callable:
        is_scipy = isinstance(target, str)
        row_kind = kind or ("ufunc" if is_scipy or isinstance(target, np.ufunc) else "function")
        row = Row(
            name=target if is_scipy else (name or _public_name(target)),
            impl=impl,
            kind=row_kind,
            target=None if is_scipy else target,
            axis=axis,
            dtype=dtype,
            handles=frozenset(handles),
            methods=tuple(methods),
            operators=tuple(operators),
            reflected=tuple(reflected),
            float_result=float_result,
            true_division=true_division,
            tensor_only=tensor_only,
            arithmetic=arithmetic,
            mixed=mixed,
            scalar_first=scalar_first,
            reduce=reduce,
            differentiable=differentiable,
            view=view,
            matrix=matrix,
        )
        if matrix not in (None, *_MATRIX_CHECKS):
            raise ValueError(f"npgrad registry: {row.name}: matrix={matrix!r} is no check")
        if row_kind in ("function", "scipy"):
            row.call = _normaliser(row)
        if any(r.name == row.name for r in ROWS):
            raise ValueError(f"npgrad registry: {row.name} is registered twice")
        ROWS.append(row)
        if row_kind == "scipy":
            SCIPY_FUNCTIONS[row.name] = row
        elif is_scipy:
            _SCIPY_PENDING[row.name] = row
        elif row_kind == "ufunc":
            UFUNCS[target] = row
        else:
            FUNCTIONS[target] = row
        return impl

    return register


def unregister(name: str) -> None:
    """Remove the row called ``name`` from every table (a user's rule registered
    again replaces the earlier one)."""
    ROWS[:] = [r for r in ROWS if r.name != name]
    for table in (FUNCTIONS, UFUNCS):
        for key in [k for k, r in table.items() if r.name == name]:
            del table[key]
    SCIPY_FUNCTIONS.pop(name, None)
    _SCIPY_PENDING.pop(name, None)


def scipy_row(ufunc: Any) -> Row | None:
    """The row of a SciPy ufunc, matched by identity once SciPy is imported."""
    if _SCIPY_PENDING:
        for qualname in list(_SCIPY_PENDING):
            mod, _, attr = qualname.rpartition(".")
            module = sys.modules.get(mod)
            if module is None:
                continue
            row = _SCIPY_PENDING.pop(qualname)
            found = getattr(module, attr, None)
            if not isinstance(found, np.ufunc) and (
                getattr(found, "__module__", None) or ""
            ).startswith("scipy"):
                # a user's rule named by a string: a SciPy function, not a ufunc
                row.kind, row.call = "scipy", _normaliser(row)
                SCIPY_FUNCTIONS[row.name] = row
            elif found is not None:
                row.target = found
                UFUNCS[found] = row
    return UFUNCS.get(ufunc)


def _normaliser(row: Row) -> Callable[..., Any]:
    """Build, once, the call of a function row: NumPy's arguments, normalised."""
    impl = row.impl
    sig = inspect.signature(impl)
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in positional]
    var_pos = any(p.kind is p.VAR_POSITIONAL for p in params)
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    keyword = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    posonly = [p.name for p in params if p.kind is p.POSITIONAL_ONLY]
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    special = {"out", "dtype", "axis", "keepdims", *_OPTIONS} & set(defaults)
    # the positional arguments a call may give without touching a special parameter
    plain = len(names)
    for i, n in enumerate(names):
        if n in special:
            plain = i
            break
    if "dtype" in special and row.dtype is None:
        raise ValueError(f"npgrad registry: {row.name} takes dtype= but says not how (dtype=)")
    if "axis" in special and row.axis is None:
        raise ValueError(f"npgrad registry: {row.name} takes axis but says not how (axis=)")
    short = row.short
    shown = _called(row)
    options = [n for n in _OPTIONS if n in special and n not in row.handles]
    # under **kwargs a row hands the rest to a helper: the normaliser cannot check them
    # np.sum(a, axis=1, keepdims=True), decided here once: the keywords axis and
    # keepdims alone, after the one array, need only the axis made non-negative
    axis_rank = row.axis in ("one", "many")
    quick_keys = (
        frozenset(k for k in ("axis", "keepdims") if k in keyword and k not in posonly)
        if not var_pos and names and names[0] not in ("axis", "keepdims") and plain >= 1
        else frozenset()
    )

    def call(args: tuple, kwargs: dict) -> Any:
        try:
            if not kwargs and len(args) <= plain:
                return impl(*args)  # nothing to normalise: the common call, quickly
            if len(args) == 1 and kwargs.keys() <= quick_keys:
                kept = _quick_axis(args[0], kwargs, axis_rank)
                if kept is not None:
                    return impl(args[0], **kept)
            if var_pos:
                return impl(*args, **_normalise(row, dict(kwargs), None, args))
            if len(args) > len(names):
                raise TypeError(
                    f"{short}() takes at most {len(names)} positional arguments ({len(args)} given)"
                )
            values = dict(zip(names, args))
            for k, v in kwargs.items():
                if k in values:
                    raise TypeError(f"{short}() got multiple values for argument '{k}'")
                if k not in keyword and not var_kw or k in posonly:
                    raise TypeError(f"{short}() got an unexpected keyword argument '{k}'")
                # NumPy's own "not given" (a wrapper forwarding keepdims=np._NoValue)
                if v is not np._NoValue:
                    values[k] = v
            for n in options:
                if (
                    n in values
                    and values[n] is not defaults[n]
                    and _differs(values[n], defaults[n])
                ):
                    raise TraceError(
                        f"{here()}: the option {n}= is not supported ({shown}(..., "
                        f"{n}={brief(values[n])})); register a backward, or use mode='numeric'"
                    )
            values = _normalise(row, values, names[0] if names else None, args)
            if posonly:
                return impl(*[values.pop(n) for n in posonly if n in values], **values)
            return impl(**values)
        except IndexError as e:
            # torch's "Dimension out of range" from a row is NumPy's AxisError (an
            # IndexError and a ValueError); any other IndexError (an index out of
            # bounds, the user's own from a callback) goes on as it is
            found = _DIMENSION.search(str(e)) if type(e) is IndexError else None
            if found is None:
                raise
            axis, ndim = int(found.group(2)), int(found.group(1))
            where = row.name.replace("numpy.", "np.", 1)  # np.fft.fftshift, in full
            raise np.exceptions.AxisError(axis, ndim, f"{here()}: {where}") from e

    if row.matrix is None:
        return call
    check, first_name = _MATRIX_CHECKS[row.matrix], names[0] if names else None

    def checked(args: tuple, kwargs: dict) -> Any:
        check(args[0] if args else kwargs.get(first_name))
        return call(args, kwargs)

    return checked


def _shape_of(a: Any) -> tuple:
    shape = getattr(a, "shape", None)
    return tuple(shape) if shape is not None else np.shape(a)


def stacked_matrix(a: Any) -> tuple:
    shape = _shape_of(a)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional"
        )
    return shape


def square_matrix(a: Any) -> None:
    shape = stacked_matrix(a)
    if shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")


def _diag(a: Any) -> None:
    if len(_shape_of(a)) < 2:
        raise ValueError("diag requires an array of at least two dimensions")


_MATRIX_CHECKS = {"stacked": stacked_matrix, "square": square_matrix, "diag": _diag}


def _quick_axis(a: Any, kwargs: dict, axis_rank: bool) -> dict | None:
    """``axis`` (an in-range int, or None) and ``keepdims`` (a bool) of an array's
    call, normalised; ``None`` for anything else (the full normaliser decides)."""
    axis = kwargs.get("axis")
    keep = kwargs.get("keepdims", False)
    if type(keep) is not bool:
        return None
    if axis is None:
        return kwargs
    if type(axis) is not int or not hasattr(a, "ndim"):
        return None
    if not axis_rank:
        return kwargs
    ndim = a.ndim
    if type(ndim) is not int or not -ndim <= axis < ndim:
        return None
    if axis >= 0:
        return kwargs
    return {**kwargs, "axis": axis % ndim}


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default)
    except Exception:  # noqa: BLE001 - an array compared with a default: not the default
        return True


def _called(row: Row) -> str:
    """The row's function as the user's code calls it (``np.sum``, or SciPy's name)."""
    return row.name if row.name.startswith("scipy.") else f"np.{row.short}"


def brief(value: Any) -> str:
    """An option's value for a message: an array by its shape, not its elements."""
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape):
        return f"<an array of shape {tuple(shape)}>"
    return f"{value!r:.60}"


def _normalise(row: Row, values: dict, first: str | None, args: tuple) -> dict:
    out = values.get("out")
    if out is not None:
        shown = _called(row)
        raise TraceError(
            f"{here()}: {shown}(..., out=...) writes into an existing array, which "
            f"automatic mode does not follow; assign the result instead (y = {shown}(...))"
        )
    values.pop("out", None)
    if values.get("dtype") is not None:
        values["dtype"] = torch_dtype(values["dtype"], f"{here()}: np.{row.short}")
    if "keepdims" in values:
        values["keepdims"] = bool(values["keepdims"])
    axis = values.get("axis")
    if axis is not None and row.axis in ("one", "many"):
        ref = values.get(first) if first is not None else (args[0] if args else None)
        ndim = getattr(ref, "ndim", None)
        if ndim is None:
            ndim = np.ndim(ref) if not isinstance(ref, (list, tuple)) else np.asarray(ref).ndim
        if ndim == 0 and row.target is not None and _scalar_axis(row.target, axis, ref):
            values["axis"] = None  # the whole 0-d array, as NumPy's reduction reads it
        else:
            values["axis"] = normalise_axis(axis, ndim, many=row.axis == "many", name=row.short)
    return values


def _scalar_axis(target: Any, axis: Any, ref: Any) -> bool:
    """Whether NumPy takes ``axis`` for a 0-d array (its ufunc reductions read 0 and
    -1 as the whole array, np.mean does not, np.nanmean only for floats): NumPy is
    asked, on a 0-d zero of the array's dtype."""
    try:
        dtype = np.dtype(getattr(ref, "dtype", None) or np.result_type(ref))
    except (KeyError, TypeError):  # no NumPy dtype (bfloat16): as float32
        dtype = np.dtype(np.float32)
    key = (target, tuple(axis) if isinstance(axis, list) else axis, dtype)
    try:
        return _SCALAR_AXIS[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable axis: NumPy's own error follows
        return False
    try:
        target(np.zeros((), dtype), axis=axis)
        ok = True
    except Exception:  # noqa: BLE001 - AxisError, or a call that needs more arguments
        ok = False
    _SCALAR_AXIS[key] = ok
    return ok


_SCALAR_AXIS: dict = {}


def normalise_axis(axis: Any, ndim: int, *, many: bool, name: str) -> Any:
    """NumPy's axis rules: an int in [-ndim, ndim) made non-negative; a tuple of
    distinct ones (where ``many``), ``()`` included."""
    if isinstance(axis, (tuple, list)):
        if not many:
            raise TypeError(f"{name}(): axis must be an integer, got {axis!r}")
        out = tuple(normalise_axis(a, ndim, many=False, name=name) for a in axis)
        if len(set(out)) != len(out):
            raise ValueError("duplicate value in 'axis'")
        return out
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        if hasattr(axis, "__index__") and not isinstance(axis, bool):
            axis = axis.__index__()
        else:
            raise TypeError(f"{name}(): axis must be an integer, got {type(axis).__name__}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim
