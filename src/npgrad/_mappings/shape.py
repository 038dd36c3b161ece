"""Shape and layout: reshaping, joining, splitting, reordering, padding; and
apply_along_axis, which stacks a function's results."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
import torch

from .._dtypes import TORCH_TO_NP
from .._trace._array import TracedArray, storage_root, tensor, unwrap
from .._trace._promote import check_fits, common, no_bool_subtract
from .._trace._registry import implements, normalise_axis
from .._trace._state import STATE, TraceError, constant, here, unsupported, values_hidden


def _order(order: Any, name: str) -> str:
    """NumPy's order converter: None is 'C', the letter in either case (str or bytes);
    its errors, named for the function."""
    if order is None:
        return "C"
    if isinstance(order, bytes):
        order = order.decode("latin-1")
    if not isinstance(order, str):
        raise TypeError(f"{name}: order must be str, not {type(order).__name__}")
    if order.upper() not in ("C", "F", "A", "K") or len(order) != 1:
        raise ValueError(f"{name}: order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    return order.upper()


def _reshape_method(self, *shape, order="C", copy=None):
    return np.reshape(self, shape[0] if len(shape) == 1 else shape, order=order, copy=copy)


@implements(np.reshape, handles=("order",), methods=(("reshape", _reshape_method),))
def _reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    """NumPy's reshape; order='F' (and 'A' of a Fortran-contiguous array) reads and
    writes the elements with the first index fastest. As for order='C', the result
    is a view exactly where torch's reshape is one (writes into either are then
    refused as aliases), which it is where NumPy's is for the same strides."""
    t = tensor(a)
    order = _order(order, "np.reshape")
    shape = newshape if shape is None else shape
    if isinstance(shape, (tuple, list)) or isinstance(shape, np.ndarray) and shape.ndim == 1:
        shape = tuple(operator.index(s) for s in shape)  # NumPy's TypeError for a float
    elif hasattr(type(shape), "__index__"):
        shape = (operator.index(shape),)
    else:
        raise TypeError(f"expected a sequence of integers or a single integer, got '{shape}'")
    if order == "A":  # Fortran order only for a Fortran-contiguous array, as ravel
        order = "F" if _fortran(t) else "C"
    if order == "F":
        # Fortran order is C order on the reversed axes: permutes are views, so the
        # reshape between them copies only where NumPy's would
        r = t.permute(_reverse(t.ndim)).reshape(shape[::-1]).permute(_reverse(len(shape)))
    elif order == "C":
        r = t.reshape(shape)
    else:
        raise ValueError("np.reshape: order 'K' is not permitted for reshaping")
    if copy:
        return r.clone()
    if copy is False and storage_root(r) is not storage_root(t):
        raise ValueError("Unable to avoid creating a copy while reshaping.")
    return r


def _reverse(n: int) -> tuple[int, ...]:
    return tuple(range(n))[::-1]


def _fortran(t: torch.Tensor) -> bool:
    return t.permute(_reverse(t.ndim)).is_contiguous() and not t.is_contiguous()


def _ravel_method(self, order="C"):
    return np.ravel(self, order)


def _flatten_method(self, order="C"):
    # NumPy's flatten always copies: no alias of self (ravel may give a view)
    return TracedArray(_ravel(self, order).clone(memory_format=torch.contiguous_format))


@implements(
    np.ravel, handles=("order",), methods=(("ravel", _ravel_method), ("flatten", _flatten_method))
)
def _ravel(a, order="C"):
    t = tensor(a)
    order = _order(order, "np.ravel")
    if order == "A":  # Fortran order only for a Fortran-contiguous array
        order = "F" if _fortran(t) else "C"
    if order == "F":
        return t.permute(_reverse(t.ndim)).reshape(-1)
    if order == "K":  # the order of the elements in memory
        dims = sorted(range(t.ndim), key=lambda d: -t.stride(d))
        return t.permute(dims).reshape(-1)
    return t.reshape(-1)


