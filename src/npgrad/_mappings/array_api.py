"""NumPy 2's array-API names: ``np.linalg.vector_norm``, ``matrix_norm``, ``vecdot``,
``cross``, ``svdvals``, ``cond``, ``matrix_rank``, ...; ``np.cumulative_sum``,
``np.matrix_transpose``, ``np.astype``.  NumPy 2 made them function objects of their
own beside the classic ones, so each needs a row; each row spells NumPy's checks of
the new name and runs the classic row's core (no second copy of its maths)."""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np
import torch

from .._errors import TraceError
from .._trace._array import TracedArray, tensor
from .._trace._promote import common
from .._trace._registry import implements, normalise_axis, square_matrix
from .._trace._state import here, values_hidden
from .contractions import _bools, _cross, _dot, _outer, _trace
from .linalg import _eigvalsh, _inv, _norm, _solve, _svd, back, single
from .reductions import _add_accumulate, _multiply_accumulate
from .selection import _diagonal

# ------------------------------------------------------------------------- norms


@implements(np.linalg.vector_norm, axis="row")
def _vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """np.linalg.norm's vector norm over one axis, a tuple of them (moved to the front
    and flattened, as NumPy does) or all; at a zero vector the gradient of the 2-norm
    is 0 and that of an inf/-inf norm at a tie is shared among the tied elements
    (torch's subgradients)."""
    t = tensor(x)
    shape = list(t.shape)
    if axis is None:
        flat, along = t.reshape(-1), None
    elif isinstance(axis, tuple):
        along = normalise_axis(axis, t.ndim, many=True, name="vector_norm")
        rest = [i for i in range(t.ndim) if i not in along]
        moved = t.permute(*along, *rest)
        size = functools.reduce(operator.mul, [shape[i] for i in along], 1)
        flat = moved.reshape(size, *[shape[i] for i in rest])
    else:
        along = (normalise_axis(axis, t.ndim, many=False, name="vector_norm"),)
        flat = torch.movedim(t, along[0], 0)
    r = _norm(flat, ord=ord, axis=0)
    if not keepdims:
        return r
    for i in range(len(shape)) if along is None else along:
        shape[i] = 1
    return r.reshape(shape)


@implements(np.linalg.matrix_norm)
def _matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """np.linalg.norm over the last two axes; 'nuc' and 2/-2 have torch's SVD
    gradient (at repeated singular values, torch's choice)."""
    t = tensor(x)
    if t.ndim < 2:  # NumPy's: its norm over axes (-2, -1)
        raise np.exceptions.AxisError(-2, t.ndim)
    _matrix_order(ord)
    return _norm(t, ord=ord, axis=(t.ndim - 2, t.ndim - 1), keepdims=keepdims)


def _matrix_order(ord: Any) -> None:
    # NumPy's own error (torch's would name its function)
    if ord not in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        raise ValueError("Invalid norm order for matrices.")


@implements(np.linalg.cond, matrix="stacked")
def _cond(x, p=None):
    """NumPy's ratio of extreme singular values (p None, 2, -2) or norm(x) * norm(inv(x))
    (the others), inf where NumPy's is (a singular matrix): no gradient there."""
    t = tensor(x)
    if t.ndim >= 2 and t.shape[-1] * t.shape[-2] == 0:
        raise np.linalg.LinAlgError("cond is not defined on empty arrays")
    if p is None or p in (2, -2):
        s = _svd(t, compute_uv=False)
        r = s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    else:
        square_matrix(t)
        _matrix_order(p)
        s = single(t)
        inv, info = torch.linalg.inv_ex(s)
        dims = (s.ndim - 2, s.ndim - 1)
        r = _norm(s, ord=p, axis=dims) * _norm(inv, ord=p, axis=dims)
        # NumPy's inverse of a singular matrix is nan, its condition number inf
        r = back(torch.where(info > 0, torch.inf, r), t.dtype)
    nan = torch.isnan(r) & ~torch.isnan(t).flatten(-2).any(-1)
    return torch.where(nan, torch.inf, r)


@implements(np.linalg.matrix_rank, differentiable=False)
def _matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """The count of singular values above NumPy's cut (an integer: no gradient)."""
    if rtol is not None and tol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    t = tensor(A).detach()
    if t.ndim < 2:
        if values_hidden():
            raise TraceError(
                f"{here()}: np.linalg.matrix_rank of a {t.ndim}-d array is a Python int "
                "read from the values, which cannot be read under torch.func or "
                "torch.compile; use np.any(a != 0)"
            )
        return int(bool((t != 0).any()))
    # NumPy's hermitian rank reads the eigenvalues of the lower triangle
    s = _eigvalsh(t).abs() if hermitian else _svd(t, compute_uv=False)
    if tol is None:
        if rtol is None:
            rtol = max(t.shape[-2:]) * torch.finfo(s.dtype).eps
        else:
            rtol = tensor(rtol).detach()[..., None]
        top = s.amax(-1, keepdim=True) if s.shape[-1] else s.new_zeros(*s.shape[:-1], 1)
        tol = top.clamp(min=0) * rtol
    else:
        tol = tensor(tol).detach()[..., None]
    return (s > tol).sum(-1)


# ---------------------------------------------------------------- products, solves


@implements(np.linalg.vecdot, axis="row")
def _linalg_vecdot(x1, x2, /, *, axis=-1):
    """np.vecdot over ``axis`` of each input (the first one conjugated)."""
    a, b = _traced(x1), _traced(x2)
    if axis != -1:
        # a generalised ufunc's axis= counts in each operand's own dimensions
        a = np.moveaxis(a, normalise_axis(axis, a.ndim, many=False, name="vecdot"), -1)
        b = np.moveaxis(b, normalise_axis(axis, b.ndim, many=False, name="vecdot"), -1)
    return np.vecdot(a, b)


