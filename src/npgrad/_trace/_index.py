"""NumPy's indexing on tensors: keys made torch's, and negative slice steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._state import STATE, constant


def index_key(key: Any) -> Any:
    """A NumPy index key (TracedArrays already unwrapped to tensors) for torch."""
    if isinstance(key, tuple):
        keys = tuple(index_key(k) for k in key)
        if any(isinstance(k, torch.Tensor) and k.ndim for k in keys):
            # NumPy counts an integer beside an array index as an advanced index too
            # (x[0, :, [0, 1]] puts the broadcast dimension first); torch selects with
            # it first. As a one-element array it broadcasts the way NumPy's does.
            device = next(k.device for k in keys if isinstance(k, torch.Tensor) and k.ndim)
            keys = tuple(
                torch.tensor([int(k)], device=device)
                if isinstance(k, (int, np.integer)) and not isinstance(k, bool)
                else k
                for k in keys
            )
        return keys
    if isinstance(key, list) and not key:
        key = torch.empty(0, dtype=torch.int64, device=STATE.device)  # x[[]]
    elif isinstance(key, (np.ndarray, list)):
        key = constant(key)
    if isinstance(key, torch.Tensor) and key.dtype not in (torch.bool, torch.int64):
        if key.is_floating_point() or key.is_complex():
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        key = key.long()  # torch reads uint8 as a mask, and refuses int8 and int16
    return key


def _dims_taken(k: Any) -> int:
    """How many of the array's dimensions an index key consumes (not for ...)."""
    if k is None:
        return 0
    if isinstance(k, (slice, int, np.integer)):
        return 1
    dtype = k.dtype if isinstance(k, (torch.Tensor, np.ndarray)) else np.asarray(k).dtype
    if dtype in (torch.bool, np.bool_):
        return k.ndim if isinstance(k, (torch.Tensor, np.ndarray)) else np.asarray(k).ndim
    return 1


def negative_steps(t: torch.Tensor, key: Any) -> tuple[torch.Tensor, Any]:
    """Torch slices cannot step backwards: flip those dims first."""
    keys = key if isinstance(key, tuple) else (key,)
    if not any(isinstance(k, slice) and k.step is not None and k.step < 0 for k in keys):
        return t, key
    taken = [None if k is Ellipsis else _dims_taken(k) for k in keys]
    rest = t.ndim - sum(n for n in taken if n is not None)
    out = []
    dim = 0  # the input dimension the next key applies to
    for k, n in zip(keys, taken):
        if isinstance(k, slice) and k.step is not None and k.step < 0:
            size = t.shape[dim]
            idx = range(*k.indices(size))
            t = t.flip(dim)
            out.append(slice(size - 1 - idx[0], size - idx[-1], -k.step) if idx else slice(0, 0))
        else:
            out.append(k)
        dim += rest if n is None else n  # t is flipped first: keys keep their dims
    return t, tuple(out)


def plain_key(key: tuple) -> bool:
    """Ints, None, Ellipsis and forward slices only: torch's own indexing is NumPy's."""
    return all(k is None or k is Ellipsis or type(k) is int or type(k) is slice and k.step is None
               for k in key)  # fmt: skip