def _transpose_method(self, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        return np.transpose(self, axes[0])
    return np.transpose(self, axes if axes and axes[0] is not None else None)


@implements(np.transpose, methods=(("transpose", _transpose_method),))
def _transpose(a, axes=None):
    t = tensor(a)
    if t.ndim == 0 and (axes is None or tuple(axes) == ()):
        return t.view_as(t)  # torch's permute takes no empty order
    if axes is None:
        return t.permute(*reversed(range(t.ndim)))
    return t.permute(*axes)


@implements(np.moveaxis)
def _moveaxis(a, source, destination):
    return torch.movedim(tensor(a), source, destination)


@implements(np.swapaxes, methods=("swapaxes",))
def _swapaxes(a, axis1, axis2):
    return torch.swapaxes(tensor(a), axis1, axis2)


@implements(np.expand_dims, axis="row")
def _expand_dims(a, axis):
    t = tensor(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = t.ndim + len(axes)
    # NumPy's checks against the result's rank (wrapping an out-of-range axis gave
    # another shape, silently)
    places = [normalise_axis(ax, nd, many=False, name="expand_dims") for ax in axes]
    if len(set(places)) != len(places):
        raise ValueError("repeated axis")
    for ax in sorted(places):
        t = t.unsqueeze(ax)
    return t


@implements(np.squeeze, axis="many", methods=("squeeze",))
def _squeeze(a, axis=None):
    t = tensor(a)
    if axis is None:
        return t.squeeze()
    axes = axis if isinstance(axis, tuple) else (axis,)
    if any(t.shape[ax] != 1 for ax in axes):  # torch would leave such an axis be
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return t.squeeze(axes)


if hasattr(np, "unstack"):  # NumPy 2.1

    @implements(np.unstack, axis="one")
    def _unstack(x, /, *, axis=0):
        # views along the axis, as NumPy's: writes into them or x are refused as aliases
        t = tensor(x)
        if t.ndim == 0:
            raise ValueError("Input array must be at least 1-d.")
        return torch.unbind(t, dim=axis)


@implements(np.broadcast_to)
def _broadcast_to(array, shape, subok=False):
    # NumPy's result is a read-only view: torch's expanded view of the input, so that
    # a write into the input afterwards is refused as an alias, not missed
    return tensor(array).expand(shape)


@implements(np.broadcast_arrays)
def _broadcast_arrays(*args, subok=False):
    """Views of the inputs, as NumPy's: they share the inputs' memory, so writes into
    them (or the inputs) are refused as aliases."""
    ts = [tensor(a) for a in args]
    shape = torch.broadcast_shapes(*(t.shape for t in ts))
    return tuple(t.expand(shape) for t in ts)


@implements(np.resize)
def _resize(a, new_shape):
    """The flat elements repeated to fill ``new_shape`` (zeros where either is empty)."""
    shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(new_shape)
    if any(n < 0 for n in shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    t = tensor(a).reshape(-1)
    size = math.prod(shape)
    if t.numel() == 0 or size == 0:
        return torch.zeros(shape, dtype=t.dtype, device=t.device)
    repeats = -(-size // t.numel())
    return t.repeat(repeats)[:size].reshape(shape)


def _cast(ts: list[torch.Tensor], dtype) -> list[torch.Tensor]:
    return [t.to(dtype) for t in ts] if dtype is not None else common(*ts)


@implements(np.concatenate, axis="row", dtype="row")
def _concatenate(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    ts = [tensor(a) for a in arrays]
    if axis is None:
        ts, axis = [t.reshape(-1) for t in ts], 0
    return torch.cat(_cast(ts, dtype), dim=axis)


@implements(np.stack, axis="row", dtype="row")
def _stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    return torch.stack(_cast([tensor(a) for a in arrays], dtype), dim=axis)


@implements(np.vstack, dtype="row")
def _vstack(tup, *, dtype=None, casting="same_kind"):
    ts = [tensor(a) for a in tup]
    return torch.cat(_cast([t if t.ndim > 1 else t.reshape(1, -1) for t in ts], dtype), 0)


@implements(np.hstack, dtype="row")
def _hstack(tup, *, dtype=None, casting="same_kind"):
    ts = [tensor(a) for a in tup]
    ts = [t.reshape(-1) if t.ndim == 0 else t for t in ts]
    return torch.cat(_cast(ts, dtype), 0 if ts[0].ndim <= 1 else 1)


def _block_where(index: list[int]) -> str:
    return "arrays" + "".join(f"[{i}]" for i in index)


def _block_leaves(x, index: list[int], leaves: list) -> int:
    """Collect the blocks of np.block's nested lists; the depth of the lists."""
    if type(x) is tuple:
        raise TypeError(
            f"{_block_where(index)} is a tuple. Only lists can be used to arrange blocks, "
            "and np.block does not allow implicit conversion from tuple to ndarray."
        )
    if type(x) is not list:
        leaves.append((index, tensor(x)))
        return len(index)
    if not x:
        raise ValueError(f"List at {_block_where(index)} cannot be empty")
    depths = [_block_leaves(v, [*index, i], leaves) for i, v in enumerate(x)]
    for i, d in enumerate(depths):
        if d != depths[0]:
            raise ValueError(
                f"List depths are mismatched. First element was at depth {depths[0]}, "
                f"but there is an element at depth {d} ({_block_where([*index, i])})"
            )
    return depths[0]


@implements(np.block)
def _block(arrays):
    """Blocks joined along the last axes, the innermost lists along the last one; a
    number is a block of its own dtype (NumPy makes an array of it)."""
    leaves: list = []
    depth = _block_leaves(arrays, [], leaves)
    ndim = max(depth, *(t.ndim for _, t in leaves))
    ts = common(*[t.reshape((1,) * (ndim - t.ndim) + tuple(t.shape)) for _, t in leaves])
    if depth == 0:
        return ts[0].clone()  # NumPy's result is a new array
    blocks = iter(ts)

    def join(x, level: int) -> torch.Tensor:
        if type(x) is not list:
            return next(blocks)
        parts = [join(v, level + 1) for v in x]
        try:
            return torch.cat(parts, dim=ndim - depth + level)
        except RuntimeError as e:  # NumPy's concatenate words it
            raise ValueError(f"np.block: the blocks do not fit together ({e})") from e

    return join(arrays, 0)


@implements(np.flip, axis="many", view=True)
def _flip(m, axis=None):
    t = tensor(m)
    dims = tuple(range(t.ndim)) if axis is None else axis
    return torch.flip(t, dims=dims if isinstance(dims, tuple) else (dims,))


@implements(np.fliplr, view=True)
def _fliplr(m):
    t = tensor(m)
    if t.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return torch.flip(t, (1,))


@implements(np.flipud, view=True)
def _flipud(m):
    t = tensor(m)
    if t.ndim < 1:  # torch flips a 0-d tensor "along axis 0"
        raise ValueError("Input must be >= 1-d.")
    return torch.flip(t, (0,))


@implements(np.roll, axis="row")
def _roll(a, shift, axis=None):
    t = tensor(a)
    if axis is None:
        return torch.roll(t.reshape(-1), shift).reshape(t.shape)
    return torch.roll(t, shift, dims=axis)


@implements(np.tile)
def _tile(A, reps):
    return tensor(A).tile(tuple(reps) if isinstance(reps, (tuple, list)) else (reps,))


@implements(np.repeat, axis="one", methods=("repeat",))
def _repeat(a, repeats, axis=None):
    t = tensor(a)
    if axis is None:
        t, axis = t.reshape(-1), 0
    reps = unwrap(repeats)
    if isinstance(reps, (list, tuple, np.ndarray)):
        reps = torch.as_tensor(np.asarray(reps), device=t.device)
    return torch.repeat_interleave(t, reps, dim=axis)


def _atleast(n: int, arys: tuple):
    outs = []
    for a in arys:
        t = tensor(a)
        while t.ndim < n:
            t = t.unsqueeze(0) if t.ndim < 1 or n == 2 else t.unsqueeze(-1)
        outs.append(t)
    return outs[0] if len(outs) == 1 else outs


@implements(np.atleast_1d)
def _atleast_1d(*arys):
    return _atleast(1, arys)


@implements(np.atleast_2d)
def _atleast_2d(*arys):
    return _atleast(2, arys)


def _split(a, sections, axis, strict):
    t = tensor(a)
    sections = unwrap(sections)
    if isinstance(sections, torch.Tensor):
        sections = sections.tolist()  # torch takes split indices on the host only
    if strict and isinstance(sections, int) and t.shape[axis] % sections:
        raise ValueError("array split does not result in an equal division")
    return list(torch.tensor_split(t, sections, dim=axis))


@implements(np.split, axis="one")
def _np_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, strict=True)


@implements(np.array_split, axis="one")
def _np_array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, strict=False)


@implements(np.diff, axis="one")
def _diff(a, n=1, axis=-1, prepend=None, append=None):
    t = tensor(a)

    # NumPy makes arrays of prepend and append (a Python float is float64 there) and
    # concatenates: they take part in the promotion
    edges = [None if v is None else tensor(v) for v in (prepend, append)]
    t, *rest = common(t, *[e for e in edges if e is not None])
    edges = [None if e is None else rest.pop(0) for e in edges]

    def edge(e):
        if e is not None and e.ndim == 0:
            shape = list(t.shape)
            shape[axis] = 1
            e = e.expand(shape)
        return e

    return torch.diff(t, n=n, dim=axis, prepend=edge(edges[0]), append=edge(edges[1]))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


@implements(np.pad, handles=("mode",))
def _pad(array, pad_width, mode="constant", **kwargs):
    t = tensor(array)
    pw = np.broadcast_to(np.asarray(pad_width), (t.ndim, 2))
    if mode not in _PAD_MODES:
        raise unsupported(f"np.pad mode={mode!r}")
    extra = set(kwargs) - ({"constant_values"} if mode == "constant" else set())
    if extra:
        raise unsupported(f"np.pad(..., {sorted(extra)[0]}=...) with mode={mode!r}")
    if mode == "constant":
        cv = np.broadcast_to(np.asarray(kwargs.get("constant_values", 0), dtype=float), (t.ndim, 2))
        if (cv == cv.flat[0]).all():
            flat = [int(v) for pair in pw[::-1] for v in pair]
            return torch.nn.functional.pad(t, flat, value=float(cv.flat[0]))
        for ax in range(t.ndim):  # one axis at a time, each side its own value
            parts = []
            for side, width in enumerate(pw[ax]):
                shape = list(t.shape)
                shape[ax] = int(width)
                parts.append(torch.full(shape, float(cv[ax, side]), dtype=t.dtype, device=t.device))
            t = torch.cat([parts[0], t, parts[1]], dim=ax)
        return t
    # an index per position along each padded axis (torch's own pad limits reflect to
    # widths below the axis' length and to the last three axes; NumPy has neither)
    if not np.any(pw):
        return t.clone()  # NumPy's result is a new array
    for ax in range(t.ndim):
        before, after = int(pw[ax][0]), int(pw[ax][1])
        if before == after == 0:
            continue
        n = t.shape[ax]
        i = torch.arange(-before, n + after, device=t.device)
        if mode == "edge":
            i = i.clamp(0, n - 1)
        elif mode == "wrap":
            i = i % n
        elif n > 1:  # reflect about the end elements, not repeating them
            i = i % (2 * n - 2)
            i = torch.where(i < n, i, 2 * n - 2 - i)
        else:
            i = torch.zeros_like(i)
        t = t.index_select(ax, i)
    return t


@implements(np.shape)
def _shape(a):
    return tuple(tensor(a).shape)


@implements(np.ndim)
def _ndim(a):
    return tensor(a).ndim


def _numpy_view(x: Any) -> Any:
    """What NumPy's dtype queries read of an argument: a traced array's dtype; NumPy
    values and Python numbers (weak, NEP 50) as they are."""
    return TORCH_TO_NP[x.t.dtype] if isinstance(x, TracedArray) else x


@implements(np.iscomplexobj)
def _iscomplexobj(x):
    return (
        np.iscomplexobj(np.empty(0, _numpy_view(x)))
        if isinstance(x, TracedArray)
        else np.iscomplexobj(x)
    )


@implements(np.isrealobj)
def _isrealobj(x):
    return not _iscomplexobj(x)


@implements(np.result_type)
def _result_type(*arrays_and_dtypes):
    return np.result_type(*map(_numpy_view, arrays_and_dtypes))


@implements(np.size, axis="row")
def _size(a, axis=None):
    t = tensor(a)
    if axis is None:
        return t.numel()
    # NumPy 2's: an in-range axis, or a tuple of them (the product of their lengths)
    axes = normalise_axis(axis, t.ndim, many=True, name="size")
    return math.prod(t.shape[i] for i in axes) if isinstance(axes, tuple) else t.shape[axes]


@implements(np.copy, handles=("order", "subok"))
def _copy(a, order="K", subok=False):
    return tensor(a).clone()


@implements(np.rollaxis)
def _rollaxis(a, axis, start=0):
    t = tensor(a)
    n = t.ndim
    if not -n <= axis < n:
        raise np.exceptions.AxisError(axis, n)
    if not -n <= start <= n:  # start may be n: the axis goes last
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}, got {start}")
    axis, start = axis % n, start + n if start < 0 else start
    if axis < start:
        start -= 1
    return t.clone() if axis == start else torch.movedim(t, axis, start)


def _three_d(t: torch.Tensor) -> torch.Tensor:
    """np.atleast_3d of one array: (1, 1, 1), (1, N, 1), (M, N, 1)."""
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1, 1)
    return t.unsqueeze(-1) if t.ndim == 2 else t


@implements(np.atleast_3d)
def _atleast_3d(*arys):
    outs = [_three_d(tensor(a)) for a in arys]
    return outs[0] if len(outs) == 1 else tuple(outs)


@implements(np.dstack)
def _dstack(tup):
    ts = [_three_d(tensor(a)) for a in tup]
    if not ts:
        raise ValueError("need at least one array to concatenate")
    return torch.cat(common(*ts), 2)


def _split_along(ary, sections, axis: int, least: int, name: str):
    if tensor(ary).ndim < least:
        raise ValueError(f"{name} only works on arrays of {least} or more dimensions")
    return _split(ary, sections, axis, strict=True)


@implements(np.vsplit)
def _vsplit(ary, indices_or_sections):
    return _split_along(ary, indices_or_sections, 0, 2, "vsplit")


@implements(np.hsplit)
def _hsplit(ary, indices_or_sections):
    ndim = tensor(ary).ndim
    if ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split(ary, indices_or_sections, 1 if ndim > 1 else 0, strict=True)


@implements(np.dsplit)
def _dsplit(ary, indices_or_sections):
    return _split_along(ary, indices_or_sections, 2, 3, "dsplit")


@implements(np.column_stack)
def _column_stack(tup):
    ts = [tensor(a) for a in tup]
    ts = [t.reshape(-1, 1) if t.ndim < 2 else t for t in ts]
    return torch.cat(common(*ts), 1)


@implements(np.ediff1d)
def _ediff1d(ary, to_end=None, to_begin=None):
    """The differences in ``ary``'s dtype; to_begin= and to_end= (traced values too)
    are cast to it under NumPy's same_kind check."""
    t = tensor(ary).reshape(-1)
    no_bool_subtract(t)
    want = TORCH_TO_NP.get(t.dtype)
    parts = [t[1:] - t[:-1]]
    for edge, name in ((to_begin, "to_begin"), (to_end, "to_end")):
        if edge is None:
            continue
        e = tensor(edge)
        have = TORCH_TO_NP.get(e.dtype)
        if want is None or have is None:
            raise unsupported(f"np.ediff1d(..., {name}=) of {e.dtype} onto {t.dtype}")
        if not np.can_cast(have, want, casting="same_kind"):
            raise TypeError(
                f"dtype of `{name}` must be compatible with input `ary` under the `same_kind` rule."
            )
        e = e.reshape(-1).to(t.dtype)
        parts.insert(0, e) if name == "to_begin" else parts.append(e)
    return torch.cat(parts) if len(parts) > 1 else parts[0]


@implements(np.append, axis="row")
def _append(arr, values, axis=None):
    ta, tv = common(tensor(arr), tensor(values))
    if axis is None:
        return torch.cat([ta.reshape(-1), tv.reshape(-1)])
    return torch.cat([ta, tv], dim=axis)


@implements(np.rot90, view=True)
def _rot90(m, k=1, axes=(0, 1)):
    t = tensor(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    # NumPy's checks, in its order (a 0-d array's modulo would divide by zero)
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == t.ndim:
        raise ValueError("Axes must be different.")
    if any(not -t.ndim <= ax < t.ndim for ax in axes):
        raise ValueError(f"Axes={axes} out of range for array of ndim={t.ndim}.")
    if axes[0] % t.ndim == axes[1] % t.ndim:
        raise ValueError("Axes must be different.")
    # NumPy's k % 4, then 0, 1 and 2 as themselves and anything else (3, or a float
    # such as 1.5) through its k == 3 branch
    k = k % 4
    return torch.rot90(t, int(k) if k in (0, 1, 2) else 3, list(axes))


@implements(np.apply_along_axis)
def _apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """The user's function on each 1-d slice (a traced view of ``arr``, as NumPy's
    slice is a view), the results stacked as NumPy does: the first result's shape
    and dtype (later ones broadcast and cast into them), its axes where ``axis`` was."""
    if "dtype" in kwargs and isinstance(kwargs["dtype"], torch.dtype):
        kwargs["dtype"] = TORCH_TO_NP[kwargs["dtype"]]  # the normaliser's, given back
    a = arr if isinstance(arr, TracedArray) else TracedArray(tensor(arr))
    nd = a.ndim
    axis = normalise_axis(axis, nd, many=False, name="apply_along_axis")
    outer = a.shape[:axis] + a.shape[axis + 1 :]
    keys = [ind[:axis] + (slice(None),) + ind[axis:] for ind in np.ndindex(outer)]
    if not keys or 0 in outer:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    first = tensor(func1d(a[keys[0]], *args, **kwargs))
    results = [first]
    for key in keys[1:]:
        r = tensor(func1d(a[key], *args, **kwargs))
        if r.is_complex() and not first.is_complex():
            raise unsupported(
                "np.apply_along_axis of a function whose first result is real and a later "
                "one complex (NumPy drops the imaginary part with a warning)"
            )
        try:
            r = torch.broadcast_to(r.to(first.dtype), first.shape)
        except RuntimeError as e:
            raise ValueError(
                f"could not broadcast input array from shape {tuple(r.shape)} into shape "
                f"{tuple(first.shape)}"
            ) from e
        results.append(r)
    buff = torch.stack(results).reshape(outer + tuple(first.shape))
    dims = list(range(buff.ndim))
    cut = buff.ndim - first.ndim
    return buff.permute(dims[:axis] + dims[cut:] + dims[axis:cut])


# ------------------------------------------------------------------ delete
def _positions(obj: Any, name: str) -> np.ndarray:
    """``obj`` as NumPy reads it: a constant as is, a traced one read from the trace
    (its values decide the result's shape: refused under torch.func, torch.compile)."""
    if isinstance(obj, TracedArray) or id(obj) in STATE.lifted:
        if values_hidden():
            raise TraceError(
                f"{here()}: {name} needs obj's values (which places) here, which cannot "
                "be read under torch.func or torch.compile; give them as a NumPy array, "
                "or use mode='numeric'"
            )
        return tensor(obj).detach().cpu().numpy()
    return np.asarray(obj)


@implements(np.delete, axis="row")
def _delete(arr, obj, axis=None):
    """``arr`` without the entries ``obj`` names along ``axis`` (of the flat array for
    None): an int, a slice, integers (negative and repeated ones as NumPy), or a
    boolean mask of the axis' length.  The kept entries keep their gradient."""
    t = tensor(arr)
    if axis is None:
        t, axis = t.reshape(-1), 0
    else:
        axis = normalise_axis(axis, t.ndim, many=False, name="delete")
    n = t.shape[axis]
    keep = np.ones(n, bool)
    if isinstance(obj, slice):
        keep[obj] = False
    else:
        o = _positions(obj, "np.delete")
        if o.dtype == bool:
            if o.shape != (n,):
                raise ValueError(
                    "boolean array argument obj to delete must be one dimensional and "
                    f"match the axis length of {n}"
                )
            keep = ~o
        else:
            if o.size == 0 and not isinstance(obj, np.ndarray):
                o = o.astype(np.intp)  # an empty list deletes nothing
            if o.dtype.kind not in "iu":
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            o = o.reshape(-1)
            bad = (o < -n) | (o >= n)
            if bad.any():
                raise IndexError(
                    f"index {o[bad][0]} is out of bounds for axis {axis} with size {n}"
                )
            keep[o] = False
    return torch.index_select(t, axis, constant(np.flatnonzero(keep), t.device))


@implements(np.insert, axis="row")
def _insert(arr, obj, values, axis=None):
    """``values`` placed before the entries ``obj`` names along ``axis`` (of the flat
    array for None), cast to ``arr``'s dtype, by NumPy's two rules: one index inserts
    a block (a scalar index: values' first axis turned to ``axis``), several insert
    one entry each, values broadcast.  The gradient reaches arr and values alike."""
    t = tensor(arr)
    if axis is None:
        t, axis = t.reshape(-1), 0
    else:
        axis = normalise_axis(axis, t.ndim, many=False, name="insert")
    n = t.shape[axis]
    if isinstance(obj, slice):
        idx = np.arange(*obj.indices(n), dtype=np.intp)
    else:
        idx = _positions(obj, "np.insert")
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        elif idx.ndim > 1:
            raise ValueError("index array argument obj to insert must be one dimensional or scalar")
        elif idx.size == 0 and not isinstance(obj, np.ndarray):
            idx = idx.astype(np.intp)
    if idx.dtype.kind not in "iu":
        raise IndexError("arrays used as indices must be of integer (or boolean) type")
    bad = (idx < -n) | (idx > n)
    if bad.any():
        raise IndexError(f"index {idx[bad][0]} is out of bounds for axis {axis} with size {n}")
    check_fits(unwrap(values), t.dtype)  # 300 into int8: NumPy's OverflowError
    v = tensor(values)
    if v.is_complex() and not t.is_complex():
        raise unsupported("np.insert of complex values into a real array")
    v = v.to(t.dtype)
    idx = np.where(idx < 0, idx + n, idx).reshape(-1) if idx.ndim else idx + n * (idx < 0)
    if idx.size == 1:  # one block at one place
        v = v.reshape((1,) * (t.ndim - v.ndim) + tuple(v.shape))
        if idx.ndim == 0:
            v = v.movedim(0, axis)
        count = v.shape[axis]
        idx = np.full(count, int(idx.reshape(-1)[0]), dtype=np.intp)
    count = idx.shape[0]
    block = list(t.shape)
    block[axis] = count
    v = v.expand(block)
    # where each entry of the result comes from: arr's n entries, then the new ones
    idx = idx.astype(np.intp)
    idx[np.argsort(idx, kind="stable")] += np.arange(count)
    source = np.empty(n + count, np.intp)
    new = np.zeros(n + count, bool)
    new[idx] = True
    source[~new] = np.arange(n)
    source[idx] = n + np.arange(count)
    return torch.index_select(torch.cat([t, v], axis), axis, constant(source, t.device))