def _traced(x: Any) -> TracedArray:
    """An operand as a traced array, so that NumPy's ufunc reaches its row."""
    return x if isinstance(x, TracedArray) else TracedArray(tensor(x))


@implements(np.linalg.matmul)
def _linalg_matmul(x1, x2, /):
    """np.matmul (its promotion and bool rule)."""
    return np.matmul(_traced(x1), _traced(x2))


@implements(np.linalg.outer)
def _linalg_outer(x1, x2, /):
    ta, tb = tensor(x1), tensor(x2)
    if ta.ndim != 1 or tb.ndim != 1:
        raise ValueError(
            "Input arrays must be one-dimensional, but they are "
            f"x1.ndim={ta.ndim} and x2.ndim={tb.ndim}."
        )
    return _outer(ta, tb)


@implements(np.linalg.cross, axis="row")
def _linalg_cross(x1, x2, /, *, axis=-1):
    """np.cross of 3-vectors only (NumPy 2's linalg.cross refuses 2-vectors)."""
    ta, tb = tensor(x1), tensor(x2)
    na, nb = ta.shape[axis], tb.shape[axis]  # out of range: NumPy's IndexError too
    if na != 3 or nb != 3:
        raise ValueError(
            "Both input arrays must be (arrays of) 3-dimensional vectors, "
            f"but they are {na} and {nb} dimensional instead."
        )
    return _cross(ta, tb, axis=axis)


@implements(np.linalg.multi_dot)
def _multi_dot(arrays, *, out=None):
    """np.dot chained; NumPy's order of products (the cheapest) is torch's too."""
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    if len(arrays) == 2:
        return _dot(arrays[0], arrays[1])
    ts = common(*[tensor(a) for a in arrays])
    for i, t in enumerate(ts):
        if t.ndim != 2 and not (t.ndim == 1 and i in (0, len(ts) - 1)):
            raise np.linalg.LinAlgError(
                f"{t.ndim}-dimensional array given. Array must be two-dimensional"
            )
    return _bools(lambda *m: torch.linalg.multi_dot(m), *ts)


@implements(np.linalg.tensorsolve)
def _tensorsolve(a, b, axes=None):
    """np.linalg.solve of a and b flattened to a matrix and a vector, as NumPy."""
    ta, tb = tensor(a), tensor(b)
    an = ta.ndim
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        ta = ta.permute(*order)
    shape = tuple(ta.shape)[-(an - tb.ndim) :]
    size = functools.reduce(operator.mul, shape, 1)
    if ta.numel() != size**2:
        raise np.linalg.LinAlgError(
            "Input arrays must satisfy the requirement "
            "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])"
        )
    return _solve(ta.reshape(size, size), tb.reshape(-1)).reshape(shape)


@implements(np.linalg.tensorinv)
def _tensorinv(a, ind=2):
    t = tensor(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = tuple(t.shape)
    size = functools.reduce(operator.mul, shape[ind:], 1)
    flat = t.reshape(size, -1)
    square_matrix(flat)  # NumPy's words, not torch's inv's
    return _inv(flat).reshape(*shape[ind:], *shape[:ind])


@implements(np.linalg.svdvals, matrix="stacked")
def _svdvals(x, /):
    return _svd(x, compute_uv=False)


# -------------------------------------------------------------------- matrix views


@implements(np.linalg.trace, dtype="row", matrix="diag")
def _linalg_trace(x, /, *, offset=0, dtype=None):
    return _trace(x, offset, -2, -1, dtype=dtype)


@implements(np.linalg.diagonal, matrix="diag")
def _linalg_diagonal(x, /, *, offset=0):
    return _diagonal(x, offset, -2, -1)


@implements(np.linalg.matrix_transpose)
@implements(np.matrix_transpose)
def _matrix_transpose(x, /):
    """The last two axes swapped (a view, as NumPy's)."""
    t = tensor(x)
    if t.ndim < 2:
        raise ValueError(f"Input array must be at least 2-dimensional, but it is {t.ndim}")
    return t.mT


# ------------------------------------------------------------------------ top level


def _cumulative(kernel, x, axis, dtype, include_initial, identity: int) -> torch.Tensor:
    """NumPy's cumulative_sum/prod: ufunc.accumulate (its dtypes), then, with
    include_initial, the identity first along the axis."""
    t = tensor(x)
    if t.ndim == 0:
        t = t.reshape(1)
    if axis is None:
        if t.ndim >= 2:
            raise ValueError(
                "For arrays which have more than one dimension ``axis`` argument is required."
            )
        axis = 0
    axis = normalise_axis(axis, t.ndim, many=False, name="cumulative")
    r = kernel(t, axis, dtype)
    if not include_initial:
        return r
    shape = list(r.shape)
    shape[axis] = 1
    return torch.cat([r.new_full(shape, identity), r], dim=axis)


@implements(np.cumulative_sum, axis="row", dtype="row")
def _cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    return _cumulative(_add_accumulate, x, axis, dtype, include_initial, 0)


@implements(np.cumulative_prod, axis="row", dtype="row")
def _cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    return _cumulative(_multiply_accumulate, x, axis, dtype, include_initial, 1)


@implements(np.astype)
def _astype(x, dtype, /, *, copy=True, device=None):
    """ndarray.astype (copy=False gives the input itself where the dtype is its own)."""
    if not isinstance(x, (TracedArray, np.ndarray)) and not np.isscalar(x):
        raise TypeError(f"Input should be a NumPy array or scalar. It is a {type(x)} instead.")
    if device is not None and device != "cpu":
        raise ValueError(f'Device not understood. Only "cpu" is allowed, but received: {device}')
    return _traced(x).astype(dtype, copy=copy)
