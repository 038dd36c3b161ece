"""Tensor <-> array round trips on the host route (the dtype rules are ``_dtypes``).

What travels how:

* float16 and bfloat16 have no (or no exact) NumPy twin, so NumPy sees them as
  float32 and the result is cast back to the tensor's dtype.
* float32 and float64 pass through unchanged; on the CPU the array *is* the
  tensor's memory (no copy either way).
* A CUDA tensor is copied into pinned host memory, one synchronisation per device
  for all inputs, and results go back with a single host-to-device copy each.
* Integer and bool tensors are data (labels, masks): they travel as their own
  dtype and never get a gradient.
"""

from __future__ import annotations

import numpy as np
import torch

from ._dtypes import COMPUTE_DTYPE, NP_TO_TORCH, SAME_ON_HOST, numpy_dtype

PINNED_UPLOAD_BYTES = 1 << 16  # below this a plain copy is as fast


def to_numpy(tensors: list[torch.Tensor]) -> list[np.ndarray]:
    """Arrays for ``tensors``: views on the CPU, pinned host copies for CUDA.

    All device-to-host copies are queued first and waited for once.
    """
    arrays: list[np.ndarray] = []
    pending: set[torch.device] = set()  # CUDA devices with a copy in flight
    for t in tensors:
        if t.is_cpu and t.dtype in SAME_ON_HOST and not t.is_neg():
            # the common case in a few steps: the array is the tensor's memory
            a = (t.detach() if t.requires_grad else t).numpy()
            a.setflags(write=False)  # (half the cost of setting a.flags.writeable)
            arrays.append(a)
            continue
        # a lazy negation (``z.conj().imag`` is a real tensor with one) is applied
        # first: on the CPU numpy() refuses it, and on CUDA copy_ would negate the
        # host buffer before an asynchronous copy has filled it
        t = t.detach().resolve_conj().resolve_neg()
        dtype = t.dtype
        want = COMPUTE_DTYPE.get(dtype, dtype)
        if t.is_cpu:
            if dtype != want:
                t = t.to(want)
            a = t.numpy()
        elif t.is_cuda:
            host = torch.empty(t.shape, dtype=want, pin_memory=True)
            host.copy_(t, non_blocking=True)
            a = host.numpy()
            pending.add(t.device)
        else:
            # other accelerators: no pinned memory to offer, so a copy that blocks
            a = t.to("cpu", want).numpy()
        # read-only: an in-place edit in user code would otherwise change the caller's
        # tensor (or the copy the backward reuses) behind autograd's back
        a.flags.writeable = False
        arrays.append(a)
    for device in pending:
        # the copy was queued on that device's current stream, which need not be
        # the current device's
        torch.cuda.current_stream(device).synchronize()
    return arrays  # type: ignore[return-value]


def from_numpy(
    value: object,
    *,
    dtype: torch.dtype | None,
    device: torch.device,
    avoid: list[np.ndarray] = (),  # type: ignore[assignment]
) -> torch.Tensor:
    """A tensor on ``device`` with ``dtype`` (``None``: NumPy's own) from a NumPy result.

    ``avoid`` lists arrays whose memory the result must not share (the inputs), so
    that an op never hands back an alias of its own input.
    """
    arr = np.asarray(value)
    if arr.dtype == object:
        raise TypeError(f"expected a numeric array, got an array of Python objects: {value!r:.80}")
    if dtype is None:
        if arr.dtype not in NP_TO_TORCH:
            arr = arr.astype(np.float64) if arr.dtype.kind == "f" else arr.astype(np.int64)
        target = NP_TO_TORCH[arr.dtype]
    else:
        target = dtype
    # torch takes no negative strides (np.sort(x)[::-1]): a copy in C order
    negative = arr.ndim > 0 and min(arr.strides) < 0
    copy = (
        not arr.flags.writeable
        or negative
        or (len(avoid) > 0 and any(np.may_share_memory(arr, a) for a in avoid))
    )
    if arr.dtype not in NP_TO_TORCH:
        arr = arr.astype(numpy_dtype(target))
        copy = False
    if copy:
        arr = arr.copy(order="C") if negative else arr.copy()
    out = torch.from_numpy(arr)
    if device.type != "cpu":
        if out.dtype != target and target.itemsize < out.dtype.itemsize:
            out = out.to(target)  # cast on the host only when it shrinks the transfer
        if out.nbytes >= PINNED_UPLOAD_BYTES and device.type == "cuda":
            # through pinned memory, so the upload is asynchronous; torch's caching host
            # allocator keeps the buffer until the copy has finished
            staged = torch.empty(out.shape, dtype=out.dtype, pin_memory=True)
            staged.copy_(out)
            out = staged.to(device, non_blocking=True)
        else:
            out = out.to(device)
    return out if out.dtype == target else out.to(target)
