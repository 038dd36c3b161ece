"""CUDA-only checks (skipped without a GPU): round trips, copies, the target's gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad
from npgrad.losses import mse, mse_auto

from .conftest import FLOAT_DTYPES, TOL

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("loss", [mse, mse_auto], ids=["numpy", "auto"])
def test_round_trip_dtype_device_and_target_gradient(dtype, loss):
    x = torch.rand(64, 784, device="cuda", dtype=dtype, requires_grad=True)
    t = torch.rand(64, 784, device="cuda", dtype=dtype, requires_grad=True)
    rx, rt = (v.detach().clone().requires_grad_() for v in (x, t))
    out, ref = loss(x, t), torch.nn.functional.mse_loss(rx, rt)
    assert out.device.type == "cuda" and out.dtype == dtype
    torch.testing.assert_close(out, ref, **TOL[dtype])
    out.backward()
    ref.backward()
    assert t.grad is not None and t.grad.device.type == "cuda" and t.grad.dtype == dtype
    torch.testing.assert_close(x.grad, rx.grad, **TOL[dtype])
    torch.testing.assert_close(t.grad, rt.grad, **TOL[dtype])


def _copies(fn) -> list[str]:
    from torch.profiler import ProfilerActivity, profile

    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    return [e.name for e in prof.events() if "Memcpy" in e.name]


def _step(criterion):
    x = torch.rand(256, 784, device="cuda", requires_grad=True)
    t = torch.rand(256, 784, device="cuda")

    def step():
        x.grad = None
        criterion(x, t).backward()

    return step


def test_auto_mode_makes_no_host_copy():
    assert _copies(_step(mse_auto)) == []


def test_numpy_mode_copies_through_the_host_and_back():
    names = _copies(_step(mse))
    assert any("DtoH" in n for n in names) and any("HtoD" in n for n in names)


@npgrad.function
def _cumsum_and_sum(a):
    return np.cumsum(a, axis=1), a.sum()


@_cumsum_and_sum.backward
def _(g, a, out):
    gc, gs = g
    return np.flip(np.cumsum(np.flip(gc, 1), axis=1), 1) + gs


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_numpy_mode_outputs_and_gradient_return_to_the_device(dtype):
    # 128 KiB of float32 goes up through pinned staging, the 0-d sum by a plain copy
    x = torch.rand(128, 256, device="cuda", dtype=dtype, requires_grad=True)
    c, s = _cumsum_and_sum(x)
    for out in (c, s):
        assert out.device == x.device and out.dtype == dtype
    ref = x.detach().double().requires_grad_()
    rc, rs = ref.cumsum(1), ref.sum()
    torch.testing.assert_close(c, rc.to(dtype), **TOL[dtype])
    torch.testing.assert_close(s, rs.to(dtype), **TOL[dtype])
    (c.sum() + s).backward()
    (rc.sum() + rs).backward()
    assert x.grad.device == x.device and x.grad.dtype == dtype
    torch.testing.assert_close(x.grad, ref.grad.to(dtype), **TOL[dtype])
