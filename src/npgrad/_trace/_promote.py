"""NumPy's promotion on tensors: the common dtype of arrays, a NumPy or Python
scalar as the 0-d tensor NumPy would treat it as, NumPy 2's integer range check.

Nothing here knows of traced arrays: the ufunc core and the rows call these with
tensors and Python numbers.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from .. import _dtypes
from .._dtypes import INT_TO_FLOAT, NARROW, NP_TO_TORCH, TORCH_TO_NP, is_inexact, result_type
from ._registry import Row
from ._state import STATE, constant, number_tensor, values_hidden, wide


def numpy_scalar(x: Any) -> torch.Tensor:
    """A NumPy scalar (or 0-d array) as a 0-d tensor of its dtype: NumPy 2 counts its
    dtype in promotion (NEP 50: ``float32_array * np.float64(2)`` is float64), which a
    Python number would not.  On the host: TensorIterator takes a 0-d CPU tensor
    beside any device's tensors without a copy."""
    if STATE.device.type in _dtypes.NO_FLOAT64 and x.dtype in NARROW:
        x = x.astype(NARROW[x.dtype])
    return (
        torch.tensor(x.item(), dtype=NP_TO_TORCH[x.dtype]) if x.dtype in NP_TO_TORCH else x.item()
    )


def common(*ts: Any) -> list[Any]:
    """Tensors (and Python numbers, weak) in NumPy's common dtype (``np.result_type``),
    for functions that combine arrays (concatenate, dot, einsum, ...)."""
    if len(ts) == 2 and isinstance(ts[0], torch.Tensor) and isinstance(ts[1], torch.Tensor):
        if ts[0].dtype is ts[1].dtype:
            return list(ts)  # one dtype is its own result type
    elif any(type(t) is int for t in ts):
        check_int_range(ts)
    want = result_type(*ts, device_type=STATE.device.type)
    return [t.to(want) if isinstance(t, torch.Tensor) and t.dtype != want else t for t in ts]


def check_int_range(args: Any) -> None:
    """NumPy 2 refuses a Python integer its array's dtype cannot hold; torch would
    wrap it around silently."""
    ints = [a.dtype for a in args if isinstance(a, torch.Tensor)]
    if not ints or any(is_inexact(d) or d is torch.bool for d in ints):
        return
    widest = max(ints, key=lambda d: torch.iinfo(d).bits)
    for a in args:
        check_fits(a, widest)


def check_fits(v: Any, dtype: torch.dtype) -> None:
    """A Python int (or each in a nested list of them) must fit an integer ``dtype``
    (NEP 50's OverflowError)."""
    if type(v) in (list, tuple):
        for x in v:
            check_fits(x, dtype)
    elif type(v) is int and not (is_inexact(dtype) or dtype is torch.bool):
        info = np.iinfo(TORCH_TO_NP[dtype])  # exact bounds (torch's uint64 max is a float)
        if not info.min <= v <= info.max:
            raise OverflowError(f"Python integer {v} out of bounds for {info.dtype}")


def scalar_tensor(v: Any, ref: torch.Tensor) -> torch.Tensor:
    """A Python scalar as a 0-d CPU tensor of the dtype NumPy would give it beside
    ``ref``: TensorIterator passes it to any device's kernel without a copy."""
    if isinstance(v, (bool, int, float, complex)):
        return number_tensor(v, ref.dtype)
    return constant(v, ref.device)  # a list or array is no scalar: to the device


def as_float(t: Any, division: bool = False) -> Any:
    if isinstance(t, torch.Tensor) and not is_inexact(t.dtype):
        return t.to(wide() if division else INT_TO_FLOAT.get(t.dtype) or wide())
    return t


FLOATING = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64})
# an integer beside a float: torch promotes it, even 0-d, as NumPy does where they agree
INTS = frozenset({torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8})


def promoted(row: Row, a: torch.Tensor, b: torch.Tensor) -> tuple:
    """Two tensors in NumPy's result dtype (one not floating: the caller declines)."""
    dtype = result_type(a, b, device_type=STATE.device.type)
    if dtype in FLOATING and not (
        row.mixed and (a.dtype in INTS and b.dtype is dtype or b.dtype in INTS and a.dtype is dtype)
    ):
        a, b = a.to(dtype), b.to(dtype)
    return a, b, dtype


def past_int64(args: list) -> bool:
    """Whether a uint64 operand (int64 bits here) holds a value from 2**63; under
    torch.func or torch.compile, where values cannot be read, assumed so."""
    if values_hidden():
        return True
    return any(bool((a < 0).any()) if isinstance(a, torch.Tensor) else a < 0 for a in args)


@functools.cache
def has_complex_loop(ufunc: Any) -> bool:
    """Whether NumPy's ufunc has a loop taking complex inputs (a SciPy ufunc's too)."""
    types = getattr(ufunc, "types", None)
    if types is None:
        return True  # not a NumPy ufunc: the row decides
    return any(c in "FDG" for t in types for c in t.split("->")[0])


@functools.cache
def half_loop(ufunc: Any) -> torch.dtype | None:
    """The dtype NumPy computes a float16 call of ``ufunc`` in, where it has no float16
    loop (SciPy's ufuncs mostly: the first loop float16 casts to safely, float64 for
    ``expit``, float32 for ``exp1``); None where it has one, or is no NumPy ufunc."""
    types = getattr(ufunc, "types", None)
    if not types or any(set(t.split("->")[0]) == {"e"} for t in types):
        return None
    for t in types:
        ins, out = t.split("->")
        if all(c in "fdg" for c in ins):  # float16 casts safely to each
            return {"f": torch.float32}.get(out[0], torch.float64)
    return None


def no_bool_subtract(t: torch.Tensor) -> None:
    """NumPy has no boolean subtract loop: its TypeError, for the functions that
    subtract their input (np.ptp, np.ediff1d, np.polysub)."""
    if t.dtype is torch.bool:
        raise TypeError(
            "numpy boolean subtract, the `-` operator, is not supported, use the "
            "bitwise_xor, the `^` operator, or the logical_xor function instead."
        )
