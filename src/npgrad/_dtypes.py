"""Every dtype table and rule, in one place.

* torch <-> NumPy twins for bool, every integer (uint16/32/64 included), the floats
  and complex; bfloat16 has no NumPy twin, NumPy code sees it as float32.
* The compute dtypes of the host route: float16 and bfloat16 compute in float32
  there, float32 and float64 as they are.
* NumPy 2's promotion (``np.result_type`` with NEP 50's weak Python scalars), for
  tensors: the one rule every mapping follows.
* Devices without float64 (MPS): NumPy's float64 becomes float32 there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

# torch dtype -> the NumPy dtype NumPy code sees for it
TORCH_TO_NP: dict[torch.dtype, np.dtype] = {
    torch.bool: np.dtype(np.bool_),
    torch.uint8: np.dtype(np.uint8),
    torch.int8: np.dtype(np.int8),
    torch.int16: np.dtype(np.int16),
    torch.int32: np.dtype(np.int32),
    torch.int64: np.dtype(np.int64),
    torch.float16: np.dtype(np.float16),
    torch.bfloat16: np.dtype(np.float32),  # NumPy has no bfloat16: the nearest it knows
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
    torch.complex64: np.dtype(np.complex64),
    torch.complex128: np.dtype(np.complex128),
}
for _name in ("uint16", "uint32", "uint64"):  # torch >= 2.3 has them (few kernels)
    if hasattr(torch, _name):
        TORCH_TO_NP[getattr(torch, _name)] = np.dtype(_name)

NP_TO_TORCH: dict[np.dtype, torch.dtype] = {
    n: t for t, n in TORCH_TO_NP.items() if t is not torch.bfloat16
}

# uint64 computes in int64, whose upper half are the negatives: an XOR with the sign
# bit (its own inverse) maps uint64's order onto int64's, for max, min, the
# comparisons and clip (sums and products need no such thing: modulo 2**64 alike)
INT64_SIGN = -(2**63)


def ordered_int64(x):
    """A uint64 value computed in int64, as an int64 of the same order (a tensor
    already cast to int64, or a Python int of uint64's range)."""
    if type(x) is int and x >= 2**63:
        x -= 2**64
    return x ^ INT64_SIGN


# the unsigned integers torch stores but barely computes with: widened on entry
UNSIGNED_WIDE = {
    t: torch.int64
    for t in TORCH_TO_NP
    if t not in (torch.uint8,) and str(t).startswith("torch.uint")
}


def to_int64(t, *, ordered: bool = False):
    """``(t, None)`` for a tensor torch computes in; for uint16/32/64 (few torch
    kernels) ``(t as int64, its dtype)``, which holds every uint16/32 value and
    uint64's modulo 2**64 (sums, products).  ``ordered``: uint64's order kept too, by
    the sign flip (max, min, comparisons, sorts).  :func:`from_int64` undoes it."""
    unsigned = t.dtype if t.dtype in UNSIGNED_WIDE else None
    if unsigned is None:
        return t, None
    t = t.to(torch.int64)
    return (ordered_int64(t) if ordered and unsigned is torch.uint64 else t), unsigned


def from_int64(r, unsigned, *, ordered: bool = False):
    """An int64 result of :func:`to_int64`'s tensor back in ``unsigned`` (None: as it is)."""
    if unsigned is None:
        return r
    return (ordered_int64(r) if ordered and unsigned is torch.uint64 else r).to(unsigned)


# torch dtype that NumPy computes in on the host route, for each floating dtype
COMPUTE_DTYPE: dict[torch.dtype, torch.dtype] = {
    torch.float16: torch.float32,
    torch.bfloat16: torch.float32,
    torch.float32: torch.float32,
    torch.float64: torch.float64,
}
SAME_ON_HOST = (torch.float32, torch.float64)  # NumPy computes in these as they are
HALF = (torch.float16, torch.bfloat16)  # computed in float32 on the host

# device types with no float64, NumPy's default float: there NumPy's float64 constants
# and promotions use float32 (and complex64) instead of failing
NO_FLOAT64 = frozenset({"mps"})
NARROW = {
    np.dtype(np.float64): np.dtype(np.float32),
    np.dtype(np.complex128): np.dtype(np.complex64),
}

# the float NumPy computes in for integer and bool input: the smallest that holds it
INT_TO_FLOAT = {
    torch.bool: torch.float16,
    torch.int8: torch.float16,
    torch.uint8: torch.float16,
    torch.int16: torch.float32,
    torch.uint16: torch.float32,
}


def is_differentiable(t: torch.Tensor) -> bool:
    """True for the dtypes that can carry a gradient through npgrad."""
    return t.dtype in COMPUTE_DTYPE


def is_inexact(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point or dtype.is_complex


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype NumPy sees for a tensor of ``dtype`` on the host route."""
    return COMPUTE_DTYPE.get(dtype, dtype)


_NUMPY_DTYPE: dict[torch.dtype, np.dtype] = {}


def numpy_dtype(dtype: torch.dtype) -> np.dtype:
    """The NumPy dtype host NumPy code sees for a tensor of ``dtype``.

    >>> numpy_dtype(torch.bfloat16)
    dtype('float32')
    """
    got = _NUMPY_DTYPE.get(dtype)
    if got is None:
        got = _NUMPY_DTYPE[dtype] = TORCH_TO_NP[compute_dtype(dtype)]
    return got


def torch_dtype(dtype: Any, where: str = "npgrad") -> torch.dtype | None:
    """The torch twin of a NumPy dtype (or dtype-like); ``None`` stays ``None``.

    >>> torch_dtype("float32")
    torch.float32
    """
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        nd = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{where}: {dtype!r} is not a dtype") from e
    got = NP_TO_TORCH.get(nd)
    if got is None:
        raise TypeError(f"{where}: dtype {nd} has no torch twin")
    return got


_RESULT: dict[tuple, torch.dtype | None] = {}
_UNKNOWN = object()


def result_type(*operands: Any, device_type: str = "cpu") -> torch.dtype | None:
    """NumPy 2's result dtype for tensors and Python scalars (weak, NEP 50).

    ``None`` when no operand is a tensor.  bfloat16, which NumPy lacks, follows
    torch's own promotion.

    >>> result_type(torch.ones(1, dtype=torch.int64), torch.ones(1))
    torch.float64
    >>> result_type(torch.ones(1, dtype=torch.float32), 2.0)
    torch.float32
    """
    # a flat tuple of dtypes and types: built and looked up in well under a microsecond
    key = (device_type, *[o.dtype if isinstance(o, torch.Tensor) else type(o) for o in operands])
    got = _RESULT.get(key, _UNKNOWN)
    if got is not _UNKNOWN:
        return got
    dtypes = [o.dtype for o in operands if isinstance(o, torch.Tensor)]
    if not dtypes:
        _RESULT[key] = None
        return None
    if torch.bfloat16 in dtypes:
        want = dtypes[0]
        for d in dtypes[1:]:
            want = torch.promote_types(want, d)
        if any(type(o) is complex for o in operands) and not want.is_complex:
            want = torch.complex64
    else:
        parts: list[Any] = [TORCH_TO_NP[d] for d in dtypes]
        # NumPy 2 reads Python scalars as weak: the value's kind, not its width
        parts += [
            {bool: False, int: 0, float: 0.0, complex: 0j}[type(o)]
            for o in operands
            if type(o) in (bool, int, float, complex)
        ]
        want = NP_TO_TORCH[np.result_type(*parts)]
    if device_type in NO_FLOAT64:
        want = {torch.float64: torch.float32, torch.complex128: torch.complex64}.get(want, want)
    _RESULT[key] = want
    return want
