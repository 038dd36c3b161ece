"""Products and contractions: dot, matmul, tensordot, einsum, trace."""

from __future__ import annotations

import functools
import operator
import string
import warnings
from typing import Any

import numpy as np
import torch

from .._dtypes import to_int64
from .._trace._array import tensor
from .._trace._promote import common
from .._trace._registry import implements
from .._trace._state import here, shape_words, unsupported


def _bools(f, *ts):
    """NumPy's products of bools are bools (any of the ands); torch has no bool
    kernels for them: in int64, then nonzero."""
    if ts[0].dtype is torch.bool and all(t.dtype is torch.bool for t in ts):
        return f(*[t.to(torch.int64) for t in ts]) != 0
    return f(*ts)


def _dot_method(self, b, out=None):
    return np.dot(self, b, out=out)


def _misaligned(ta: torch.Tensor, tb: torch.Tensor) -> tuple[int, int] | None:
    """The contracted axes (a's last, b's last but one) where their lengths differ."""
    if ta.ndim == 0 or tb.ndim == 0:
        return None
    ka, kb = ta.ndim - 1, max(tb.ndim - 2, 0)
    return (ka, kb) if ta.shape[ka] != tb.shape[kb] else None


@implements(np.dot, methods=(("dot", _dot_method),))
def _dot(a, b, out=None):
    ta, tb = common(tensor(a), tensor(b))
    try:
        return _dot_kernel(ta, tb) if ta.dtype is not torch.bool else _bools(_dot_kernel, ta, tb)
    except RuntimeError:
        bad = _misaligned(ta, tb)
        if bad is None:
            raise
        ka, kb = bad  # NumPy's words, not torch's ("mat1 and mat2 shapes cannot be...")
        raise ValueError(
            f"{here()}: np.dot: shapes {shape_words(ta.shape)} and {shape_words(tb.shape)} "
            f"not aligned: {ta.shape[ka]} (dim {ka}) != {tb.shape[kb]} (dim {kb})"
        ) from None


def _dot_kernel(ta, tb):
    if ta.ndim == 0 or tb.ndim == 0:
        return ta * tb
    if ta.ndim == 1 and tb.ndim == 1:
        return torch.dot(ta, tb)
    if tb.ndim == 1 or ta.ndim <= 2 and tb.ndim <= 2:
        return torch.matmul(ta, tb)
    return torch.tensordot(ta, tb, dims=([-1], [-2]))


@implements(np.vdot)
def _vdot(a, b, /):
    ta, tb = common(tensor(a).reshape(-1), tensor(b).reshape(-1))
    return torch.vdot(ta, tb) if ta.is_complex() else _bools(torch.dot, ta, tb)


@implements(np.inner)
def _inner(a, b, /):
    return _bools(torch.inner, *common(tensor(a), tensor(b)))


@implements(np.outer)
def _outer(a, b, out=None):
    ta, tb = common(tensor(a), tensor(b))
    return torch.outer(ta.reshape(-1), tb.reshape(-1))


@implements(np.tensordot)
def _tensordot(a, b, axes=2):
    ta, tb = common(tensor(a), tensor(b))
    if isinstance(axes, (tuple, list)) and len(axes) == 2:
        # NumPy also takes one axis a side, axes=(1, 0); torch wants lists there
        axes = tuple([ax] if isinstance(ax, int) else list(ax) for ax in axes)
    return _bools(functools.partial(torch.tensordot, dims=axes), ta, tb)


def _sublist(labels) -> str:
    letters = string.ascii_letters
    out = []
    for v in labels:
        if v is Ellipsis:
            out.append("...")
        else:
            out.append(letters[int(v)])
    return "".join(out)


@implements(np.einsum, dtype="row", handles=("optimize",))
def _einsum(*operands, out=None, optimize=False, dtype=None, casting="safe"):
    if out is not None:
        raise unsupported("np.einsum(..., out=...)")
    if casting != "safe":
        raise unsupported(f"np.einsum(..., casting={casting!r})")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:
        # the sublist form: einsum(a, [0, 1], b, [1, 2], [0, 2])
        arrays = list(operands[0::2])
        labels = list(operands[1::2])
        if len(operands) % 2:  # an output sublist last
            arrays, out_labels = arrays[:-1], operands[-1]
            subscripts = ",".join(_sublist(lab) for lab in labels) + "->" + _sublist(out_labels)
        else:
            subscripts = ",".join(_sublist(lab) for lab in labels)
    ts = [tensor(a) for a in arrays]
    ts = [t.to(dtype) for t in ts] if dtype is not None else common(*ts)
    return _bools(functools.partial(torch.einsum, subscripts), *ts)


def _trace_method(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return np.trace(self, offset, axis1, axis2, dtype=dtype, out=out)


@implements(np.trace, dtype="row", methods=(("trace", _trace_method),), matrix="diag")
def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    t = torch.diagonal(tensor(a), offset, axis1, axis2)
    if dtype is not None and (dtype.is_floating_point or dtype.is_complex):
        return t.to(dtype).sum(-1)
    wide_t, unsigned = to_int64(t)  # torch has no uint16/32/64 sum
    r = wide_t.sum(-1)
    if dtype is not None:
        # NumPy sums in the integer dtype asked for: int64's sum, wrapped into it
        return r.to(dtype)
    # NumPy sums unsigned ints in uint64 (modulo 2**64, which int64's sum keeps)
    return r.to(torch.uint64) if unsigned is not None or t.dtype is torch.uint8 else r


@implements(np.matmul, operators=("__matmul__",), reflected=("__rmatmul__",))
def _matmul(a, b):
    try:
        return _bools(torch.matmul, a, b)
    except RuntimeError:
        bad = _misaligned(a, b)
        if bad is None:
            raise
        raise ValueError(
            f"{here()}: np.matmul: Input operand 1 has a mismatch in its core dimension 0, "
            f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {b.shape[bad[1]]} is "
            f"different from {a.shape[bad[0]]})"
        ) from None


if hasattr(np, "vecdot"):

    @implements(np.vecdot)
    def _vecdot(a, b):
        for i, t in enumerate((a, b)):
            if np.ndim(t) == 0:  # torch's would multiply numbers; NumPy's gufunc refuses
                raise ValueError(
                    f"vecdot: Input operand {i} does not have enough dimensions (has 0, "
                    "gufunc core with signature (n),(n)->() requires 1)"
                )
        if a.dtype is torch.bool:
            return (a & b).any(-1)
        if not (a.is_floating_point() or a.is_complex()):
            # torch's vecdot takes floats only; NumPy's keeps the integer dtype
            return (a * b).sum(-1, dtype=a.dtype)
        return torch.linalg.vecdot(a, b)


if hasattr(np, "matvec"):  # NumPy >= 2.2

    @implements(np.matvec)
    def _matvec(a, b):
        """A stack of matrices times a stack of vectors (no conjugate, as NumPy's)."""
        _core_dims("matvec", a, b, 2, 1)
        return _bools(torch.matmul, a, b.unsqueeze(-1))[..., 0]

    @implements(np.vecmat)
    def _vecmat(a, b):
        """A stack of vectors, conjugated (as NumPy's), times a stack of matrices."""
        _core_dims("vecmat", a, b, 1, 2)
        return _bools(torch.matmul, a.conj().unsqueeze(-2), b)[..., 0, :]

    def _core_dims(name: str, a: Any, b: Any, na: int, nb: int) -> None:
        """The gufunc's own check: each operand has its core dimensions, and they meet."""
        for i, (t, n) in enumerate(((a, na), (b, nb))):
            if getattr(t, "ndim", 0) < n:
                raise ValueError(
                    f"{name}: Input operand {i} does not have enough dimensions (has "
                    f"{getattr(t, 'ndim', 0)}, gufunc core with signature "
                    f"{'(m,n),(n)->(m)' if name == 'matvec' else '(n),(n,m)->(m)'} requires {n})"
                )


@implements(np.cross, axis="row")
def _cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    ta, tb = common(tensor(a), tensor(b))
    ta, tb = torch.movedim(ta, axisa, -1), torch.movedim(tb, axisb, -1)
    if ta.shape[-1] not in (2, 3) or tb.shape[-1] not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    if ta.shape[-1] == 2 or tb.shape[-1] == 2:
        # NumPy's own deprecation, so that code moving to 3-vectors is told here too
        warnings.warn(
            "Arrays of 2-dimensional vectors are deprecated. Use arrays of "
            "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
            DeprecationWarning,
            stacklevel=4,
        )
    if ta.shape[-1] == 2 and tb.shape[-1] == 2:
        return ta[..., 0] * tb[..., 1] - ta[..., 1] * tb[..., 0]
    ta, tb = (torch.nn.functional.pad(t, (0, 1)) if t.shape[-1] == 2 else t for t in (ta, tb))
    ta, tb = torch.broadcast_tensors(ta, tb)
    return torch.movedim(torch.linalg.cross(ta, tb, dim=-1), -1, axisc)


@implements(np.kron)
def _kron(a, b):
    return torch.kron(*common(tensor(a), tensor(b)))


def _mode(mode: Any, name: str) -> str:
    """NumPy's convolve/correlate mode: a name or 0, 1, 2; its errors, named."""
    if isinstance(mode, str):
        if mode in ("valid", "same", "full"):
            return mode
        if mode[:1].lower() in ("v", "s", "f"):  # NumPy's old abbreviations, refused
            raise ValueError(
                f"{name}: Use one of 'valid', 'same', or 'full' for convolve/correlate mode"
            )
        raise ValueError(f"{name}: mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
    if isinstance(mode, (bool, np.bool_)) or not hasattr(type(mode), "__index__"):
        raise TypeError(f"{name}: convolve/correlate mode not understood")
    key = operator.index(mode)
    if key not in (0, 1, 2):
        raise ValueError(f"{name}: integer convolve/correlate mode must be 0, 1, or 2")
    return ("valid", "same", "full")[key]


def _real_correlation(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """c[k] = sum_n a[n + k] * v[n] for every overlap, k from -(len(v) - 1) up."""
    m = v.numel()
    if not a.is_floating_point():
        if a.dtype is torch.bool:  # the any of the ands, NumPy's bool loop
            return (torch.nn.functional.pad(a, (m - 1, m - 1)).unfold(0, m, 1) & v).any(-1)
        # integers exactly, in int64 (every integer dtype's values, uint64's modulo
        # 2**64), wrapping as NumPy's own loop does in the input's dtype
        padded = torch.nn.functional.pad(a.to(torch.int64), (m - 1, m - 1))
        return (padded.unfold(0, m, 1) * v.to(torch.int64)).sum(-1).to(a.dtype)
    dtype = a.dtype
    padded = torch.nn.functional.pad(a, (m - 1, m - 1))
    if dtype in (torch.float16, torch.bfloat16):
        padded, v = padded.float(), v.float()  # conv1d's kernels: float32 and up
    out = torch.nn.functional.conv1d(padded.reshape(1, 1, -1), v.reshape(1, 1, -1))
    return out.reshape(-1).to(dtype)


def _full_correlation(a: torch.Tensor, v: torch.Tensor, *, conj: bool) -> torch.Tensor:
    """The full correlation of ``a`` with ``v`` (``conj``: with conj(v), np.correlate's;
    np.convolve correlates with the reversed v, unconjugated)."""
    if not a.is_complex():
        return _real_correlation(a, v)
    # (ar + i ai) * (vr +- i vi): four real correlations
    ar, ai, vr, vi = a.real, a.imag, v.real, v.imag
    rr, ii = _real_correlation(ar, vr), _real_correlation(ai, vi)
    ir, ri = _real_correlation(ai, vr), _real_correlation(ar, vi)
    return torch.complex(rr + ii, ir - ri) if conj else torch.complex(rr - ii, ir + ri)


def _moded(full: torch.Tensor, mode: str, n: int, m: int) -> torch.Tensor:
    """The slice of the full sequence NumPy returns for ``mode`` (inputs of lengths n
    and m, the second slid along the first)."""
    if mode == "full":
        return full
    if mode == "valid":
        return full[m - 1 : n] if n >= m else full[n - 1 : m]
    # NumPy slides the shorter input along the longer one: its centre differs by one
    # for an even length, depending on which input is the longer
    start = (m - 1) // 2 if n >= m else n // 2
    return full[start : start + max(n, m)]


@implements(np.convolve, handles=("mode",))
def _convolve(a, v, mode="full"):
    """NumPy's convolve: the correlation of ``a`` with ``v`` reversed (not conjugated),
    the shorter input slid along the longer; integers exact, as np.correlate's."""
    ta, tv = (t.reshape(1) if t.ndim == 0 else t for t in common(tensor(a), tensor(v)))
    if tv.shape[0] > ta.shape[0]:  # convolution commutes; NumPy slides the shorter one
        ta, tv = tv, ta
    if ta.shape[0] == 0:
        raise ValueError("a cannot be empty")
    if tv.shape[0] == 0:
        raise ValueError("v cannot be empty")
    if ta.ndim > 1 or tv.ndim > 1:
        raise ValueError("object too deep for desired array")
    mode = _mode(mode, "np.convolve")
    full = _full_correlation(ta, tv.flip(0), conj=False)
    return _moded(full, mode, ta.numel(), tv.numel())


@implements(np.correlate, handles=("mode",))
def _correlate(a, v, mode="valid"):
    """NumPy's c[k] = sum_n a[n + k] * conj(v[n]); 'same' and 'valid' take the slice of
    the full sequence NumPy does (centred on the longer input)."""
    ta, tv = common(tensor(a), tensor(v))
    if ta.ndim > 1 or tv.ndim > 1:
        raise ValueError("object too deep for desired array")
    if ta.ndim == 0 or tv.ndim == 0:
        raise ValueError("object of too small depth for desired array")
    if ta.numel() == 0:
        raise ValueError("first array argument cannot be empty")
    if tv.numel() == 0:
        raise ValueError("second array argument cannot be empty")
    mode = _mode(mode, "np.correlate")
    full = _full_correlation(ta, tv, conj=True)
    return _moded(full, mode, ta.numel(), tv.numel())
